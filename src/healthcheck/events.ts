/**
 * What the health-check side tells the rest of tslvsd. The IPVS reconciler needs only `realServer`
 * events: each one is the desired state of one destination of one virtual server.
 */
export interface RealServerChange {
  kind: 'realServer';
  virtualServer: string;
  realServer: string;
  /** All its checkers are UP (for the sorry server: it is in use). */
  alive: boolean;
  /** Whether the destination belongs in the IPVS table at all. */
  inTable: boolean;
  /** IPVS weight while in the table (0 = inhibited). */
  weight: number;
  /** True for the virtual server's sorry_server. */
  sorryServer: boolean;
  reason: string;
}

export interface QuorumChange {
  kind: 'quorum';
  virtualServer: string;
  up: boolean;
  /** Sum of the weights of alive real servers when it changed. */
  liveWeight: number;
  threshold: number;
}

export type HealthEvent = RealServerChange | QuorumChange;

export interface CheckerSnapshot {
  type: string;
  up: boolean;
  hasRun: boolean;
  retryIt: number;
  /** Duration of the last completed probe, ms (null before the first). */
  lastDurationMs: number | null;
  lastReason: string | null;
  checks: number;
  failures: number;
}

export interface RealServerSnapshot {
  key: string;
  alive: boolean;
  inTable: boolean;
  weight: number;
  reason: string;
  checkers: CheckerSnapshot[];
}

export interface VirtualServerSnapshot {
  key: string;
  quorumUp: boolean;
  liveWeight: number;
  quorum: number;
  hysteresis: number;
  sorryActive: boolean;
  realServers: RealServerSnapshot[];
}

export interface HealthCounters {
  /** Probes completed (any result). */
  probes: number;
  /** Probes that failed. */
  probeFailures: number;
  /** Probes that never answered within their budget and were abandoned. */
  probesHung: number;
  /** Probes whose implementation threw or rejected (a bug contained, counted as a failure). */
  probesThrew: number;
  /** Notify/quorum scripts started. */
  scriptsRun: number;
  /** Checks launched more than BEHIND_SCHEDULE_MS after their due time: the checker cannot keep up. */
  behindSchedule: number;
  /** Failing verdicts not counted because the checker was starved when it took them (re-measured). */
  verdictsDeferred: number;
}

export interface HealthSnapshot {
  virtualServers: VirtualServerSnapshot[];
  counters: HealthCounters;
  /** Worst lateness (ms) of a check launch over the last 10–20 s (see HealthCheckEngine.scheduleLatenessMs). */
  scheduleLatenessMs?: number | undefined;
}
