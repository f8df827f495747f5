import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, sleep } from './helpers/exec.js';
import { addressesOf, createVethLab, destroyLab, labPrefix, type LabHost } from './helpers/netns.js';
import { BOOT_MS, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { VipMonitor } from './helpers/vipMonitor.js';

// Sync groups on reload, one tslvsd (the real CLI): a group whose membership changes is another unit — it
// alone restarts; an instance outside it, and a group whose members only changed settings, keep their state.
const PREFIX = labPrefix('vrs');
const VIP = (n: number) => `10.95.0.${200 + n}`;

function instance(name: string, vrid: number, priority: number): string {
  return `vrrp_instance ${name} {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP(vrid - 70)}/24
  }
}
`;
}

function conf(groupMembers: string[], vi1Priority: number): string {
  return `global_defs {
  router_id a
}
vrrp_sync_group G1 {
  group {
${groupMembers.map((m) => `    ${m}`).join('\n')}
  }
}
${instance('VI_1', 71, vi1Priority)}${instance('VI_2', 72, 150)}${instance('VI_3', 73, 150)}`;
}

describe.skipIf(!isRoot)('VRRP reload with sync groups (SIGHUP)', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let file: string;
  let pa: TslvsdProcess;
  let watch3: VipMonitor;

  async function reload(text: string): Promise<Record<string, unknown>> {
    const from = pa.lines.length;
    writeFileSync(file, text);
    pa.signal('SIGHUP');
    const line = await pa.waitForLine((l) => l.event === 'reload' && l.part === 'vrrp', 20_000, from);
    expect(line).toBeDefined();
    return line!;
  }
  const transitionsOf = (name: string) => pa.transitions().filter((t) => t.instance === name).length;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.95.0.1/24', '10.95.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-vrs-'));
    file = path.join(dir, 'a.conf');
    writeFileSync(file, conf(['VI_1', 'VI_2'], 150));
    pa = startTslvsd(a.ns, file);
    for (const name of ['VI_1', 'VI_2', 'VI_3']) expect(await pa.waitForState('MASTER', BOOT_MS, name)).toBe(true);
    watch3 = new VipMonitor([a, b], VIP(3));
    await watch3.started();
  }, 2 * BOOT_MS);

  afterAll(async () => {
    await watch3?.stop();
    await pa?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a member’s priority changed inside an unchanged group: reconfigured in place, nobody moves', async () => {
    const before = ['VI_1', 'VI_2', 'VI_3'].map(transitionsOf);
    const line = await reload(conf(['VI_1', 'VI_2'], 140));
    expect(line.reconfigured).toHaveLength(1);
    expect(line.restarted).toEqual([]);
    await sleep(1500);
    expect(['VI_1', 'VI_2', 'VI_3'].map(transitionsOf)).toEqual(before);
  }, 60_000);

  it('membership changed: only that group restarts; the instance outside keeps its state and VIP', async () => {
    const since = performance.now();
    const vi3 = transitionsOf('VI_3');
    const vi1 = transitionsOf('VI_1');
    const line = await reload(conf(['VI_1'], 140));
    // Old unit {VI_1, VI_2} stopped; new units {VI_1} (group) and VI_2 (alone) started.
    expect(line.restarted as string[]).toHaveLength(1);
    expect((line.restarted as string[])[0]).toContain('sync_group');
    for (const name of ['VI_1', 'VI_2']) expect(await pa.waitForLine((l) => l.event === 'transition' && l.instance === name && l.to === 'MASTER', 15_000, pa.lines.indexOf(line))).toBeDefined();
    expect(transitionsOf('VI_1')).toBeGreaterThan(vi1);
    expect(transitionsOf('VI_3')).toBe(vi3);
    expect(watch3.samples.filter((s) => s.at >= since).every((s) => s.holders.length === 1 && s.holders[0] === a.ns)).toBe(true);
    expect(await addressesOf(a.ns, a.dev)).toEqual(expect.arrayContaining([VIP(1), VIP(2), VIP(3)]));
  }, 60_000);
});
