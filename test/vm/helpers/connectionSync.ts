// Connection sync end to end (issue 10), shared by test/vm/e2e-sync-dr.test.ts and e2e-sync-nat.test.ts: the LVS-DR and LVS-NAT labs with lvs_sync_daemon on the directors' LAN and N
// long-lived TCP connections through the VIP (an echo service, a line every 100 ms each). The primary host
// crashes (daemon killed, links down), N more connections are opened through the backup, the primary
// boots again and preempts, then stops gracefully. `ipvsadm -Lnc` in each director's namespace is the
// independent reader of the synced connection table. tslvsd must keep every connection in every step;
// keepalived 2.2.7 runs the same steps as the reference and its figures are printed next to tslvsd's.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashOutageBoundMs } from '../../../lab/config/keepalived-conf.js';
import { spawnInNetns, terminate, type SpawnedDaemon } from '../../../lab/directors/process.js';
import type { DirectorSoftware } from '../../../lab/directors/director.js';
import { DIRECTORS, isDirectorName } from '../../../lab/directors/index.js';
import { inNetns, run, sleep, waitFor } from '../../../lab/exec.js';
import { LvsLab } from '../../../lab/lab.js';
import { REPO_ROOT } from '../../../lab/paths.js';
import { LongConnections, type LongConnReport } from '../../../lab/traffic/longConns.js';
import type { DirectorRole, LvsMode } from '../../../lab/topology/plan.js';

const N = Number(process.env.TSLVSD_SYNC_CONNS ?? 20);
const ECHO_PORT = 7;
const START_MS = 150_000;
/** Traffic observed after each event before the connections are judged. */
const SETTLE_MS = 6000;


interface StepFigure { director: string; step: string; kept: number; of: number; stallMs: number; detail?: string }
const figures: StepFigure[] = [];

function directorsUnderTest(): DirectorSoftware[] {
  return (process.env.TSLVSD_E2E_DIRECTORS ?? 'tslvsd,keepalived').split(',').map((s) => s.trim()).filter(Boolean).map((n) => {
    if (!isDirectorName(n)) throw new Error(`TSLVSD_E2E_DIRECTORS: unknown director ${n}`);
    return DIRECTORS[n];
  });
}

/** ESTABLISHED entries for VIP:ECHO_PORT in a director's connection table, by `ipvsadm -Lnc`. */
async function establishedEntries(lab: LvsLab, d: DirectorRole): Promise<number> {
  const r = await run(inNetns(lab.plan.netns[d], ['ipvsadm', '-Lnc']), { allowFail: true });
  return r.stdout.split('\n').filter((l) => l.includes('ESTABLISHED') && l.includes(`${lab.plan.vip}:${ECHO_PORT}`)).length;
}

async function syncDaemons(lab: LvsLab, d: DirectorRole): Promise<string> {
  return (await run(inNetns(lab.plan.netns[d], ['ipvsadm', '-L', '--daemon']), { allowFail: true })).stdout.trim();
}

function judge(reports: LongConnReport[]): { kept: number; stallMs: number; dead: string } {
  const alive = reports.filter((r) => r.alive);
  const dead = reports.filter((r) => !r.alive).map((r) => `#${r.id}:${r.error}`).join(' ');
  return { kept: alive.length, stallMs: Math.max(0, ...alive.map((r) => r.maxGapMs)), dead };
}

const hasIpvs = existsSync('/proc/net/ip_vs');

/**
 * Defines the suite for one lab (one test file per lab, so each gets its own VM boot and timeout: both labs
 * with both directors in one VM came near the per-file timeout on a loaded machine).
 */
