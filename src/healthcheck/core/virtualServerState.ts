import type { RealServerPlan, SorryServerPlan, VirtualServerPlan } from '../plan.js';

/** One real server's health as the core tracks it. */
export interface RealServerHealth {
  readonly plan: RealServerPlan;
  /**
   * Number of its checkers currently DOWN; alive = 0 (keepalived's num_failed_checkers). Changed only
   * through VirtualServerState.checkerFlipped, which keeps the live weight current.
   */
  readonly failedCheckers: number;
  /** Weight in force: the configured one, or what a misc_dynamic script set. Changed only through setWeight. */
  readonly effectiveWeight: number;
  /** Cause of the last change, for the event stream and status. */
  reason: string;
}

/** How a destination should look in the IPVS table. */
export interface DesiredDestination {
  inTable: boolean;
  /** IPVS weight when in the table (0 = inhibited). */
  weight: number;
}

export type QuorumTransition = 'gained' | 'lost' | null;

/**
 * A virtual server's real servers, its quorum and its sorry server, following keepalived's ipwrapper.c:
 * - alive = every checker UP; the quorum weighs the effective weights of alive real servers;
 * - quorum is gained when the sum reaches quorum + hysteresis, lost when it falls below
 *   quorum − hysteresis (or to 0), so a flapping server near the threshold does not flap the service;
 * - while quorum is lost and a sorry server is configured, the sorry server is the only destination in use
 *   and the alive real servers are taken out (weight 0 when inhibit_on_failure); without a sorry server the
 *   alive real servers stay;
 * - a dead real server leaves the table, or stays with weight 0 under inhibit_on_failure.
 */
/** The writable view of RealServerHealth, for VirtualServerState only. */
type MutableRealServerHealth = { -readonly [K in keyof RealServerHealth]: RealServerHealth[K] };

export class VirtualServerState {
  readonly realServers = new Map<string, RealServerHealth>();
  quorumUp: boolean;
  /**
   * Sum of the effective weights of alive real servers, kept up to date by checkerFlipped / setWeight so a
   * change costs O(1) rather than a walk over every real server of the virtual server.
   */
  private live = 0;

  constructor(readonly plan: VirtualServerPlan, initialFailed: (rs: RealServerPlan) => number) {
    for (const rs of plan.realServers) {
      const health: RealServerHealth = { plan: rs, failedCheckers: initialFailed(rs), effectiveWeight: rs.weight, reason: 'start' };
      this.realServers.set(rs.key, health);
      if (this.isAlive(health)) this.live += health.effectiveWeight;
    }
    // keepalived's set_quorum_states(): at start the quorum is up when the sum reaches quorum + hysteresis.
    this.quorumUp = this.liveWeight() >= plan.quorum + plan.hysteresis;
  }

  isAlive(rs: RealServerHealth): boolean {
    return rs.failedCheckers === 0;
  }

  /** One of the real server's checkers went up (`up`) or down. */
  checkerFlipped(rs: RealServerHealth, up: boolean): void {
    const wasAlive = this.isAlive(rs);
    (rs as MutableRealServerHealth).failedCheckers += up ? -1 : 1;
    const alive = this.isAlive(rs);
    if (alive !== wasAlive) this.live += alive ? rs.effectiveWeight : -rs.effectiveWeight;
  }

  /** Sets the weight in force (misc_dynamic, or carried over by a reload). */
  setWeight(rs: RealServerHealth, weight: number): void {
    if (this.isAlive(rs)) this.live += weight - rs.effectiveWeight;
    (rs as MutableRealServerHealth).effectiveWeight = weight;
  }

  /** Sum of the effective weights of alive real servers (weigh_live_realservers). */
  liveWeight(): number {
    return this.live;
  }

  /** The threshold that applies to the next transition. */
  threshold(): number {
    return this.plan.quorum + (this.quorumUp ? -1 : 1) * this.plan.hysteresis;
  }

  /** Re-evaluates the quorum after any change (update_quorum_state). */
  updateQuorum(): QuorumTransition {
    const sum = this.liveWeight();
    const threshold = this.threshold();
    if (!this.quorumUp && sum >= threshold) {
      this.quorumUp = true;
      return 'gained';
    }
    if (this.quorumUp && (sum === 0 || sum < threshold)) {
      this.quorumUp = false;
      return 'lost';
    }
    return null;
  }

  /** True while the sorry server replaces the real servers. */
  sorryActive(): boolean {
    return this.plan.sorryServer !== undefined && !this.quorumUp;
  }

  desiredRealServer(rs: RealServerHealth): DesiredDestination {
    const inhibited = rs.plan.inhibitOnFailure;
    if (this.isAlive(rs) && !this.sorryActive()) return { inTable: true, weight: rs.effectiveWeight };
    return inhibited ? { inTable: true, weight: 0 } : { inTable: false, weight: 0 };
  }

  desiredSorryServer(sorry: SorryServerPlan): DesiredDestination {
    if (this.sorryActive()) return { inTable: true, weight: sorry.weight };
    return sorry.inhibit ? { inTable: true, weight: 0 } : { inTable: false, weight: 0 };
  }
}
