/**
 * Health-check benchmark: N real servers (default 10,000) with TCP_CHECK at delay_loop 1, checked by
 * HealthCheckService (the checks run in its worker thread) against one loopback listener that answers on
 * every 127.x address, in a separate process so it does not load the measured one.
 *
 *   npx tsx bench/healthcheck-10k.ts [--servers 10000] [--virtual-servers 100] [--workers 1] [--seconds 20] [--victims 100]
 *
 * Prints: checks per second achieved (vs the N/s a 1 s delay_loop asks for), CPU of this process (main +
 * checker thread) and of the listener, memory, detection latency when the victims' listener stops
 * (and recovery when it returns), and the jitter of a 1 s interval timer on the main thread — the timer VRRP
 * adverts ride on — before and while the checks run.
 */
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HealthCheckService } from '../src/healthcheck/service.js';
import { LoopbackListener, loopbackPlan } from './helpers/loopbackChecks.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    victims: { type: 'string', default: '100' },
    port: { type: 'string', default: '18080' },
    workers: { type: 'string', default: '1' },
    'virtual-servers': { type: 'string', default: '100' },
    // The checker loop on the main thread (the service's 'inline' placement, the daemon's for TCP_CHECKs
    // up to 2,000 a second) rather than in its worker thread.
    'in-main-thread': { type: 'boolean', default: false },
    // The checker worker's young generation (MiB); default: the service's own.
    'young-gen-mb': { type: 'string' },
  },
});
const SERVERS = Number(values.servers);
const SECONDS = Number(values.seconds);
const VICTIMS = Math.min(Number(values.victims), SERVERS);
const PORT = Number(values.port);
const VICTIM_PORT = PORT + 1;
const WORKERS = Number(values.workers);
const VIRTUAL_SERVERS = Math.max(1, Number(values['virtual-servers']));
const IN_MAIN_THREAD = values['in-main-thread'] === true;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Gaps of a 1 s interval timer minus 1000 ms: how late the main loop serves its timers. */
class JitterProbe {
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  samples: number[] = [];
  start(): void {
    this.samples = [];
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.samples.push(now - this.last - 1_000);
      this.last = now;
    }, 1_000);
  }
  stop(): string {
    clearInterval(this.timer);
    const s = [...this.samples].sort((a, b) => a - b);
    return `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms, max ${s.at(-1)?.toFixed(2)} ms (n=${s.length})`;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  console.log(`healthcheck bench: ${SERVERS} real servers in ${VIRTUAL_SERVERS} virtual servers, TCP_CHECK delay_loop 1 s, ${VICTIMS} victims, ${SECONDS} s measured, ${IN_MAIN_THREAD ? 'checks on the main thread' : `${WORKERS} checker worker(s)`}`);
  console.log(`machine: ${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
  const listener = new LoopbackListener(PORT, VICTIM_PORT);
  await listener.next(); // ready

  const jitter = new JitterProbe();
  jitter.start();
  await sleep(Math.min(SECONDS, 10) * 1_000 + 500);
  console.log(`main-loop 1 s timer jitter, idle:          ${jitter.stop()}`);

  const svc = new HealthCheckService({
    placement: IN_MAIN_THREAD ? 'inline' : 'worker', workers: WORKERS, heartbeatTimeoutMs: 30_000,
    ...(values['young-gen-mb'] !== undefined ? { workerYoungGenerationMb: Number(values['young-gen-mb']) } : {}), onTrouble: (m) => console.log(`trouble: ${m}`),
  });
  const downAt = new Map<string, number>();
  const upAt = new Map<string, number>();
  svc.onChange((c) => {
    if (!c.alive) downAt.set(c.realServer, performance.now());
    else upAt.set(c.realServer, performance.now());
  });
  svc.start(loopbackPlan({ servers: SERVERS, virtualServers: VIRTUAL_SERVERS, victims: VICTIMS, port: PORT, victimPort: VICTIM_PORT }));
  await sleep(3_000); // warmup spread + first round

  const snap0 = await svc.snapshot(10_000);
  const cpu0 = process.cpuUsage();
  const lcpu0 = Number((await listener.ask('cpu')).split(' ')[1]);
  const t0 = performance.now();
  jitter.start();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let rssMax = 0;
  const snapshotMs: number[] = [];
  for (let s = 0; s < SECONDS; s++) {
    await sleep(1_000);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    // As the daemon does: a look at the per-checker detail every 5 s, timed on the main thread.
    if (s % 5 === 4) {
      const before = performance.now();
      await svc.snapshotView(10_000);
      snapshotMs.push(performance.now() - before);
    }
  }
  loopDelay.disable();
  const jitterLoaded = jitter.stop();
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  const lcpu1 = Number((await listener.ask('cpu')).split(' ')[1]);
  const snap1 = await svc.snapshot(10_000);
  const probes = (snap1?.counters.probes ?? 0) - (snap0?.counters.probes ?? 0);
  const failures = (snap1?.counters.probeFailures ?? 0) - (snap0?.counters.probeFailures ?? 0);
  const mem = process.memoryUsage();
  console.log(`checks per second:                         ${(probes / wall).toFixed(0)} (asked: ${SERVERS}/s), failures ${failures}`);
  console.log(`CPU, this process (main + checker thread): ${(((cpu1.user + cpu1.system) / 1e6 / wall) * 100).toFixed(1)} % of one core`);
  console.log(`CPU, the loopback listener process:        ${(((lcpu1 - lcpu0) / 1e6 / wall) * 100).toFixed(1)} % of one core`);
  console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB (max ${(rssMax / 2 ** 20).toFixed(0)}), heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB (main thread)`);
  console.log(`main-loop 1 s timer jitter, under checks:  ${jitterLoaded}`);
  console.log(`main-loop event-loop delay (5 ms res.):    p50 ${(loopDelay.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(2)} ms, max ${(loopDelay.max / 1e6).toFixed(2)} ms`);
  console.log(`full snapshot round trip (${SERVERS} checkers):  ${snapshotMs.map((m) => m.toFixed(0)).join(', ')} ms`);

  // Detection: stop the victims' listener; each victim should go DOWN within
  // delay_loop (1 s) + retry (1) × delay_before_retry (1 s) + connect (refused at once).
  downAt.clear();
  const stopAt = performance.now();
  await listener.ask('stop');
  for (let i = 0; i < 100 && downAt.size < VICTIMS; i++) await sleep(100);
  const detect = [...downAt.values()].map((t) => t - stopAt).sort((a, b) => a - b);
  console.log(`detection latency (${detect.length}/${VICTIMS} down):     p50 ${percentile(detect, 50).toFixed(0)} ms, p99 ${percentile(detect, 99).toFixed(0)} ms, max ${detect.at(-1)?.toFixed(0)} ms (bound: 2000 ms + scheduling)`);

  upAt.clear();
  const startAt = performance.now();
  await listener.ask('start');
  for (let i = 0; i < 100 && upAt.size < VICTIMS; i++) await sleep(100);
  const recover = [...upAt.values()].map((t) => t - startAt).sort((a, b) => a - b);
  console.log(`recovery latency (${recover.length}/${VICTIMS} up):        p50 ${percentile(recover, 50).toFixed(0)} ms, p99 ${percentile(recover, 99).toFixed(0)} ms, max ${recover.at(-1)?.toFixed(0)} ms (bound: 1000 ms + scheduling)`);
  const wrongDown = [...downAt.keys()].filter((k) => Number(k.slice(2)) >= VICTIMS).length;
  console.log(`non-victims reported down:                 ${wrongDown}`);

  await svc.stop();
  listener.kill();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
