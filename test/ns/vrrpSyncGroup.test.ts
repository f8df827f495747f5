import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, mustRun, sleep, waitFor } from './helpers/exec.js';
import { createBridgeLab, destroyLab, ip, type LabHost, labPrefix, tempIfname } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { VipMonitor } from './helpers/vipMonitor.js';

/**
 * vrrp_sync_group on the wire: two directors, each with an external (eth0) and an internal (eth1) leg, a
 * sync group of VI_EXT + VI_INT. Each leg is a bridge (in its own namespace), not a veth pair between the
 * directors: a veth pair would take the peer's carrier down too when A's link goes down, and B's VI_INT
 * would go FAULT with it.
 */
const PREFIX = labPrefix('sg');
const VIP_EXT = '10.99.0.200';
const VIP_INT = '10.98.0.200';
const GROUP = 'G_LVS';
const SKEW_B_MS = ((256 - 100) / 256) * 1000;
/** Down timer of B (3 × advert_int + skew) plus generous slack for a shared, loaded machine. */
const FAILOVER_BOUND_MS = 3 * 1000 + SKEW_B_MS + 1000;
/** Both directors holding one VIP at once: only the moment an advert takes to cross and be acted on. */
const OVERLAP_BOUND_MS = 150;

interface Director {
  routerId: string;
  priority: number;
  notifyScript: string;
}

/** One keepalived.conf read by tslvsd and by keepalived alike. */
function syncGroupConf(d: Director): string {
  const instance = (name: string, dev: string, vrid: number, vip: string) => [
    `vrrp_instance ${name} {`,
    '  state BACKUP',
    `  interface ${dev}`,
    `  virtual_router_id ${vrid}`,
    `  priority ${d.priority}`,
    '  advert_int 1',
    '  authentication {',
    '    auth_type PASS',
    '    auth_pass sgsecret',
    '  }',
    '  virtual_ipaddress {',
    `    ${vip}/24 dev ${dev}`,
    '  }',
    '  track_interface {',
    `    ${dev}`,
    '  }',
    '}',
  ];
  return [
    'global_defs {',
    `  router_id ${d.routerId}`,
    '  script_user root',
    '  enable_script_security',
    '}',
    `vrrp_sync_group ${GROUP} {`,
    '  group {',
    '    VI_EXT',
    '    VI_INT',
    '  }',
    `  notify "${d.notifyScript}"`,
    '}',
    ...instance('VI_EXT', 'eth0', 61, VIP_EXT),
    ...instance('VI_INT', 'eth1', 62, VIP_INT),
    '',
  ].join('\n');
}

/** Adds a second bridge (br1 in the lab's bridge namespace) and an eth1 leg on it for each host. */
async function addInternalLeg(hosts: { host: LabHost; cidr: string }[]): Promise<void> {
  const bridgeNs = `${PREFIX}br`;
  await ip(['-n', bridgeNs, 'link', 'add', 'br1', 'type', 'bridge']);
  await ip(['-n', bridgeNs, 'link', 'set', 'br1', 'up']);
  let i = 0;
  for (const { host, cidr } of hosts) {
    const port = `q${i++}`;
    const tmp = tempIfname();
    const tmpPort = tempIfname();
    await ip(['link', 'add', tmp, 'type', 'veth', 'peer', 'name', tmpPort]);
    await ip(['link', 'set', tmp, 'netns', host.ns]);
    await ip(['link', 'set', tmpPort, 'netns', bridgeNs]);
    await ip(['-n', host.ns, 'link', 'set', tmp, 'name', 'eth1']);
    await ip(['-n', bridgeNs, 'link', 'set', tmpPort, 'name', port]);
    await ip(['-n', bridgeNs, 'link', 'set', port, 'master', 'br1']);
    await ip(['-n', bridgeNs, 'link', 'set', port, 'up']);
    await ip(['-n', host.ns, 'addr', 'add', cidr, 'dev', 'eth1']);
    await ip(['-n', host.ns, 'link', 'set', 'eth1', 'up']);
  }
}

