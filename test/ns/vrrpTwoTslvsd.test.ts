import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, nsRun, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf, type VrrpScenario } from './helpers/keepalivedConf.js';
import { VipMonitor } from './helpers/vipMonitor.js';

// Two tslvsd on a veth pair: A (priority 150) and B (priority 100), advert_int 1, VIP 10.99.0.200.
const PREFIX = labPrefix('tt');
const VIP = '10.99.0.200';
const SKEW_B_MS = ((256 - 100) / 256) * 1000;
const CRASH_BOUND_MS = 3 * 1000 + SKEW_B_MS + 250;
const GRACEFUL_BOUND_MS = SKEW_B_MS + 250;

describe.skipIf(!isRoot)('two tslvsd on one segment', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let watch: VipMonitor;
  const running: TslvsdProcess[] = [];

  function start(host: LabHost, scenario: VrrpScenario): TslvsdProcess {
    const file = path.join(dir, `${host.ns}-${running.length}.conf`);
    writeFileSync(file, keepalivedConf(scenario));
    const p = startTslvsd(host.ns, file);
    running.push(p);
    return p;
  }
  const confA = (extra: Partial<VrrpScenario> = {}): VrrpScenario => ({ routerId: 'a', priority: 150, vips: [`${VIP}/24`], password: 'secret1', ...extra });
  const confB = (extra: Partial<VrrpScenario> = {}): VrrpScenario => ({ routerId: 'b', priority: 100, vips: [`${VIP}/24`], password: 'secret1', ...extra });

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-tt-'));
    watch = new VipMonitor([a, b], VIP);
    await watch.started();
  });

  afterAll(async () => {
    await watch?.stop();
    await Promise.all(running.map((p) => p.crash()));
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function stopAll(): Promise<void> {
    await Promise.all(running.filter((p) => p.running).map((p) => p.stop()));
  }

  it('elects the higher priority; the other stays backup; only the master holds the VIP', async () => {
    // A first: started together on a loaded machine, B may finish booting seconds earlier and be master
    // until A preempts (covered by the preemption test).
    const pa = start(a, confA());
    expect(await pa.waitForState('MASTER', BOOT_MS)).toBe(true);
    const pb = start(b, confB());
    expect(await pb.waitForState('BACKUP', BOOT_MS)).toBe(true);
    expect(await watch.heldBy(a.ns, 0, 5000)).toBeDefined();
    const from = performance.now();
    await sleep(3000);
    expect(watch.fractionHeldOnlyBy(a.ns, from, performance.now())).toBe(1);
    expect(pb.state()).toBe('BACKUP');
    // One structured line per transition: instance, from, to, reason.
    expect(pa.transitions()).toEqual(
      expect.arrayContaining([expect.objectContaining({ instance: 'VI_1', from: 'INIT', to: 'BACKUP' }), expect.objectContaining({ from: 'BACKUP', to: 'MASTER' })]),
    );
    expect(pb.transitions().some((t) => t.to === 'MASTER')).toBe(false);
  });

  it('a backup held 5 s (SIGSTOP, SIGCONT) while the master advertises: it reads the waiting adverts and stays backup', async () => {
    // On resume its event loop runs the overdue master-down timer before it reads the socket; taking over
    // then would be a second master for a moment and a gratuitous ARP moving the clients away.
    const [pa, pb] = running as [TslvsdProcess, TslvsdProcess];
    const from = pb.lines.length;
    pb.signal('SIGSTOP');
    await sleep(5000);
    pb.signal('SIGCONT');
    const late = await pb.waitForLine((l) => l.event === 'vrrp_master_down_late', 5000, from);
    expect(late, 'the late master-down timer is logged').toBeDefined();
    expect(Number(late!.lateMs)).toBeGreaterThan(500);
    await sleep(3000);
    expect(pb.lines.slice(from).filter((l) => l.event === 'transition'), 'no transition of the held backup').toEqual([]);
    expect(pb.state()).toBe('BACKUP');
    expect(pa.state()).toBe('MASTER');
    expect(watch.current()).toEqual([a.ns]);
  });

  it(`after kill -9 of the master the backup holds the VIP within 3 × advert_int + skew + 0.25 s (${CRASH_BOUND_MS.toFixed(0)} ms)`, async () => {
    const [pa, pb] = running as [TslvsdProcess, TslvsdProcess];
    const t0 = performance.now();
    await pa.crash();
    const at = await watch.heldBy(b.ns, t0, 10_000);
    expect(at).toBeDefined();
    const ms = at! - t0;
    console.log(`tslvsd→tslvsd crash takeover: ${ms.toFixed(0)} ms (bound ${CRASH_BOUND_MS.toFixed(0)} ms)`);
    expect(ms).toBeLessThanOrEqual(CRASH_BOUND_MS);
    expect(pb.state()).toBe('MASTER');
  });

  it('the returning higher priority preempts; the VIP moves back and stays on one holder', async () => {
    const pb = running[1]!;
    const t0 = performance.now();
    const pa = start(a, confA());
    // The crashed A left its VIP behind (as keepalived does on kill -9); a starting tslvsd clears it first.
    expect(await pa.waitForState('BACKUP', BOOT_MS)).toBe(true);
    const cleared = performance.now();
    expect(await waitFor(() => watch.current().join() === b.ns, { timeoutMs: 2000 })).toBe(true);
    expect(await pa.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await pb.waitForLine((l) => l.event === 'transition' && l.from === 'MASTER' && l.to === 'BACKUP', 5000)).toBeDefined();
    expect(await watch.heldBy(a.ns, t0, 5000)).toBeDefined();
    await sleep(1500);
    const from = performance.now();
    await sleep(2000);
    expect(watch.fractionHeldOnlyBy(a.ns, from, performance.now())).toBe(1);
    const overlap = watch.overlapMs(cleared, from);
    console.log(`preemption: VIP on both for ${overlap.toFixed(0)} ms`);
    expect(overlap).toBeLessThan(500);
  });

  it(`after a graceful stop (priority 0) the backup holds the VIP within skew + 0.25 s (${GRACEFUL_BOUND_MS.toFixed(0)} ms), and the stopper released it`, async () => {
    const pa = running[2]!;
    const pb = running[1]!;
    const t0 = performance.now();
    const stopping = pa.stop();
    const at = await watch.heldBy(b.ns, t0, 10_000);
    expect(await stopping).toBe(0);
    expect(at).toBeDefined();
    const ms = at! - t0;
    console.log(`tslvsd→tslvsd graceful takeover: ${ms.toFixed(0)} ms (bound ${GRACEFUL_BOUND_MS.toFixed(0)} ms)`);
    expect(ms).toBeLessThanOrEqual(GRACEFUL_BOUND_MS);
    expect(pb.state()).toBe('MASTER');
    expect(await waitFor(() => watch.current().length === 1 && watch.current()[0] === b.ns, { timeoutMs: 2000 })).toBe(true);
    expect(pa.transitions().at(-1)).toMatchObject({ from: 'MASTER', to: 'INIT', reason: 'shutdown' });
    await stopAll();
    expect(await waitFor(() => watch.current().length === 0, { timeoutMs: 2000 })).toBe(true);
  });

  it('nopreempt: a returning higher priority stays backup while the lower one is master', async () => {
    const pb = start(b, confB());
    expect(await pb.waitForState('MASTER', BOOT_MS)).toBe(true);
    const pa = start(a, confA({ nopreempt: true }));
    expect(await pa.waitForState('BACKUP', BOOT_MS)).toBe(true);
    const from = performance.now();
    await sleep(5000);
    expect(pa.state()).toBe('BACKUP');
    expect(pb.state()).toBe('MASTER');
    expect(watch.fractionHeldOnlyBy(b.ns, from, performance.now())).toBe(1);
    await stopAll();
  });

  it('unicast peers: election and failover with adverts sent to the peer, not the group', async () => {
    const pa = start(a, confA({ unicastSrc: '10.99.0.1', unicastPeers: ['10.99.0.2'] }));
    expect(await pa.waitForState('MASTER', BOOT_MS)).toBe(true);
    const pb = start(b, confB({ unicastSrc: '10.99.0.2', unicastPeers: ['10.99.0.1'] }));
    expect(await pb.waitForState('BACKUP', BOOT_MS)).toBe(true);
    const dump = await nsRun(b.ns, 'timeout', ['3', 'tcpdump', '-i', 'eth0', '-c', '2', '-nn', 'ip proto 112'], 10_000);
    expect(dump.stdout).toMatch(/10\.99\.0\.1 > 10\.99\.0\.2: VRRPv2, Advertisement, vrid 51, prio 150/);
    expect(dump.stdout).not.toMatch(/224\.0\.0\.18/);
    const t0 = performance.now();
    await pa.crash();
    const at = await watch.heldBy(b.ns, t0, 10_000);
    expect(at).toBeDefined();
    expect(at! - t0).toBeLessThanOrEqual(CRASH_BOUND_MS);
    await stopAll();
  });
});
