/**
 * Advert jitter of a master while checks run in the same process (root). One VRRPv3 instance, advert_int
 * 0.2 s, master in namespace A, tcpdump in namespace B timing the adverts with kernel receive timestamps:
 *   - keepalived 2.2.7 (`--vrrp`; keepalived's checks live in another process, so this is its VRRP alone);
 *   - tslvsd's VRRP part alone;
 *   - tslvsd's VRRP part and its checker (HealthCheckService) with N TCP_CHECKs at delay_loop 1 s against a
 *     loopback listener in namespace A — N checks per second in the same process; the checks where the
 *     daemon puts them (src/healthcheck/worker/placement.ts: on the main thread up to 2,000 a second, else
 *     a worker thread), or where --placement says.
 * The tslvsd rows run this file again inside namespace A (`--inside`), composing the daemon's own VRRP part
 * (src/daemon.ts vrrpPart) and checker; IPVS is left out, since this host's kernel has none. They run with the
 * daemon's node flags (bench/helpers/daemonNodeFlags.ts; TSLVSD_BENCH_DAEMON_FLAGS runs others instead).
 *
 *   node --import tsx bench/advert-jitter.ts [--checks 2000,10000] [--seconds 40] [--placement auto|worker|inline]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { NodeFileSource } from '../src/config/nodeFileSource.js';
import { loadConfig } from '../src/config/load.js';
import { vrrpPart } from '../src/daemon.js';
import { HealthCheckService } from '../src/healthcheck/service.js';
import { placementFor, type CheckerPlacement } from '../src/healthcheck/worker/placement.js';
import { nativeTcpWatchesAvailable } from '../src/healthcheck/checkers/nativeTcpProber.js';
import type { HealthCheckPlan } from '../src/healthcheck/plan.js';
import { SystemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { startKeepalived } from '../test/ns/helpers/daemons.js';
import { keepalivedConf } from '../test/ns/helpers/keepalivedConf.js';
import { sleep } from '../test/ns/helpers/exec.js';
import { createVethLab, destroyLab, labPrefix } from '../test/ns/helpers/netns.js';
import { advertJitter, percentile } from './helpers/advertJitter.js';
import { daemonNodeFlags } from './helpers/daemonNodeFlags.js';
import { LoopbackListener, loopbackPlan } from './helpers/loopbackChecks.js';

const NODE_FLAGS = daemonNodeFlags();

const { values } = parseArgs({
  options: {
    checks: { type: 'string', default: '2000,10000' },
    placement: { type: 'string', default: 'auto' },
    seconds: { type: 'string', default: '40' },
    inside: { type: 'boolean', default: false },
    config: { type: 'string' },
  },
});
const CHECKS = values.checks.split(',').map(Number);
const SECONDS = Number(values.seconds);
const ADVERT_MS = 200;
const MASTER = '10.95.0.1';
const PORT = 18280;

function placementOf(plan: HealthCheckPlan): CheckerPlacement {
  const asked = values.placement;
  return asked === 'worker' || asked === 'inline' ? asked : placementFor(plan, nativeTcpWatchesAvailable());
}

/** Inside namespace A: the daemon's VRRP part (and, with --checks > 0, its checker) until SIGTERM. */
async function inside(): Promise<void> {
  const file = values.config!;
  const loaded = loadConfig(file, { files: new NodeFileSource(), configId: 'a' });
  if (!loaded.model) throw new Error(`config: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  const vrrp = vrrpPart(new SystemClock(), silentLogger(), undefined, () => {});
  await vrrp.start(loaded.model);
  let checks: HealthCheckService | undefined;
  let listener: LoopbackListener | undefined;
  const n = CHECKS[0]!;
  if (n > 0) {
    listener = new LoopbackListener(PORT, PORT + 1);
    await listener.next();
    checks = new HealthCheckService({ heartbeatTimeoutMs: 30_000, placement: placementOf });
    checks.start(loopbackPlan({ servers: n, virtualServers: 100, victims: 0, port: PORT, victimPort: PORT + 1 }));
  }
  // Counters every 5 s on stdout (the outer side turns them into checks per second): the daemon's own
  // cadence (HealthPart's snapshot interval), so the main thread decodes no more snapshots than it would.
  const timer = setInterval(() => {
    void (async () => {
      const snap = await checks?.snapshotView(5_000);
      process.stdout.write(`probes ${performance.now().toFixed(0)} ${snap?.counters.probes ?? 0} ${checks?.placement ?? 'none'}\n`);
    })();
  }, 5_000);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  clearInterval(timer);
  await checks?.stop();
  listener?.kill();
  await vrrp.stop();
}

interface Row {
  name: string;
  jitter: number[];
  checksPerSecond?: number;
}

function describe(r: Row): string {
  const f = (p: number): string => percentile(r.jitter, p).toFixed(2);
  return `${r.name.padEnd(44)} n=${String(r.jitter.length).padStart(4)}  p50 ${f(50).padStart(6)}  p99 ${f(99).padStart(6)}  max ${f(100).padStart(7)} ms` +
    (r.checksPerSecond !== undefined ? `   checks/s ${r.checksPerSecond.toFixed(0)}` : '');
}

async function outside(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const prefix = labPrefix('aj');
  await destroyLab(prefix);
  const [a, b] = await createVethLab(prefix, 'a', 'b', `${MASTER}/24`, '10.95.0.2/24');
  const dir = mkdtempSync(path.join(tmpdir(), 'tv-aj-'));
  const conf = path.join(dir, 'master.conf');
  writeFileSync(conf, keepalivedConf({ routerId: 'a', priority: 150, state: 'MASTER', version: 3, advertInt: ADVERT_MS / 1000, vips: ['10.95.0.200/24'] }));
  const rows: Row[] = [];
  console.log(`advert jitter: VRRPv3 advert_int ${ADVERT_MS} ms, ${SECONDS} s a row, machine load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}, tslvsd rows with ${NODE_FLAGS.join(' ') || 'no node flags'}`);
  try {
    const ka = startKeepalived(a.ns, conf, path.join(dir, 'ka'));
    await sleep(5_000); // up to master and a few adverts out
    rows.push({ name: 'keepalived 2.2.7 (VRRP process)', jitter: await advertJitter(b, MASTER, SECONDS, ADVERT_MS) });
    await ka.stop();
    for (const checks of [0, ...CHECKS]) {
      const child = spawn('ip', ['netns', 'exec', a.ns, process.execPath, ...NODE_FLAGS, '--import', 'tsx', new URL(import.meta.url).pathname,
        '--inside', '--config', conf, '--checks', String(checks), '--placement', values.placement], { stdio: ['ignore', 'pipe', 'inherit'] });
      const samples = probeSamples(child);
      await samples.ready;
      await sleep(5_000 + (checks > 0 ? 3_000 : 0)); // master, and the checker's warm-up spread
      const from = samples.latest();
      const jitter = await advertJitter(b, MASTER, SECONDS, ADVERT_MS);
      const to = samples.latest();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rows.push({
        name: checks > 0 ? `tslvsd, VRRP + ${checks} TCP_CHECKs (${to?.placement === 'inline' ? 'main thread' : 'worker'})` : 'tslvsd, VRRP alone',
        jitter,
        ...(checks > 0 && from && to ? { checksPerSecond: ((to.probes - from.probes) * 1000) / (to.at - from.at) } : {}),
      });
    }
  } finally {
    await destroyLab(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`|Δ − ${ADVERT_MS} ms| between consecutive adverts, seen in the peer namespace:`);
  for (const r of rows) console.log(describe(r));
  const ka = rows[0]!;
  for (const r of rows.slice(1)) console.log(`${r.name}: p99 ${(percentile(r.jitter, 99) / Math.max(0.01, percentile(ka.jitter, 99))).toFixed(1)}× keepalived's`);
}

interface ProbeSample {
  at: number;
  probes: number;
  placement: string;
}

function probeSamples(child: ChildProcess): { ready: Promise<void>; latest: () => ProbeSample | undefined } {
  let last: ProbeSample | undefined;
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    if (l === 'ready') ready();
    const m = /^probes (\d+) (\d+) (\S+)$/.exec(l);
    if (m) last = { at: Number(m[1]), probes: Number(m[2]), placement: m[3]! };
  });
  return { ready: readyP, latest: () => last };
}

await (values.inside ? inside() : outside());
