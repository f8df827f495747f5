import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, mustRun, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, hasAddress, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// virtual_routes / virtual_rules / static_routes: the SAME file run by keepalived 2.2.7 (the reference) and by
// tslvsd in namespace a, a keepalived peer in namespace b; `ip route show table all proto keepalived` and
// `ip rule show` compared at each state: MASTER, FAULT (tracked link down), BACKUP (higher peer), stopped.
const PREFIX = labPrefix('rt');
const VIP = '10.99.0.200';

const conf = (routes: string[]) =>
  keepalivedConf({
    routerId: 'a', priority: 150, vips: [`${VIP}/24`], trackInterfaces: ['trk0'], garpMasterDelay: 0, garpMasterRepeat: 1,
    extra: ['virtual_routes {', ...routes.map((r) => `  ${r}`), '}', 'virtual_rules {', `  from ${VIP} table 100 priority 100`, '}'],
  }) + 'static_routes {\n  10.94.0.0/16 via 10.99.0.254 dev eth0\n}\n';

const ROUTES = ['10.98.0.0/24 via 10.99.0.254 dev eth0', '10.96.0.0/24 via 10.99.0.254 dev eth0 table 100'];

describe.skipIf(!isRoot)('virtual_routes / virtual_rules / static_routes against keepalived 2.2.7', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let confFile: string;
  let peerConf: string;
  let peer: KeepalivedProcess | undefined;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    await mustRun('ip', ['-n', a.ns, 'link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1']);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk1', 'up']);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'up']);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-rt-'));
    confFile = path.join(dir, 'a.conf');
    writeFileSync(confFile, conf(ROUTES));
    peerConf = path.join(dir, 'b.conf');
    writeFileSync(peerConf, keepalivedConf({ routerId: 'b', priority: 200, vips: [`${VIP}/24`] }));
  }, 30_000);

  afterAll(async () => {
    for (const c of cleanup) await c().catch(() => {});
    await peer?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What a's kernel holds of ours: routes of protocol keepalived, rules other than the three defaults, the VIP. */
  async function held(): Promise<{ routes: string[]; rules: string[]; vip: boolean }> {
    const routes = (await mustRun('ip', ['-n', a.ns, 'route', 'show', 'table', 'all', 'proto', 'keepalived'])).trim().split('\n').filter(Boolean).map((l) => l.trim()).sort();
    const rules = (await mustRun('ip', ['-n', a.ns, 'rule', 'show'])).trim().split('\n').map((l) => l.replace(/\s+/g, ' ').trim())
      .filter((l) => !/^(0|32766|32767): from all lookup (local|main|default)$/.test(l));
    return { routes, rules, vip: await hasAddress(a.ns, 'eth0', VIP) };
  }

  const MASTER_HOLDS = {
    routes: ['10.94.0.0/16 via 10.99.0.254 dev eth0', '10.96.0.0/24 via 10.99.0.254 dev eth0 table 100', '10.98.0.0/24 via 10.99.0.254 dev eth0'],
    rules: [`100: from ${VIP} lookup 100 proto keepalived`],
    vip: true,
  };
  const NOT_MASTER_HOLDS = { routes: ['10.94.0.0/16 via 10.99.0.254 dev eth0'], rules: [], vip: false };

  /** Runs the scenario with one daemon in a; returns what a held at each step. */
  async function scenario(start: () => { stop: () => Promise<unknown>; isMaster: () => Promise<boolean> }): Promise<Record<string, unknown>> {
    const seen: Record<string, unknown> = {};
    const daemon = start();
    const settled = async (want: typeof MASTER_HOLDS) => waitFor(async () => JSON.stringify(await held()) === JSON.stringify(want), { timeoutMs: 10_000 });
    expect(await waitFor(() => daemon.isMaster(), { timeoutMs: BOOT_MS })).toBe(true);
    await settled(MASTER_HOLDS);
    seen.master = await held();
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'down']);
    await settled(NOT_MASTER_HOLDS);
    seen.fault = await held();
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'up']);
    expect(await waitFor(async () => JSON.stringify(await held()) === JSON.stringify(MASTER_HOLDS), { timeoutMs: 15_000 })).toBe(true);
    peer = startKeepalived(b.ns, peerConf, path.join(dir, 'peer'));
    await settled(NOT_MASTER_HOLDS);
    seen.backup = await held();
    await peer.stop();
    peer = undefined;
    expect(await waitFor(async () => JSON.stringify(await held()) === JSON.stringify(MASTER_HOLDS), { timeoutMs: 15_000 })).toBe(true);
    await daemon.stop();
    await sleep(300);
    seen.stopped = await held();
    return seen;
  }

  let reference: Record<string, unknown>;

  it('keepalived 2.2.7: VIP, routes and rule on MASTER; only the static route on FAULT and BACKUP; nothing after stop', async () => {
    reference = await scenario(() => {
      const k = startKeepalived(a.ns, confFile, path.join(dir, 'ka'));
      cleanup.push(() => k.crash());
      return { stop: () => k.stop(), isMaster: async () => (await held()).vip };
    });
    expect(reference).toEqual({ master: MASTER_HOLDS, fault: NOT_MASTER_HOLDS, backup: NOT_MASTER_HOLDS, stopped: { routes: [], rules: [], vip: false } });
  }, 90_000);

  let tslvsd: TslvsdProcess;

  it('tslvsd: the same kernel state at every step', async () => {
    const seen = await scenario(() => {
      tslvsd = startTslvsd(a.ns, confFile);
      cleanup.push(() => tslvsd.crash());
      return { stop: () => tslvsd.stop(), isMaster: async () => tslvsd.state() === 'MASTER' };
    });
    expect(seen).toEqual(reference);
    expect(tslvsd.code).toBe(0);
  }, 90_000);

  it('kill -9 leaves the routes; the restart clears them and holds exactly one copy of each', async () => {
    tslvsd = startTslvsd(a.ns, confFile);
    expect(await tslvsd.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await waitFor(async () => JSON.stringify(await held()) === JSON.stringify(MASTER_HOLDS), { timeoutMs: 10_000 })).toBe(true);
    await tslvsd.crash();
    expect(await held()).toEqual(MASTER_HOLDS); // a crash cleans nothing up
    tslvsd = startTslvsd(a.ns, confFile);
    cleanup.push(() => tslvsd.crash());
    expect(await tslvsd.waitForLine((l) => l.event === 'routes_cleared', BOOT_MS)).toMatchObject({ count: 3 });
    expect(await tslvsd.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await waitFor(async () => JSON.stringify(await held()) === JSON.stringify(MASTER_HOLDS), { timeoutMs: 10_000 })).toBe(true);
  }, 90_000);

  it('a reload that changes one route touches only that one (ip monitor sees one delete and one add)', async () => {
    const monitor = spawn('ip', ['-n', a.ns, 'monitor', 'route', 'rule'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let events = '';
    monitor.stdout.setEncoding('utf8').on('data', (c: string) => (events += c));
    await sleep(300);
    writeFileSync(confFile, conf([ROUTES[0]!, '10.96.0.0/24 via 10.99.0.253 dev eth0 table 100']));
    const from = tslvsd.lines.length;
    tslvsd.signal('SIGHUP');
    expect(await tslvsd.waitForLine((l) => l.event === 'reload' && l.part === 'vrrp', 30_000, from)).toBeDefined();
    expect(await waitFor(async () => (await held()).routes.includes('10.96.0.0/24 via 10.99.0.253 dev eth0 table 100'), { timeoutMs: 10_000 })).toBe(true);
    await sleep(500);
    monitor.kill();
    const lines = events.trim().split('\n').filter(Boolean).map((l) => l.trim());
    expect(lines).toEqual([
      'Deleted 10.96.0.0/24 via 10.99.0.254 dev eth0 table 100 proto keepalived',
      '10.96.0.0/24 via 10.99.0.253 dev eth0 table 100 proto keepalived',
    ]);
    expect(tslvsd.state()).toBe('MASTER');
    expect(await tslvsd.stop()).toBe(0);
    expect(await held()).toEqual({ routes: [], rules: [], vip: false });
  }, 90_000);
});
