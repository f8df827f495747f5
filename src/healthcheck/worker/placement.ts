import type { HealthCheckPlan } from '../plan.js';

/** Where the checker loop runs: its own worker thread, or the main thread beside VRRP. */
export type CheckerPlacement = 'worker' | 'inline';

/**
 * Above this many checks a second the loop gets a worker thread even when every check is a native TCP
 * watch: the watches' connect() calls run on the thread that owns them (≈ 50 µs each on the host, ten
 * times that under emulation), and beyond a few thousand a second that is time the VRRP loop would wait.
 */
export const INLINE_MAX_CHECKS_PER_SECOND = 2_000;

/** The checks a second a plan asks for at steady state (each checker once per delay_loop). */
export function checksPerSecond(plan: HealthCheckPlan): number {
  let perSecond = 0;
  for (const vs of plan.virtualServers) {
    for (const rs of vs.realServers) for (const c of rs.checkers) perSecond += 1_000 / Math.max(1, c.timing.delayLoopMs);
  }
  return perSecond;
}

/**
 * The worker thread exists only where the config needs it: a plan of TCP_CHECKs alone, repeated by the
 * native prober's watches (no JavaScript per check at steady state), at most
 * {@link INLINE_MAX_CHECKS_PER_SECOND}, runs inline — that saves the worker's V8 isolate, ≈ 30 MiB of a
 * ≈ 100 MiB daemon. HTTP/SSL, scripts, DNS, … (parsers, TLS, child processes on the loop) and larger plans
 * keep their thread, as does a machine where the native prober cannot be used.
 */
export function placementFor(plan: HealthCheckPlan, nativeTcpWatches: boolean): CheckerPlacement {
  if (!nativeTcpWatches) return 'worker';
  // A scoped address (fe80::1%eth0) goes through Node's sockets, one probe at a time in JavaScript.
  const tcpOnly = plan.virtualServers.every((vs) =>
    vs.realServers.every((rs) => rs.checkers.every((c) => c.type === 'TCP_CHECK' && !c.target.host.includes('%'))));
  return tcpOnly && checksPerSecond(plan) <= INLINE_MAX_CHECKS_PER_SECOND ? 'inline' : 'worker';
}