export async function describeConnectionSync(mode: LvsMode): Promise<void> {
  for (const director of directorsUnderTest()) {
    const why = hasIpvs ? await director.unavailableReason() : 'no IPVS in this kernel (runs in the VM tier)';
    const mustKeepAll = director.name === 'tslvsd';
    const label = `${director.name} ${mode.toUpperCase()}`;
    describe.skipIf(why !== null)(`connection sync, LVS-${mode.toUpperCase()}, ${director.name}${why ? ` (skipped: ${why})` : ''}`, () => {
      let lab: LvsLab;
      let conns: LongConnections;
      const echo: SpawnedDaemon[] = [];
      const record = (step: string, reports: LongConnReport[]): ReturnType<typeof judge> => {
        const j = judge(reports);
        figures.push({ director: label, step, kept: j.kept, of: reports.length, stallMs: j.stallMs, ...(j.dead ? { detail: j.dead.slice(0, 200) } : {}) });
        return j;
      };
      /** The daemon's log lines about sync, holds and transitions (the work dir is on the VM's tmpfs). */
      const logTail = (d: DirectorRole): string => {
        const log = lab.directors[d].daemon?.logPath;
        if (!log || !existsSync(log)) return `(no ${d} log)`;
        return readFileSync(log, 'utf8').split('\n').filter((l) => /sync|preempt|transition|error|fail/i.test(l)).slice(-30).join('\n');
      };
      const soleMaster = async (role: DirectorRole, timeoutMs: number): Promise<number> => {
        const at = await lab.waitForSoleMaster(role, timeoutMs);
        expect(at, `${role} should be the only VIP holder; holders ${(await lab.observer.vipHolders()).join(',')}\n--- primary:\n${logTail('primary')}\n--- backup:\n${logTail('backup')}`).toBeDefined();
        return at as number;
      };

      beforeAll(async () => {
        lab = new LvsLab({ mode, director, prefix: `sync-${mode}-${director.name}`, sync: { echoPort: ECHO_PORT }, keepWorkDir: process.env.TSLVSD_E2E_KEEP === '1' });
        await lab.build();
        for (const rs of lab.plan.realServers) {
          echo.push(spawnInNetns(lab.plan.netns[rs.name], [process.execPath, join(REPO_ROOT, 'lab', 'traffic', 'echo-server.mjs'), String(ECHO_PORT), rs.name], join(lab.workDir, `${rs.name}-echo.log`)));
        }
        await lab.startDirectors();
        await soleMaster('primary', START_MS);
        const daemonsUp = await waitFor(async () => ((await syncDaemons(lab, 'backup')).includes('backup sync daemon') && (await syncDaemons(lab, 'primary')).includes('master sync daemon') ? true : undefined), 60_000, 500);
        expect(daemonsUp, `sync daemons: primary [${await syncDaemons(lab, 'primary')}] backup [${await syncDaemons(lab, 'backup')}]`).toBe(true);
        conns = await LongConnections.start(lab.plan.netns.client, lab.plan.vip, ECHO_PORT);
        const opened = await conns.open(N);
        expect(opened.filter((c) => c.alive).length, JSON.stringify(opened)).toBe(N);
      });

      afterAll(async () => {
        await conns?.stop().catch(() => undefined);
        for (const e of echo) await terminate(e.pid, e.exited, 2000).catch(() => undefined);
        await lab?.down();
      });

      it(`the backup's table holds the ${N} connections before the crash (ipvsadm -Lnc)`, async () => {
        const synced = await waitFor(async () => ((await establishedEntries(lab, 'backup')) >= N ? true : undefined), 30_000, 500);
        const count = await establishedEntries(lab, 'backup');
        console.log(`${label}: backup holds ${count} synced ESTABLISHED entries for ${lab.plan.vip}:${ECHO_PORT}`);
        expect(synced, `backup holds ${count} of ${N}`).toBe(true);
      });

      it('a crash of the primary host (daemon killed, links down): the connections go on through the backup', async () => {
        await conns.mark();
        await lab.directors.primary.powerFail();
        // The dead host keeps its VIP on its downed link: what must happen is the backup taking it and the
        // client's ARP entry moving there.
        const moved = await waitFor(async () => ((await lab.observer.clientArpOwner()) === 'backup' ? true : undefined), crashOutageBoundMs(lab.timings) + 10_000);
        expect(moved, `the client's ARP entry never moved to the backup (logs: ${lab.workDir})`).toBe(true);
        await sleep(SETTLE_MS);
        const j = record('crash', await conns.mark());
        console.log(`${label} crash: kept ${j.kept}/${N}, longest stall ${j.stallMs} ms ${j.dead}`);
        if (mustKeepAll) expect(j.kept, j.dead).toBe(N);
      });

      it(`${N} more connections opened through the backup while the primary is away`, async () => {
        const more = await conns.open(N);
        expect(more.filter((c) => c.alive).length).toBeGreaterThanOrEqual(mustKeepAll ? 2 * N : N);
        await sleep(3000);
      });

      it('the primary boots again and preempts: every connection, old and new, goes on', async () => {
        await conns.mark();
        const at = Date.now();
        await lab.directors.primary.powerOn();
        const preemptedAt = await soleMaster('primary', START_MS + 60_000);
        await sleep(SETTLE_MS);
        const reports = await conns.mark();
        const j = record('preemption', reports);
        const primaryEntries = await establishedEntries(lab, 'primary');
        if (director.name === 'tslvsd') console.log(`tslvsd primary after its return:\n${logTail('primary')}`);
        console.log(`${label} preemption ${preemptedAt - at} ms after the boot: kept ${j.kept}/${reports.length}, longest stall ${j.stallMs} ms, primary holds ${primaryEntries} entries ${j.dead}`);
        if (mustKeepAll) expect(j.kept, j.dead).toBe(2 * N);
      });

      it('a graceful stop of the primary: the connections go on through the backup', async () => {
        await conns.mark();
        await lab.directors.primary.stop();
        await soleMaster('backup', 20_000);
        await sleep(SETTLE_MS);
        const reports = await conns.mark();
        const j = record('graceful stop', reports);
        console.log(`${label} graceful stop: kept ${j.kept}/${reports.length}, longest stall ${j.stallMs} ms ${j.dead}`);
        if (mustKeepAll) expect(j.kept, j.dead).toBe(2 * N);
      });
    });
  }

  afterAll(() => {
    if (figures.length === 0) return;
    const rows = figures.map((f) => `${f.director.padEnd(15)} ${f.step.padEnd(14)} kept ${String(f.kept).padStart(3)}/${String(f.of).padEnd(3)} longest stall ${String(f.stallMs).padStart(6)} ms${f.detail ? `  (${f.detail})` : ''}`);
    console.log(['connection sync, side by side:', ...rows].join('\n'));
  });
}

