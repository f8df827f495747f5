// Connections kept through a failover with IPVS connection sync (lvs_sync_daemon), tslvsd against
// keepalived 2.2.7 in the same LVS-DR lab (lab/), repeated: N long-lived TCP connections (a line echoed
// every 100 ms each) through a crash of the primary host (daemon killed, links down), then N more opened
// through the backup and the primary's return with preemption. Per step: connections kept and the client's
// longest stall (the longest gap in any kept connection's echo stream). Prints each run, the medians per
// director and the ratio.
//   node --import tsx bench/sync-failover.ts [--runs 3] [--conns 20] [--directors tslvsd,keepalived]
// Where the kernel has no IPVS it runs itself inside the project VM (scripts/vm/run.sh).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DIRECTORS, isDirectorName } from '../lab/directors/index.js';
import { spawnInNetns, terminate, type SpawnedDaemon } from '../lab/directors/process.js';
import { sleep, waitFor } from '../lab/exec.js';
import { LvsLab } from '../lab/lab.js';
import { REPO_ROOT } from '../lab/paths.js';
import { LongConnections, type LongConnReport } from '../lab/traffic/longConns.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, conns: { type: 'string', default: '20' }, directors: { type: 'string', default: 'tslvsd,keepalived' } },
});
const runs = Number(values.runs);
const n = Number(values.conns);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: sync-failover.ts [--runs N] [--conns N] [--directors tslvsd,keepalived]\n');
  process.exit(2);
}

if (!existsSync('/proc/net/ip_vs')) {
  process.stdout.write('no IPVS in this kernel: running inside the VM\n');
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'vm', 'run.sh'), process.execPath, '--import', 'tsx', join(REPO_ROOT, 'bench', 'sync-failover.ts'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: REPO_ROOT });
  process.exit(r.status ?? 1);
}

const ECHO_PORT = 7;
const SETTLE_MS = 6000;

