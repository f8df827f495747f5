import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probePing } from '../../src/healthcheck/checkers/ping.js';
import { probeMisc } from '../../src/healthcheck/checkers/misc.js';
import { stopProbes } from '../../src/healthcheck/checkers/index.js';
import type { CheckerSpec, CheckTiming, HealthCheckPlan } from '../../src/healthcheck/plan.js';
import type { ProbeResult } from '../../src/healthcheck/result.js';
import { processAlive } from '../util/processAlive.js';
import { isRoot, mustRun, sleep, tsxArgv, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, nsRun } from './helpers/netns.js';

// Root-only checker behaviour: ICMP through the raw-socket helper, connect timeouts against a firewall that
// drops SYNs (nftables in a namespace), MISC_CHECK as script_user, and no orphan after the daemon is killed.
const PREFIX = 'hc-';
const here = path.dirname(fileURLToPath(import.meta.url));
const probeOnce = path.join(here, '../healthcheck/fixtures/probeOnce.ts');
const driver = path.join(here, '../healthcheck/fixtures/serviceDriver.ts');
const timing: CheckTiming = { delayLoopMs: 1000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1000, alpha: false };

/** Runs one probe from inside a namespace. */
async function probeIn(ns: string, spec: CheckerSpec): Promise<ProbeResult> {
  const [node, ...args] = tsxArgv(probeOnce, [JSON.stringify(spec)]);
  const r = await nsRun(ns, node!, args, 30_000);
  if (r.code !== 0) throw new Error(`probeOnce failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ProbeResult;
}

const alive = processAlive;

describe.skipIf(!isRoot)('health checkers as root', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'hc-ns-'));
  let client = '';
  let server = '';

  beforeAll(async () => {
    await destroyLab(PREFIX);
    const [c, s] = await createVethLab(PREFIX, 'c', 's', '10.96.0.1/24', '10.96.0.2/24');
    client = c.ns;
    server = s.ns;
    // The server drops SYNs to port 81 (connect timeout) and rejects nothing else: port 82 is refused.
    await mustRun('ip', ['netns', 'exec', server, 'nft', 'add table inet hc; add chain inet hc in { type filter hook input priority 0; }; add rule inet hc in tcp dport 81 drop']);
  });

  afterAll(async () => {
    stopProbes();
    await destroyLab(PREFIX);
    rmSync(work, { recursive: true, force: true });
  });

  it('PING_CHECK: 127.0.0.1 and ::1 answer (ICMP and ICMPv6)', async () => {
    const r = await probePing({ type: 'PING_CHECK', timing, target: { host: '127.0.0.1', port: 0, timeoutMs: 3_000 } });
    expect(r).toMatchObject({ up: true, reason: 'echo reply from 127.0.0.1' });
    const r6 = await probePing({ type: 'PING_CHECK', timing, target: { host: '::1', port: 0, timeoutMs: 3_000 } });
    expect(r6).toMatchObject({ up: true, reason: 'echo reply from ::1' });
  });

  it('PING_CHECK across a veth: the peer answers, an absent host times out', async () => {
    const up = await probeIn(client, { type: 'PING_CHECK', timing, target: { host: '10.96.0.2', port: 0, timeoutMs: 2_000 } });
    expect(up).toMatchObject({ up: true, reason: 'echo reply from 10.96.0.2' });
    const down = await probeIn(client, { type: 'PING_CHECK', timing, target: { host: '10.96.0.3', port: 0, timeoutMs: 800 } });
    expect(down.up).toBe(false);
    expect(down.reason).toContain('no echo reply');
  });

  it('TCP_CHECK: dropped SYNs give a connect timeout within connect_timeout; a closed port is refused', async () => {
    const t = await probeIn(client, { type: 'TCP_CHECK', timing, target: { host: '10.96.0.2', port: 81, timeoutMs: 700 } });
    expect(t.up).toBe(false);
    expect(t.reason).toContain('connect timeout');
    expect(t.durationMs).toBeGreaterThanOrEqual(650);
    expect(t.durationMs).toBeLessThan(2_000);
    const r = await probeIn(client, { type: 'TCP_CHECK', timing, target: { host: '10.96.0.2', port: 82, timeoutMs: 700 } });
    expect(r).toMatchObject({ up: false, reason: 'connection refused' });
  });

  it('HTTP_GET: a dropped connection times out instead of hanging', async () => {
    const r = await probeIn(client, {
      type: 'HTTP_GET', timing, target: { host: '10.96.0.2', port: 81, timeoutMs: 600 },
      urls: [{ path: '/', statusCodes: [] }], httpProtocol: '1.0',
    });
    expect(r.up).toBe(false);
    expect(r.reason).toContain('timeout');
  });

  it('MISC_CHECK runs as script_user', async () => {
    chmodSync(work, 0o777);
    const out = path.join(work, 'uid.txt');
    const script = path.join(work, 'whoami.sh');
    writeFileSync(script, `#!/bin/sh\nid -u > ${out}\nexit 0\n`);
    chmodSync(script, 0o755);
    const r = await probeMisc({ type: 'MISC_CHECK', timing, argv: [script], timeoutMs: 5_000, dynamic: false, runAs: { uid: 65534, gid: 65534 } });
    expect(r.up).toBe(true);
    expect(readFileSync(out, 'utf8').trim()).toBe('65534');
  });

  it('a daemon killed with SIGKILL leaves no MISC_CHECK script (nor what it started) behind', async () => {
    const pids = path.join(work, 'pids.txt');
    const script = path.join(work, 'hang.sh');
    writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho "$$ $!" > ${pids}\nwait\n`);
    chmodSync(script, 0o755);
    const plan: HealthCheckPlan = {
      virtualServers: [{
        key: 'vs', quorum: 1, hysteresis: 0, omega: false,
        realServers: [{ key: 'rs', weight: 1, inhibitOnFailure: false, checkers: [{ type: 'MISC_CHECK', timing: { ...timing, delayLoopMs: 60_000 }, argv: [script], timeoutMs: 60_000, dynamic: false }] }],
      }],
    };
    const [node, ...args] = tsxArgv(driver, [JSON.stringify(plan)]);
    const daemon = spawn(node!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const started = await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split(' ').length === 2, { timeoutMs: 20_000 });
      expect(started).toBe(true);
      const [shPid, sleepPid] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
      expect(alive(shPid) && alive(sleepPid)).toBe(true);
      // The daemon's script reapers (`node -e`), to say what became of them should the leftover survive.
      const reapers = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
        try {
          return readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(daemon.pid) && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('\0-e\0');
        } catch {
          return false;
        }
      });
      expect(reapers.length, 'the checker thread started its script reaper').toBeGreaterThan(0);
      const reaperStates = (): string => reapers.map((r) => { try { return readFileSync(`/proc/${r}/stat`, 'utf8').split(' ').slice(0, 5).join(' '); } catch { return `${r} gone`; } }).join('; ');
      daemon.kill('SIGKILL');
      // The script dies with the daemon (PR_SET_PDEATHSIG); what it started goes when the reaper sees its
      // stdin close or its parent change.
      expect(await waitFor(() => !alive(shPid), { timeoutMs: 2_000 })).toBe(true);
      const gone = await waitFor(() => !alive(sleepPid), { timeoutMs: 60_000 });
      expect(gone, `sleep ${sleepPid} outlived the daemon; its reapers (${reapers.join(',') || 'none found'}): ${reaperStates()}`).toBe(true);
    } finally {
      daemon.kill('SIGKILL');
      await sleep(50);
    }
  });
});
