/**
 * CPU of the health-check core per check result that changes a real server, as a function of how many
 * real servers share its virtual server. No sockets: the engine runs on a FakeClock with probes that
 * alternate up / down every round (retry 0), so every result flips its real server — the load a flapping
 * or failing farm puts on the checker thread on top of the probes themselves.
 *
 *   npx tsx bench/healthcheck-engine-flap.ts [--servers 1000,4000] [--virtual-servers 1] [--rounds 20]
 *
 * Prints µs of CPU per result for each N. A cost that grows with N is work per event proportional to the
 * virtual server's size.
 */
import { parseArgs } from 'node:util';
import { HealthCheckEngine } from '../src/healthcheck/core/engine.js';
import type { Clock, TimerHandle } from '../src/util/clock.js';
import type { HealthCheckPlan, RealServerPlan } from '../src/healthcheck/plan.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '1000,4000' },
    'virtual-servers': { type: 'string', default: '1' },
    rounds: { type: 'string', default: '20' },
  },
});
const COUNTS = values.servers.split(',').map(Number);
const VIRTUAL_SERVERS = Math.max(1, Number(values['virtual-servers']));
const ROUNDS = Number(values.rounds);

/**
 * A fake clock whose cost per timer does not grow with the number of timers (FakeClock scans them all per
 * firing, which would be the O(N) this bench measures): timers grouped by due time, fired in arming order.
 */
class BucketClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly buckets = new Map<number, Map<number, () => void>>();
  private readonly dueOf = new Map<number, number>();
  now(): number { return this.t; }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const at = this.t + Math.max(0, ms);
    let bucket = this.buckets.get(at);
    if (!bucket) this.buckets.set(at, (bucket = new Map()));
    bucket.set(id, fn);
    this.dueOf.set(id, at);
    return { id };
  }
  clearTimer(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const at = this.dueOf.get(handle.id);
    if (at === undefined) return;
    this.dueOf.delete(handle.id);
    this.buckets.get(at)?.delete(handle.id);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next = Infinity;
      for (const at of this.buckets.keys()) if (at <= end && at < next) next = at;
      if (next === Infinity) break;
      const bucket = this.buckets.get(next)!;
      this.buckets.delete(next);
      this.t = next;
      for (const [id, fn] of bucket) { this.dueOf.delete(id); fn(); }
    }
    this.t = end;
  }
}

function plan(n: number): HealthCheckPlan {
  const per = Math.ceil(n / VIRTUAL_SERVERS);
  const virtualServers = [];
  for (let v = 0; v * per < n; v++) {
    const realServers: RealServerPlan[] = [];
    for (let i = v * per; i < Math.min(n, (v + 1) * per); i++) {
      realServers.push({
        key: `rs${i}`, weight: 1, inhibitOnFailure: false,
        checkers: [{
          type: 'TCP_CHECK',
          timing: { delayLoopMs: 1_000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1_000, alpha: false },
          // The port numbers the server so the probe can tell odd from even.
          target: { host: '127.0.0.1', port: i, timeoutMs: 3_000 },
        }],
      });
    }
    // Quorum 1: it stays up while any server is alive, so the flips are plain real-server changes.
    virtualServers.push({ key: `vs${v}`, quorum: 1, hysteresis: 0, omega: false, realServers });
  }
  return { virtualServers };
}

async function measure(n: number): Promise<{ usPerResult: number; events: number; results: number }> {
  const clock = new BucketClock();
  let round = 0;
  let events = 0;
  const engine = new HealthCheckEngine({
    clock, random: () => 0, scripts: { run: () => {} },
    // Half the servers flip each round (even ones on even rounds), so the quorum never moves.
    probes: {
      run: (spec) => Promise.resolve({ up: 'target' in spec && (round + spec.target.port) % 2 === 0, reason: 'flap', durationMs: 0 }),
    },
    onEvent: () => { events++; },
  });
  engine.start(plan(n));
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  // Warm up (JIT) before measuring.
  for (let i = 0; i < 4; i++) { round++; clock.advance(1_000); await settle(); }
  const probes0 = engine.counters.probes;
  const events0 = events;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) { round++; clock.advance(1_000); await settle(); }
  const cpu = process.cpuUsage(cpu0);
  engine.stop();
  const results = engine.counters.probes - probes0;
  return { usPerResult: (cpu.user + cpu.system) / results, events: events - events0, results };
}

for (const n of COUNTS) {
  const r = await measure(n);
  console.log(`N=${n} in ${VIRTUAL_SERVERS} virtual server(s): ${r.usPerResult.toFixed(1)} µs CPU per result (${r.results} results, ${r.events} change events)`);
}