describe.skipIf(!isRoot)('vrrp_sync_group: two directors, external and internal VIP move together', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let ext: VipMonitor;
  let int: VipMonitor;
  let confA: string;
  let confB: string;
  let notifyA: string;
  let notifyB: string;
  const running: { crash(): Promise<void> }[] = [];

  function notifyScript(name: string): [script: string, log: string] {
    const log = path.join(dir, `${name}-notify.log`);
    const script = path.join(dir, `${name}-notify.sh`);
    writeFileSync(script, `#!/bin/sh\necho "$*" >> ${log}\n`);
    chmodSync(script, 0o755);
    return [script, log];
  }
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = (await createBridgeLab(PREFIX, [
      { name: 'a', cidr: '10.99.0.1/24' },
      { name: 'b', cidr: '10.99.0.2/24' },
    ])) as [LabHost, LabHost];
    await addInternalLeg([
      { host: a, cidr: '10.98.0.1/24' },
      { host: b, cidr: '10.98.0.2/24' },
    ]);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-sg-'));
    const [scriptA, logA] = notifyScript('a');
    const [scriptB, logB] = notifyScript('b');
    notifyA = logA;
    notifyB = logB;
    confA = path.join(dir, 'a.conf');
    confB = path.join(dir, 'b.conf');
    writeFileSync(confA, syncGroupConf({ routerId: 'a', priority: 150, notifyScript: scriptA }));
    writeFileSync(confB, syncGroupConf({ routerId: 'b', priority: 100, notifyScript: scriptB }));
    ext = new VipMonitor([{ ns: a.ns, dev: 'eth0' }, { ns: b.ns, dev: 'eth0' }], VIP_EXT);
    int = new VipMonitor([{ ns: a.ns, dev: 'eth1' }, { ns: b.ns, dev: 'eth1' }], VIP_INT);
    await ext.started();
    await int.started();
  });

  afterAll(async () => {
    await ext?.stop();
    await int?.stop();
    await Promise.all(running.map((p) => p.crash()));
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until `ns` alone holds both VIPs; true if it happened within timeoutMs. */
  async function aloneHoldsBoth(ns: string, timeoutMs: number): Promise<boolean> {
    const check = () => ext.current().join() === ns && int.current().join() === ns;
    return (await waitFor(check, { timeoutMs })) === true;
  }

  describe('tslvsd ↔ tslvsd', () => {
    let pa: TslvsdProcess;
    let pb: TslvsdProcess;

    it('steady state: A (150) holds both VIPs, B (100) none, for 3 s', async () => {
      // A first: started together on a loaded machine, B could boot seconds earlier and be master a while.
      pa = startTslvsd(a.ns, confA);
      running.push(pa);
      expect(await pa.waitForState('MASTER', BOOT_MS, 'VI_EXT')).toBe(true);
      expect(await pa.waitForState('MASTER', BOOT_MS, 'VI_INT')).toBe(true);
      pb = startTslvsd(b.ns, confB);
      running.push(pb);
      expect(await pb.waitForState('BACKUP', BOOT_MS, 'VI_EXT')).toBe(true);
      expect(await pb.waitForState('BACKUP', BOOT_MS, 'VI_INT')).toBe(true);
      expect(await aloneHoldsBoth(a.ns, 5000)).toBe(true);
      const from = performance.now();
      await sleep(3000);
      const to = performance.now();
      expect(ext.fractionHeldOnlyBy(a.ns, from, to)).toBe(1);
      expect(int.fractionHeldOnlyBy(a.ns, from, to)).toBe(1);
      expect(pb.transitions().some((t) => t.to === 'MASTER')).toBe(false);
      expect(pa.lines.some((l) => l.event === 'sync_group_transition' && l.group === GROUP && l.to === 'MASTER')).toBe(true);
    });

    it(`A's internal link down: A's VI_INT goes FAULT, VI_EXT follows via the group, B takes BOTH VIPs within ${FAILOVER_BOUND_MS.toFixed(0)} ms`, async () => {
      const fromA = pa.lines.length;
      const t0 = performance.now();
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'eth1', 'down']);
      const extAt = await ext.heldBy(b.ns, t0, 15_000);
      const intAt = await int.heldBy(b.ns, t0, 15_000);
      expect(extAt).toBeDefined();
      expect(intAt).toBeDefined();
      const extMs = extAt! - t0;
      const intMs = intAt! - t0;
      console.log(`sync group failover (A eth1 down): B holds ext VIP after ${extMs.toFixed(0)} ms, int VIP after ${intMs.toFixed(0)} ms (bound ${FAILOVER_BOUND_MS.toFixed(0)} ms)`);
      expect(extMs).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(intMs).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(await aloneHoldsBoth(b.ns, 3000)).toBe(true);

      const sinceDown = pa.lines.slice(fromA).filter((l) => l.event === 'transition');
      // VI_INT faults for its own link; VI_EXT (whose link is up) is put in FAULT by the group.
      expect(sinceDown).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ instance: 'VI_INT', from: 'MASTER', to: 'FAULT' }),
          expect.objectContaining({ instance: 'VI_EXT', from: 'MASTER', to: 'FAULT', reason: expect.stringContaining(`sync group ${GROUP}`) }),
        ]),
      );
      expect(pa.state('VI_EXT')).toBe('FAULT');
      expect(pa.state('VI_INT')).toBe('FAULT');
      expect(pb.state('VI_EXT')).toBe('MASTER');
      expect(pb.state('VI_INT')).toBe('MASTER');

      // Stays so (A's ext leg still sends nothing that makes B yield).
      const from = performance.now();
      await sleep(3000);
      const to = performance.now();
      expect(ext.fractionHeldOnlyBy(b.ns, from, to)).toBe(1);
      expect(int.fractionHeldOnlyBy(b.ns, from, to)).toBe(1);
      const overlapExt = ext.overlapMs(t0, to);
      const overlapInt = int.overlapMs(t0, to);
      console.log(`sync group failover: both held ext VIP ${overlapExt.toFixed(1)} ms, int VIP ${overlapInt.toFixed(1)} ms`);
      expect(overlapExt).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
      expect(overlapInt).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
    });

    it('link back up: A preempts both VIPs back; B returns to BACKUP on both', async () => {
      const t0 = performance.now();
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'eth1', 'up']);
      expect(await aloneHoldsBoth(a.ns, 15_000)).toBe(true);
      const back = performance.now() - t0;
      console.log(`sync group preemption after link up: A holds both VIPs again after ${back.toFixed(0)} ms`);
      expect(pa.state('VI_EXT')).toBe('MASTER');
      expect(pa.state('VI_INT')).toBe('MASTER');
      expect(await waitFor(() => pb.state('VI_EXT') === 'BACKUP' && pb.state('VI_INT') === 'BACKUP', { timeoutMs: 3000 })).toBe(true);
      await sleep(2000);
      const to = performance.now();
      expect(ext.fractionHeldOnlyBy(a.ns, to - 2000, to)).toBe(1);
      expect(int.fractionHeldOnlyBy(a.ns, to - 2000, to)).toBe(1);
      const overlapExt = ext.overlapMs(t0, to);
      const overlapInt = int.overlapMs(t0, to);
      console.log(`sync group preemption: both held ext VIP ${overlapExt.toFixed(1)} ms, int VIP ${overlapInt.toFixed(1)} ms`);
      expect(overlapExt).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
      expect(overlapInt).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
    });

    it('group notify: `GROUP name state priority` once per group transition, in order', async () => {
      // The service passes priority 0 for a group (a group has no priority of its own).
      const expectA = [`GROUP ${GROUP} MASTER 0`, `GROUP ${GROUP} FAULT 0`, `GROUP ${GROUP} BACKUP 0`, `GROUP ${GROUP} MASTER 0`];
      const expectB = [`GROUP ${GROUP} BACKUP 0`, `GROUP ${GROUP} MASTER 0`, `GROUP ${GROUP} BACKUP 0`];
      expect(await waitFor(() => lines(notifyA).length >= expectA.length + 1, { timeoutMs: 5000 })).toBe(true);
      const seenA = lines(notifyA);
      const seenB = lines(notifyB);
      console.log(`group notify A: ${JSON.stringify(seenA)} B: ${JSON.stringify(seenB)}`);
      // A starts BACKUP (or FAULT while its links settle) before its first MASTER: compare from there on.
      expect(seenA.slice(seenA.indexOf(`GROUP ${GROUP} MASTER 0`))).toEqual(expectA);
      expect(seenB).toEqual(expectB);
      // Notify only on the group: no per-instance lines.
      expect([...seenA, ...seenB].every((l) => l.startsWith(`GROUP ${GROUP} `))).toBe(true);
    });

    it('graceful stop: both release both VIPs; the group notify says STOP', async () => {
      expect(await pa.stop()).toBe(0);
      expect(await aloneHoldsBoth(b.ns, FAILOVER_BOUND_MS)).toBe(true);
      expect(await pb.stop()).toBe(0);
      expect(await waitFor(() => ext.current().length === 0 && int.current().length === 0, { timeoutMs: 3000 })).toBe(true);
      expect(await waitFor(() => lines(notifyA).at(-1) === `GROUP ${GROUP} STOP 0`, { timeoutMs: 3000 })).toBe(true);
    });
  });

  describe('tslvsd (A) ↔ keepalived 2.2.7 (B), same keepalived.conf', () => {
    let pa: TslvsdProcess;
    let kb: KeepalivedProcess;

    it('steady state, A int link down → keepalived takes both VIPs, link up → A preempts both back', async () => {
      rmSync(notifyA, { force: true });
      rmSync(notifyB, { force: true });
      pa = startTslvsd(a.ns, confA);
      running.push(pa);
      expect(await pa.waitForState('MASTER', BOOT_MS, 'VI_EXT')).toBe(true);
      expect(await pa.waitForState('MASTER', BOOT_MS, 'VI_INT')).toBe(true);
      kb = startKeepalived(b.ns, confB, path.join(dir, 'kb'));
      running.push(kb);
      expect(await kb.ready()).toBe(true);
      expect(await kb.waitForLog(/VI_INT\) Entering BACKUP STATE/)).toBe(true);
      expect(await aloneHoldsBoth(a.ns, 5000)).toBe(true);
      await sleep(3000);
      expect(ext.current()).toEqual([a.ns]);
      expect(int.current()).toEqual([a.ns]);

      const t0 = performance.now();
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'eth1', 'down']);
      const extAt = await ext.heldBy(b.ns, t0, 15_000);
      const intAt = await int.heldBy(b.ns, t0, 15_000);
      expect(extAt).toBeDefined();
      expect(intAt).toBeDefined();
      console.log(`sync group failover to keepalived: ext ${(extAt! - t0).toFixed(0)} ms, int ${(intAt! - t0).toFixed(0)} ms (bound ${FAILOVER_BOUND_MS.toFixed(0)} ms)`);
      expect(extAt! - t0).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(intAt! - t0).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(await aloneHoldsBoth(b.ns, 3000)).toBe(true);
      await sleep(2000);
      expect(ext.current()).toEqual([b.ns]);
      expect(int.current()).toEqual([b.ns]);

      const t1 = performance.now();
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'eth1', 'up']);
      expect(await aloneHoldsBoth(a.ns, 15_000)).toBe(true);
      await sleep(2000);
      const to = performance.now();
      expect(ext.fractionHeldOnlyBy(a.ns, to - 2000, to)).toBe(1);
      expect(int.fractionHeldOnlyBy(a.ns, to - 2000, to)).toBe(1);
      console.log(`with keepalived: both held ext VIP ${ext.overlapMs(t0, to).toFixed(1)} ms, int VIP ${int.overlapMs(t0, to).toFixed(1)} ms; preempted back after ${(to - 2000 - t1).toFixed(0)} ms`);
      expect(ext.overlapMs(t0, to)).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
      expect(int.overlapMs(t0, to)).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
      // keepalived's group notify on B: the same argv convention.
      expect(await waitFor(() => lines(notifyB).includes(`GROUP ${GROUP} MASTER 0`), { timeoutMs: 3000 })).toBe(true);
      console.log(`keepalived group notify B: ${JSON.stringify(lines(notifyB))}`);
      // keepalived read the same file without complaint (else the comparison would be of different configs).
      expect(kb.log).not.toMatch(/Unknown keyword|configuration error|Unknown sync group|not found in sync group/i);
      console.log(`keepalived sync group log: ${JSON.stringify(kb.log.split('\n').filter((l) => /G_LVS|sync/i.test(l)))}`);
      await kb.stop();
      expect(await pa.stop()).toBe(0);
    });
  });

  describe('keepalived 2.2.7 (A) ↔ tslvsd (B), same keepalived.conf', () => {
    it("keepalived A's int link down → tslvsd B takes both VIPs, one member by itself and the other through the group; link up → keepalived preempts both back", async () => {
      rmSync(notifyA, { force: true });
      rmSync(notifyB, { force: true });
      expect(ext.current()).toEqual([]);
      expect(int.current()).toEqual([]);
      const ka = startKeepalived(a.ns, confA, path.join(dir, 'ka'));
      running.push(ka);
      expect(await ka.ready()).toBe(true);
      expect(await aloneHoldsBoth(a.ns, BOOT_MS)).toBe(true);
      const pb = startTslvsd(b.ns, confB);
      running.push(pb);
      expect(await pb.waitForState('BACKUP', BOOT_MS, 'VI_EXT')).toBe(true);
      expect(await pb.waitForState('BACKUP', BOOT_MS, 'VI_INT')).toBe(true);
      await sleep(3000);
      expect(ext.current()).toEqual([a.ns]);
      expect(int.current()).toEqual([a.ns]);
      expect(pb.transitions().some((t) => t.to === 'MASTER')).toBe(false);

      const fromB = pb.lines.length;
      const t0 = performance.now();
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'eth1', 'down']);
      const extAt = await ext.heldBy(b.ns, t0, 15_000);
      const intAt = await int.heldBy(b.ns, t0, 15_000);
      expect(extAt).toBeDefined();
      expect(intAt).toBeDefined();
      console.log(`sync group failover keepalived → tslvsd: ext ${(extAt! - t0).toFixed(0)} ms, int ${(intAt! - t0).toFixed(0)} ms (bound ${FAILOVER_BOUND_MS.toFixed(0)} ms)`);
      expect(extAt! - t0).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(intAt! - t0).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(await aloneHoldsBoth(b.ns, 3000)).toBe(true);
      const toMaster = pb.lines.slice(fromB).filter((l) => l.event === 'transition' && l.to === 'MASTER');
      console.log(`tslvsd B to MASTER: ${JSON.stringify(toMaster.map((l) => [l.instance, l.reason]))}`);
      expect(toMaster.map((l) => l.instance).sort()).toEqual(['VI_EXT', 'VI_INT']);
      expect(toMaster.filter((l) => String(l.reason).includes(`sync group ${GROUP}`))).toHaveLength(1);

      const t1 = performance.now();
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'eth1', 'up']);
      expect(await aloneHoldsBoth(a.ns, 15_000)).toBe(true);
      expect(await waitFor(() => pb.state('VI_EXT') === 'BACKUP' && pb.state('VI_INT') === 'BACKUP', { timeoutMs: 3000 })).toBe(true);
      await sleep(2000);
      const to = performance.now();
      expect(ext.fractionHeldOnlyBy(a.ns, to - 2000, to)).toBe(1);
      expect(int.fractionHeldOnlyBy(a.ns, to - 2000, to)).toBe(1);
      console.log(`keepalived → tslvsd: both held ext VIP ${ext.overlapMs(t0, to).toFixed(1)} ms, int VIP ${int.overlapMs(t0, to).toFixed(1)} ms; preempted back after ${(to - 2000 - t1).toFixed(0)} ms`);
      expect(ext.overlapMs(t0, to)).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
      expect(int.overlapMs(t0, to)).toBeLessThanOrEqual(OVERLAP_BOUND_MS);
      expect(lines(notifyB)).toEqual([`GROUP ${GROUP} BACKUP 0`, `GROUP ${GROUP} MASTER 0`, `GROUP ${GROUP} BACKUP 0`]);
      // keepalived's own group notify on A: the same sequence the tslvsd case above asserts for tslvsd's A.
      const seenA = lines(notifyA);
      console.log(`keepalived group notify A: ${JSON.stringify(seenA)}`);
      expect(seenA.slice(seenA.indexOf(`GROUP ${GROUP} MASTER 0`))).toEqual([`GROUP ${GROUP} MASTER 0`, `GROUP ${GROUP} FAULT 0`, `GROUP ${GROUP} BACKUP 0`, `GROUP ${GROUP} MASTER 0`]);
      expect(await pb.stop()).toBe(0);
      await ka.stop();
    });
  });
});