interface Step { kept: number; of: number; stallMs: number }
interface Sample { crash: Step; preempt: Step; preemptAfterMs: number; holdMs?: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function judge(reports: LongConnReport[]): Step {
  const alive = reports.filter((r) => r.alive);
  return { kept: alive.length, of: reports.length, stallMs: Math.max(0, ...alive.map((r) => r.maxGapMs)) };
}

async function soleMaster(lab: LvsLab, role: 'primary' | 'backup', timeoutMs: number): Promise<number> {
  const at = await lab.waitForSoleMaster(role, timeoutMs);
  if (at === undefined) throw new Error(`${role} did not become the only VIP holder within ${timeoutMs / 1000} s; holders: ${(await lab.observer.vipHolders()).join(',') || 'none'}`);
  return at;
}

/** tslvsd's last preemption hold (its log line preemption_release), in ms. */
function lastHoldMs(lab: LvsLab): number | undefined {
  const log = lab.directors.primary.daemon?.logPath;
  if (!log || !existsSync(log)) return undefined;
  const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"preemption_release"'));
  const last = lines.at(-1);
  if (!last) return undefined;
  const parsed = JSON.parse(last) as { heldMs?: number; reason?: string };
  return parsed.heldMs !== undefined ? Math.round(parsed.heldMs) : undefined;
}

async function benchDirector(name: string): Promise<Sample[]> {
  if (!isDirectorName(name)) throw new Error(`unknown director ${name}`);
  const director = DIRECTORS[name];
  const why = await director.unavailableReason();
  if (why) {
    process.stdout.write(`${name}: not run (${why})\n`);
    return [];
  }
  const lab = new LvsLab({ mode: 'dr', director, prefix: `bsync-${name}`, sync: { echoPort: ECHO_PORT } });
  const echo: SpawnedDaemon[] = [];
  const samples: Sample[] = [];
  try {
    await lab.build();
    for (const rs of lab.plan.realServers) {
      echo.push(spawnInNetns(lab.plan.netns[rs.name], [process.execPath, join(REPO_ROOT, 'lab', 'traffic', 'echo-server.mjs'), String(ECHO_PORT), rs.name], join(lab.workDir, `${rs.name}-echo.log`)));
    }
    await lab.startDirectors();
    await soleMaster(lab, 'primary', 300_000);
    for (let i = 0; i < runs; i++) {
      const conns = await LongConnections.start(lab.plan.netns.client, lab.plan.vip, ECHO_PORT);
      try {
        await conns.open(n);
        await sleep(5000); // the backup receives them (3rd packet of each, flushed within ~2 s)
        await conns.mark();
        await lab.directors.primary.powerFail();
        if ((await waitFor(async () => ((await lab.observer.clientArpOwner()) === 'backup' ? true : undefined), 20_000)) === undefined) {
          throw new Error('the client ARP entry never moved to the backup');
        }
        await sleep(SETTLE_MS);
        const crash = judge(await conns.mark());
        await conns.open(n);
        await sleep(3000);
        await conns.mark();
        const at = Date.now();
        await lab.directors.primary.powerOn();
        // tslvsd's start under an emulated CPU has been seen to take 3 minutes on a loaded host.
        const preemptedAt = await soleMaster(lab, 'primary', 300_000);
        await sleep(SETTLE_MS);
        const preempt = judge(await conns.mark());
        const holdMs = lastHoldMs(lab);
        samples.push({ crash, preempt, preemptAfterMs: preemptedAt - at, ...(holdMs !== undefined ? { holdMs } : {}) });
        process.stdout.write(`${name} run ${i + 1}/${runs}: crash kept ${crash.kept}/${crash.of} (stall ${crash.stallMs} ms); preemption after ${preemptedAt - at} ms${holdMs !== undefined ? ` (hold ${holdMs} ms)` : ''} kept ${preempt.kept}/${preempt.of} (stall ${preempt.stallMs} ms)\n`);
      } catch (err) {
        // One failed run (a start slower than the bound on a starved machine) is reported, not fatal.
        process.stdout.write(`${name} run ${i + 1}/${runs}: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
        await lab.directors.primary.start().catch(() => undefined);
        await lab.waitForSoleMaster('primary', 300_000);
      } finally {
        await conns.stop();
      }
    }
  } finally {
    for (const e of echo) await terminate(e.pid, e.exited, 2000).catch(() => undefined);
    await lab.down();
  }
  return samples;
}

const results = new Map<string, Sample[]>();
for (const name of (values.directors ?? '').split(',').filter(Boolean)) results.set(name, await benchDirector(name));

process.stdout.write(`\nLVS-DR with lvs_sync_daemon, ${n} long-lived connections (+${n} opened during the outage), ${runs} runs, medians\n`);
process.stdout.write('director    crash kept  crash stall  preempt kept  preempt stall  preempt after boot (tslvsd: of which hold)\n');
const med = new Map<string, { crashKept: number; crashStall: number; preemptKept: number; preemptStall: number }>();
for (const [name, s] of results) {
  if (!s.length) continue;
  const m = {
    crashKept: median(s.map((x) => x.crash.kept)), crashStall: median(s.map((x) => x.crash.stallMs)),
    preemptKept: median(s.map((x) => x.preempt.kept)), preemptStall: median(s.map((x) => x.preempt.stallMs)),
  };
  med.set(name, m);
  process.stdout.write(`${name.padEnd(11)} ${`${m.crashKept}/${n}`.padEnd(11)} ${`${m.crashStall} ms`.padEnd(12)} ${`${m.preemptKept}/${2 * n}`.padEnd(13)} ${`${m.preemptStall} ms`.padEnd(14)} ${median(s.map((x) => x.preemptAfterMs))} ms${s.some((x) => x.holdMs !== undefined) ? ` (hold ${median(s.flatMap((x) => (x.holdMs !== undefined ? [x.holdMs] : [])))} ms)` : ''}\n`);
}
const k = med.get('keepalived');
const t = med.get('tslvsd');
if (k && t) {
  const ratio = (x: number, y: number): string => (y === 0 ? 'n/a' : (x / y).toFixed(2));
  process.stdout.write(`ratio tslvsd/keepalived: crash kept ${ratio(t.crashKept, k.crashKept)}, crash stall ${ratio(t.crashStall, k.crashStall)}, preemption kept ${ratio(t.preemptKept, k.preemptKept)}, preemption stall ${ratio(t.preemptStall, k.preemptStall)}\n`);
}
