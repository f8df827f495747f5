import type { ConfigModel, RealServer, VirtualServer } from '../config/model.js';
import type { QuorumChange, RealServerChange } from '../healthcheck/events.js';
import type { HealthCheckPlan } from '../healthcheck/plan.js';
import type { KnownDestination } from '../healthcheck/service.js';
import type { HealthSnapshotView } from '../healthcheck/snapshotView.js';
import type { CheckerScheduleSnapshot, HealthMetricsSource, RealServerSnapshot, VirtualServerSnapshot } from '../metrics/sources.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { keepalivedTrio, keepalivedVsName, type KeepalivedNames } from '../util/keepalivedWording.js';
import { logTransition, type Logger } from '../util/log.js';
import { destinationKey, realServerKey, virtualServerKey } from '../config/keys.js';
import type { ConfigDiff } from './configDiff.js';
import type { DaemonPart } from './parts.js';

/** What the health part needs of the health-check room's service (HealthCheckService fits). */
export interface HealthRunner {
  start(plan: HealthCheckPlan): void;
  /** Resolves when the started checks' code is loaded on the daemon's thread (if they run there). */
  loaded?(): Promise<void>;
  reload(plan: HealthCheckPlan): void;
  stop(): Promise<void>;
  /** The checkers' detail, read in place (see HealthSnapshotView); null when a worker did not answer. */
  snapshotView(timeoutMs?: number): Promise<HealthSnapshotView | null>;
  onChange(listener: (c: RealServerChange) => void): () => void;
  onQuorum(listener: (c: QuorumChange) => void): () => void;
  readonly known: ReadonlyMap<string, ReadonlyMap<string, KnownDestination>>;
  readonly quorum: ReadonlyMap<string, boolean>;
}

export interface HealthPartOptions {
  runner: HealthRunner;
  plan: (model: ConfigModel) => HealthCheckPlan;
  /** Where destination decisions go (the IPVS part). */
  onRealServerChange: (change: RealServerChange) => void;
  /** `count` completed probes that took `seconds` (the metrics' duration histogram), in one call. */
  observeCheckDuration: (checkerType: string, seconds: number, count: number) => void;
  clock: Clock;
  logger: Logger;
  /** Real-server and quorum transitions, with the config objects they are about (the notify FIFOs). */
  transitions?: HealthTransitionSink;
  /** How often the per-checker detail is fetched from the checker worker (default 5 s). */
  snapshotIntervalMs?: number;
  /**
   * A virtual server's quorum may have changed or become known: after every quorum event and every
   * snapshot (the announce part reads quorumOf then).
   */
  onQuorumSeen?: () => void;
}

export interface HealthTransitionSink {
  virtualServer(vs: VirtualServer, up: boolean): void;
  realServer(vs: VirtualServer, rs: RealServer, alive: boolean): void;
}

/**
 * The health-check part: starts the checks (in their worker) after IPVS, hands every destination decision
 * to IPVS, logs each real-server transition as one line, and keeps a recent per-checker snapshot for the
 * status and the metrics (the worker answers asynchronously; scrapes and `tslvsd status` must not wait).
 * A reload that leaves every virtual server alone does not touch the checks; otherwise the service's
 * reload keeps the state of unchanged real servers.
 */
