import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, sleep } from './helpers/exec.js';
import { addressesOf, createVethLab, destroyLab, labPrefix, nsRun, type LabHost } from './helpers/netns.js';
import { BOOT_MS, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { VipMonitor } from './helpers/vipMonitor.js';

// SIGHUP with a changed VRRP instance, on two tslvsd (the real CLI) joined by a veth pair: A (priority 150)
// is master, B (100) backup. The instance is matched by interface + VRID and reconfigured in place.
const PREFIX = labPrefix('vrl');
const KEEP = '10.96.0.200';
const DROP = '10.96.0.201';
const ADD = '10.96.0.202';

interface Settings {
  priority: number;
  vips: string[];
  notifyMaster: string;
}

function conf(s: Settings): string {
  return `global_defs {
  router_id r${s.priority}
}
vrrp_instance VI_RL {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority ${s.priority}
  advert_int 1
  notify_master "${s.notifyMaster}"
  virtual_ipaddress {
${s.vips.map((v) => `    ${v}/24`).join('\n')}
  }
}
`;
}

interface InstanceCounters {
  receive: Record<string, number>;
  machine: Record<string, number>;
  send: Record<string, number>;
}

/** The instance's counters from the SIGUSR2 vrrp_stats line. */
async function counters(p: TslvsdProcess): Promise<InstanceCounters> {
  const from = p.lines.length;
  p.signal('SIGUSR2');
  const line = await p.waitForLine((l) => l.event === 'vrrp_stats', 5000, from);
  if (!line) throw new Error('no vrrp_stats line after SIGUSR2');
  return (line.instances as InstanceCounters[])[0]!;
}

/** The VRRP part of two adverts as tcpdump -v prints them (fields, not the IP header's id/checksum). */
async function adverts(host: LabHost): Promise<string[]> {
  const out = await nsRun(host.ns, 'tcpdump', ['-i', host.dev, '-nv', '-l', '-c', '2', 'ip proto 112'], 15_000);
  return [...out.stdout.matchAll(/VRRPv\d.*$/gm)].map((m) => m[0].replace(/, length \d+/, ''));
}

describe.skipIf(!isRoot)('VRRP reload in place (SIGHUP, two tslvsd)', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let confA: string;
  let pa: TslvsdProcess;
  let pb: TslvsdProcess;
  const monitors: VipMonitor[] = [];

  /** SIGHUP after writing A's new config; resolves when the VRRP part logged its reload, with its lines. */
  async function reloadA(s: Settings): Promise<Record<string, unknown>[]> {
    const from = pa.lines.length;
    writeFileSync(confA, conf(s));
    pa.signal('SIGHUP');
    const done = await pa.waitForLine((l) => l.event === 'reload' && l.part === 'vrrp', 20_000, from);
    expect(done).toBeDefined();
    return pa.lines.slice(from);
  }
  const reconfigured = (lines: Record<string, unknown>[]) => lines.find((l) => l.event === 'vrrp_reconfigured');

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.96.0.1/24', '10.96.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-vrl-'));
    confA = path.join(dir, 'a.conf');
    writeFileSync(confA, conf({ priority: 150, vips: [KEEP, DROP], notifyMaster: '/bin/true' }));
    writeFileSync(path.join(dir, 'b.conf'), conf({ priority: 100, vips: [KEEP, DROP], notifyMaster: '/bin/true' }));
    pa = startTslvsd(a.ns, confA);
    expect(await pa.waitForState('MASTER', BOOT_MS)).toBe(true);
    pb = startTslvsd(b.ns, path.join(dir, 'b.conf'));
    expect(await pb.waitForState('BACKUP', BOOT_MS)).toBe(true);
  }, 2 * BOOT_MS);

  afterAll(async () => {
    for (const m of monitors) await m.stop();
    await Promise.all([pa?.crash(), pb?.crash()]);
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('changes a master’s VIP list as a diff: the kept VIP never leaves, no transition, no priority 0', async () => {
    const keep = new VipMonitor([a, b], KEEP);
    monitors.push(keep);
    await keep.started();
    expect(keep.current()).toEqual([a.ns]);
    const since = performance.now();
    const transitionsA = pa.transitions().length;
    const transitionsB = pb.transitions().length;
    const before = await counters(pb);

    const lines = await reloadA({ priority: 150, vips: [KEEP, ADD], notifyMaster: '/bin/true' });
    await sleep(500);
    const addrs = await addressesOf(a.ns, a.dev);
    expect(addrs).toContain(ADD);
    expect(addrs).not.toContain(DROP);
    await sleep(3500); // a few adverts after the reload

    // The kept VIP: held by A alone from before the reload until now — not one 'Deleted' event.
    expect(keep.samples.filter((s) => s.at >= since).every((s) => s.holders.length === 1 && s.holders[0] === a.ns)).toBe(true);
    expect(keep.current()).toEqual([a.ns]);
    expect(pa.transitions().length).toBe(transitionsA);
    expect(pb.transitions().length).toBe(transitionsB);
    expect(pa.state('VI_RL')).toBe('MASTER');
    const after = await counters(pb);
    expect(after.receive.priorityZeroReceived).toBe(before.receive.priorityZeroReceived);
    expect(after.receive.advertisementsReceived).toBeGreaterThan(before.receive.advertisementsReceived!);
    expect((await counters(pa)).send.priorityZeroSent).toBe(0);
    expect(reconfigured(lines)).toMatchObject({ vipsAdded: [ADD], vipsRemoved: [DROP] });
  }, 60_000);

  it('a changed notify script only: the adverts on the wire stay the same', async () => {
    const wireBefore = await adverts(b);
    expect(wireBefore).toHaveLength(2);
    expect(wireBefore[0]).toContain('prio 150');
    const transitionsA = pa.transitions().length;
    const lines = await reloadA({ priority: 150, vips: [KEEP, ADD], notifyMaster: '/usr/bin/true' });
    const wireAfter = await adverts(b);
    expect(wireAfter).toEqual(wireBefore);
    expect(pa.transitions().length).toBe(transitionsA);
    expect((await counters(pb)).receive.priorityZeroReceived).toBe(0);
    expect(reconfigured(lines)).toMatchObject({ vipsAdded: [], vipsRemoved: [] });
  }, 60_000);

  it('a master reloaded below the backup’s priority loses by the normal protocol: one transition each', async () => {
    const transitionsA = pa.transitions().length;
    const transitionsB = pb.transitions().length;
    const from = pb.lines.length;
    const fromA = pa.lines.length;
    const lines = await reloadA({ priority: 50, vips: [KEEP, ADD], notifyMaster: '/usr/bin/true' });
    expect(reconfigured(lines)).toBeDefined();
    // B (preempt) stops resetting its down timer on adverts of priority 50: master after 3 × 1 s + skew.
    expect(await pb.waitForLine((l) => l.event === 'transition' && l.to === 'MASTER', 15_000, from)).toBeDefined();
    expect(await pa.waitForLine((l) => l.event === 'transition' && l.to === 'BACKUP', 10_000, fromA)).toBeDefined();
    await sleep(3000);
    expect(pa.transitions().slice(transitionsA).map((t) => `${t.from}>${t.to}`)).toEqual(['MASTER>BACKUP']);
    expect(pb.transitions().slice(transitionsB).map((t) => `${t.from}>${t.to}`)).toEqual(['BACKUP>MASTER']);
    expect((await counters(pb)).receive.priorityZeroReceived).toBe(0);
    expect(await addressesOf(b.ns, b.dev)).toEqual(expect.arrayContaining([KEEP, DROP]));
    expect(await addressesOf(a.ns, a.dev)).not.toContain(KEEP);
  }, 60_000);
});
