// Client-side outage when the master director fails, tslvsd against keepalived 2.2.7, in the same LVS lab
// (lab/): a host crash (kill -9 of the daemon and its links down) and a graceful stop (SIGTERM), repeated,
// with a client request every 50 ms. Prints each run, the medians per director and the ratio.
//   node --import tsx bench/failover-e2e.ts [--runs 5] [--directors tslvsd,keepalived] [--mode dr]
// (--directors tslvsd-vrrp,keepalived: tslvsd's VRRP with keepalived's checker programming IPVS.)
// Where the kernel has no IPVS it runs itself inside the project VM (scripts/vm/run.sh).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crashOutageBoundMs, DEFAULT_TIMINGS, gracefulOutageBoundMs } from '../lab/config/keepalived-conf.js';
import { DIRECTORS, isDirectorName } from '../lab/directors/index.js';
import { sleep } from '../lab/exec.js';
import { LvsLab } from '../lab/lab.js';
import { REPO_ROOT } from '../lab/paths.js';
import { longestOutage } from '../lab/traffic/analysis.js';
import { LVS_MODES, type LvsMode } from '../lab/topology/plan.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, directors: { type: 'string', default: 'tslvsd,keepalived' }, mode: { type: 'string', default: 'dr' } },
});
const runs = Number(values.runs);
const mode = values.mode as LvsMode;
if (!LVS_MODES.includes(mode) || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write('usage: failover-e2e.ts [--runs N] [--directors tslvsd,keepalived] [--mode dr|nat|tun]\n');
  process.exit(2);
}

if (!existsSync('/proc/net/ip_vs')) {
  process.stdout.write('no IPVS in this kernel: running inside the VM\n');
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'vm', 'run.sh'), process.execPath, '--import', 'tsx', join(REPO_ROOT, 'bench', 'failover-e2e.ts'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: REPO_ROOT });
  process.exit(r.status ?? 1);
}

interface Sample {
  crashMs: number;
  crashFailed: number;
  stopMs: number;
  stopFailed: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function outage(lab: LvsLab, at: number): Promise<{ ms: number; failed: number }> {
  const t = lab.traffic;
  if (!t) throw new Error('no traffic');
  if (!(await t.waitForSuccessRun(at, 10, 30_000))) throw new Error('client did not recover within 30 s');
  const o = longestOutage(t.since(at - 2000), at);
  return { ms: o?.durationMs ?? 0, failed: o?.failedRequests ?? 0 };
}

async function settleOnPrimary(lab: LvsLab): Promise<void> {
  if ((await lab.waitForSoleMaster('primary', 150_000)) === undefined) throw new Error('primary did not take the VIP');
  await sleep(3000);
}

async function benchDirector(name: string): Promise<Sample[]> {
  if (!isDirectorName(name)) throw new Error(`unknown director ${name}`);
  const director = DIRECTORS[name];
  const why = await director.unavailableReason();
  if (why) {
    process.stdout.write(`${name}: not run (${why})\n`);
    return [];
  }
  const lab = new LvsLab({ mode, director, prefix: `bench-${name}` });
  const samples: Sample[] = [];
  try {
    await lab.build();
    await lab.startDirectors();
    await settleOnPrimary(lab);
    await lab.startTraffic(50, 2000);
    await sleep(2000);
    for (let i = 0; i < runs; i++) {
      let at = Date.now();
      await lab.directors.primary.powerFail();
      const crash = await outage(lab, at);
      await lab.directors.primary.powerOn();
      await settleOnPrimary(lab);
      at = Date.now();
      await lab.directors.primary.stop();
      const stop = await outage(lab, at);
      await lab.directors.primary.start();
      await settleOnPrimary(lab);
      samples.push({ crashMs: crash.ms, crashFailed: crash.failed, stopMs: stop.ms, stopFailed: stop.failed });
      process.stdout.write(`${name} run ${i + 1}/${runs}: crash outage ${crash.ms} ms (${crash.failed} failed), graceful stop outage ${stop.ms} ms (${stop.failed} failed)\n`);
    }
  } finally {
    await lab.down();
  }
  return samples;
}

const results = new Map<string, Sample[]>();
for (const name of (values.directors ?? '').split(',').filter(Boolean)) results.set(name, await benchDirector(name));

process.stdout.write(`\nLVS-${mode.toUpperCase()} failover, client request every 50 ms, ${runs} runs; bounds: crash ${Math.round(crashOutageBoundMs(DEFAULT_TIMINGS))} ms, graceful ${Math.round(gracefulOutageBoundMs())} ms\n`);
process.stdout.write('director    crash median (min–max)      graceful median (min–max)\n');
const medians = new Map<string, { crash: number; stop: number }>();
for (const [name, s] of results) {
  if (!s.length) continue;
  const c = s.map((x) => x.crashMs);
  const g = s.map((x) => x.stopMs);
  medians.set(name, { crash: median(c), stop: median(g) });
  process.stdout.write(`${name.padEnd(11)} ${`${median(c)} ms (${Math.min(...c)}–${Math.max(...c)})`.padEnd(27)} ${median(g)} ms (${Math.min(...g)}–${Math.max(...g)})\n`);
}
const b = medians.get('keepalived');
for (const [name, a] of medians) {
  if (!name.startsWith('tslvsd') || !b) continue;
  const ratio = (x: number, y: number): string => (y === 0 ? 'n/a' : (x / y).toFixed(2));
  process.stdout.write(`ratio ${name}/keepalived: crash ${ratio(a.crash, b.crash)}, graceful ${ratio(a.stop, b.stop)}\n`);
}