export class HealthPart implements DaemonPart, HealthMetricsSource {
  readonly name = 'healthcheck';
  private unsubscribe: Array<() => void> = [];
  private timer: TimerHandle | undefined;
  private latest: HealthSnapshotView | undefined;
  /** The latest snapshot's quorum per virtual server (before any quorum event, the only word on it). */
  private snapshotQuorum = new Map<string, boolean>();
  /** When the last snapshot request started (see scheduleSnapshot). */
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  /** When the armed snapshot timer fires. */
  private timerDueAt = 0;
  private running = false;
  private fetching = false;
  private refetch = false;
  /** Last alive state logged per `VS/RS`. */
  private readonly alive = new Map<string, boolean>();
  /** The current config's virtual servers and their real servers, by the keys the health events carry. */
  private servers = new Map<string, { vs: VirtualServer; realServers: Map<string, RealServer> }>();
  /** Virtual servers whose quorum state has been written once (the notify FIFOs' first VS line). */
  private readonly announced = new Set<string>();
  private readonly pendingVsLines: { vs: VirtualServer; up: boolean }[] = [];
  /** The behind-schedule count at the last warning, and when it was logged (one line a minute at most). */
  private warnedBehind = 0;
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: HealthPartOptions) {}

  async start(model: ConfigModel): Promise<void> {
    const { runner, logger } = this.options;
    this.indexServers(model);
    this.unsubscribe = [
      runner.onChange((change) => {
        this.announceQuorum(change.virtualServer);
        this.options.onQuorumSeen?.();
        this.logChange(change);
        this.options.onRealServerChange(change);
        this.scheduleSnapshot(200);
      }),
      runner.onQuorum((q) => {
        this.quorumTransition(q.virtualServer, q.up);
        this.options.onQuorumSeen?.();
        logTransition(logger, {
          kind: 'real_server',
          instance: q.virtualServer,
          from: q.up ? 'QUORUM_DOWN' : 'QUORUM_UP',
          to: q.up ? 'QUORUM_UP' : 'QUORUM_DOWN',
          reason: `live weight ${q.liveWeight}, threshold ${q.threshold}`,
          detail: { quorum: true, keepalived: this.quorumNames(q) },
        });
      }),
    ];
    if (model.virtualServers.length === 0) return;
    runner.start(this.options.plan(model));
    this.running = true;
    this.scheduleSnapshot(0);
    // Parts start in order: VRRP, after this one, starts only once checks on the main thread can run
    // without a module load holding its adverts.
    await runner.loaded?.();
  }

  async reload(next: ConfigModel, diff: ConfigDiff): Promise<void> {
    if (!diff.servicesChanged) return;
    this.indexServers(next);
    // The service's reload starts the checks too when there were none.
    this.options.runner.reload(this.options.plan(next));
    if (!this.running) {
      this.running = true;
      this.scheduleSnapshot(0);
    }
    this.options.logger.info({ event: 'reload', part: 'healthcheck' }, 'health-check reload applied');
  }

  async stop(): Promise<void> {
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.running = false;
    await this.options.runner.stop();
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  checkerSchedule(): CheckerScheduleSnapshot | undefined {
    const s = this.latest;
    if (!s) return undefined;
    return { behindSchedule: s.counters.behindSchedule ?? 0, verdictsDeferred: s.counters.verdictsDeferred ?? 0, latenessMs: s.scheduleLatenessMs ?? 0 };
  }

  /**
   * A virtual server's quorum: the last quorum event, else the last snapshot; undefined until either has
   * spoken (at start-up the checker worker has not answered yet).
   */
  quorumOf(vsKey: string): boolean | undefined {
    return this.options.runner.quorum.get(vsKey) ?? this.snapshotQuorum.get(vsKey) ?? this.quorumFromDestinations(vsKey);
  }

  /**
   * Before any quorum event or snapshot: once every configured real server has reported, the quorum the
   * engine started with and has kept since (no event) follows from their live weight — up at or above
   * quorum + hysteresis, down below quorum − hysteresis (or at 0); in between it cannot be told.
   */
  private quorumFromDestinations(vsKey: string): boolean | undefined {
    const entry = this.servers.get(vsKey);
    const known = this.options.runner.known.get(vsKey);
    if (!entry || !known || [...entry.realServers.keys()].some((rs) => !known.has(rs))) return undefined;
    let live = 0;
    for (const rsKey of entry.realServers.keys()) {
      const d = known.get(rsKey);
      if (d?.alive) live += d.weight;
    }
    const { quorum, hysteresis } = entry.vs;
    if (live >= quorum + hysteresis) return true;
    if (live === 0 || live < quorum - hysteresis) return false;
    return undefined;
  }

  virtualServers(): VirtualServerSnapshot[] {
    const { known, quorum } = this.options.runner;
    const fromSnapshot = new Map((this.latest?.decoded().virtualServers ?? []).map((v) => [v.key, v]));
    const keys = new Set([...fromSnapshot.keys(), ...known.keys()]);
    return [...keys].map((key): VirtualServerSnapshot => {
      const detail = fromSnapshot.get(key);
      const mirror = known.get(key);
      const detailOf = new Map((detail?.realServers ?? []).map((r) => [r.key, r]));
      const rsKeys = new Set([...(detail?.realServers.map((r) => r.key) ?? []), ...[...(mirror?.entries() ?? [])].filter(([, d]) => !d.sorryServer).map(([k]) => k)]);
      const configured = this.servers.get(key)?.realServers;
      // The address comes from the config object the key names, never from the key's text; a server a
      // reload removed (still in an older worker snapshot) is not shown.
      const realServers = [...rsKeys].flatMap((rsKey): RealServerSnapshot[] => {
        const rs = configured?.get(rsKey);
        if (!rs) return [];
        // The mirror is updated on every event; the worker's snapshot may be a few seconds old.
        const fresh = mirror?.get(rsKey);
        const old = detailOf.get(rsKey);
        return [{
          address: rs.address,
          port: rs.port,
          weight: fresh?.weight ?? old?.weight ?? 0,
          up: fresh?.alive ?? old?.alive ?? false,
          checkers: old?.checkers.map((c) => ({ type: c.type, up: c.up })) ?? [],
        }];
      });
      return { key, quorumUp: quorum.get(key) ?? detail?.quorumUp ?? true, realServers };
    });
  }

  /**
   * One line per real-server transition (alive flipped). A server's first report is logged only when it
   * is down (found dead at start-up); weight-only changes are debug lines.
   */
  private logChange(change: RealServerChange): void {
    const id = destinationKey(change.virtualServer, change.realServer);
    const before = this.alive.get(id);
    this.alive.set(id, change.alive);
    const state = (alive: boolean): string => (alive ? 'UP' : 'DOWN');
    if (before === change.alive || (before === undefined && change.alive)) {
      this.options.logger.debug({ event: 'real_server', instance: id, alive: change.alive, inTable: change.inTable, weight: change.weight, reason: change.reason }, 'real server update');
      return;
    }
    const entry = this.servers.get(change.virtualServer);
    const rs = entry?.realServers.get(change.realServer);
    // keepalived writes an RS line when a known server flips, not for its first state nor the sorry server.
    if (entry && rs && before !== undefined && !change.sorryServer) this.options.transitions?.realServer(entry.vs, rs, change.alive);
    logTransition(this.options.logger, {
      kind: 'real_server',
      instance: id,
      from: before === undefined ? 'INIT' : state(before),
      to: state(change.alive),
      reason: change.reason,
      detail: { inTable: change.inTable, weight: change.weight, sorryServer: change.sorryServer, keepalived: entry && rs ? realServerNames(entry.vs, rs) : undefined },
    });
  }

  private quorumNames(q: QuorumChange): KeepalivedNames | undefined {
    const vs = this.servers.get(q.virtualServer)?.vs;
    return vs ? { vs: keepalivedVsName(vs), quorum: vs.quorum, hysteresis: vs.hysteresis, weightSum: q.liveWeight } : undefined;
  }

  /**
   * keepalived's VS lines: the quorum's state when a virtual server's checks first report (it starts
   * "down" and gains quorum at once, so `VS … UP`; a down start is written only with a sorry server), then
   * each transition. The engine reports a quorum change before the real-server change that caused it;
   * keepalived writes the RS line first, so VS lines wait for the end of the batch of events.
   */
  private quorumTransition(vsKey: string, up: boolean): void {
    const first = !this.announced.has(vsKey);
    this.announced.add(vsKey);
    const vs = this.servers.get(vsKey)?.vs;
    if (!vs || (first && !up && vs.sorryServer === undefined)) return;
    this.queueVsLine(vs, up);
  }

  private announceQuorum(vsKey: string): void {
    if (this.announced.has(vsKey)) return;
    this.announced.add(vsKey);
    const vs = this.servers.get(vsKey)?.vs;
    const up = this.options.runner.quorum.get(vsKey) ?? true;
    if (vs && (up || vs.sorryServer !== undefined)) this.queueVsLine(vs, up);
  }

  private queueVsLine(vs: VirtualServer, up: boolean): void {
    if (!this.options.transitions) return;
    if (this.pendingVsLines.length === 0) {
      queueMicrotask(() => {
        for (const line of this.pendingVsLines.splice(0)) this.options.transitions?.virtualServer(line.vs, line.up);
      });
    }
    this.pendingVsLines.push({ vs, up });
  }

  private indexServers(model: ConfigModel): void {
    this.servers = new Map(model.virtualServers.map((vs) => [virtualServerKey(vs), { vs, realServers: new Map(vs.realServers.map((rs) => [realServerKey(rs), rs])) }]));
  }

  /**
   * The next look at the worker's per-checker detail: periodically, and soon after every change event so
   * the status never shows a dead server's checker as up for long. One request in flight at a time.
   */
  private scheduleSnapshot(delayMs: number): void {
    if (!this.running) return;
    const { clock } = this.options;
    // Under churn (a start, a switch failing) a snapshot per burst of changes, not back to back: each costs
    // the checker thread an encode of every checker and this thread a decode.
    const wait = Math.max(delayMs, this.lastFetchAt + SNAPSHOT_MIN_SPACING_MS - clock.now());
    // A look armed for as soon or sooner stays: a stream of changes must not keep pushing it later.
    if (this.timer && this.timerDueAt <= clock.now() + wait) return;
    clock.clearTimer(this.timer);
    this.timerDueAt = clock.now() + wait;
    this.timer = clock.setTimer(wait, () => {
      this.timer = undefined;
      if (this.fetching) {
        this.refetch = true;
        return;
      }
      this.fetching = true;
      this.lastFetchAt = clock.now();
      void this.options.runner.snapshotView().then((snapshot) => {
        this.fetching = false;
        if (snapshot && this.running) this.absorb(snapshot);
        const again = this.refetch;
        this.refetch = false;
        if (!this.timer) this.scheduleSnapshot(again ? 0 : (this.options.snapshotIntervalMs ?? 5000));
      });
    });
  }

  /**
   * An overloaded checker says so, at most once a minute: how many checks ran late since the last
   * warning, how late, and how many failing verdicts it deferred rather than take a server out.
   */
  private warnIfBehind(snapshot: HealthSnapshotView): void {
    const behind = snapshot.counters.behindSchedule ?? 0;
    if (behind < this.warnedBehind) this.warnedBehind = 0; // the worker was restarted: its counters too
    if (behind === this.warnedBehind) return;
    const now = this.options.clock.now();
    if (now - this.warnedAt < BEHIND_WARNING_INTERVAL_MS) return;
    this.options.logger.warn(
      {
        event: 'checker_behind_schedule', lateChecks: behind - this.warnedBehind, latenessMs: Math.round(snapshot.scheduleLatenessMs ?? 0),
        verdictsDeferred: snapshot.counters.verdictsDeferred ?? 0,
      },
      'health checker behind schedule: checks run late; timeouts it could not fairly judge are re-measured, not counted',
    );
    this.warnedBehind = behind;
    this.warnedAt = now;
  }

  private absorb(snapshot: HealthSnapshotView): void {
    // One observation per probe completed since the last look, valued at the latest duration: one call per
    // checker for all of them (a per-probe call was a per-check cost on this thread).
    snapshot.forEachNewProbes(this.latest, (type, durationMs, probes) => this.options.observeCheckDuration(type, durationMs / 1000, probes));
    this.latest = snapshot;
    this.snapshotQuorum = snapshot.quorums();
    this.options.onQuorumSeen?.();
    this.warnIfBehind(snapshot);
  }
}

const BEHIND_WARNING_INTERVAL_MS = 60_000;

/** The least time between the starts of two snapshot requests to the checker. */
const SNAPSHOT_MIN_SPACING_MS = 1_000;

/** keepalived's names for a real server's lines (`--log-format keepalived`). */
function realServerNames(vs: VirtualServer, rs: RealServer): KeepalivedNames {
  const tcp = rs.checkers.find((c) => c.type === 'TCP_CHECK');
  return {
    vs: keepalivedVsName(vs),
    rs: keepalivedTrio(rs.address, vs.protocol, rs.port),
    checkers: rs.checkers.map((c) => c.type),
    ...(tcp !== undefined && { tcpRetry: tcp.retry }),
    inhibit: rs.inhibitOnFailure,
  };
}
