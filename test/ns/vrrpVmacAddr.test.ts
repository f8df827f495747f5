import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, sleep, waitFor } from './helpers/exec.js';
import { addBridgeSegment, createBridgeLab, destroyLab, hasAddress, labPrefix, linkLocalReady, nsRun, type LabHost } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// use_vmac + use_vmac_addr between tslvsd (a, 150) and keepalived 2.2.7 (b, 100) on two bridges (eth0,
// eth1), an observer (c) on both. One instance on eth0, VRID 51, with a VIP on eth0, a VIP on eth1 and an
// IPv6 eVIP on eth0: keepalived puts them on vrrp.51 (the instance's VMAC), vrrp1.51 (an address VMAC on
// eth1, 00:00:5e:00:01:33) and vrrp6.51 (an address VMAC on eth0, 00:00:5e:00:02:33). Both daemons must
// build the same devices with the same sysctls, and whoever is master answers for each VIP with the MAC
// of its VMAC — through a kill -9, a restart that takes the leftovers over, and a graceful stop.
const PREFIX = labPrefix('va');
const VIP = '10.99.0.200';
const VIP_ETH1 = '10.98.0.200';
const EVIP6 = 'fd00:99::200';
const MAC4 = '00:00:5e:00:01:33';
const MAC6 = '00:00:5e:00:02:33';
const hasKeepalived = /Keepalived/.test(Object.values(await runCommand('keepalived', ['--version'])).join(''));

interface IpLink {
  ifname: string;
  address: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
}

/** The macvlans of a namespace as [name, MAC, parent, mode], sorted by name. */
async function macvlans(ns: string): Promise<string[][]> {
  const out = await runCommand('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'type', 'macvlan']);
  return (JSON.parse(out.stdout || '[]') as IpLink[])
    .map((l) => [l.ifname, l.address, l.link ?? '', l.linkinfo?.info_data?.mode ?? ''])
    .sort((x, y) => x[0]!.localeCompare(y[0]!));
}

const EXPECTED_VMACS = [
  ['vrrp.51', MAC4, 'eth0', 'private'],
  ['vrrp1.51', MAC4, 'eth1', 'private'],
  ['vrrp6.51', MAC6, 'eth0', 'private'],
];

async function sysctl(ns: string, key: string): Promise<string> {
  return (await nsRun(ns, 'cat', [`/proc/sys/${key}`])).stdout.trim();
}

/** The sysctls keepalived's VMAC code touches, on every VMAC and parent of the scenario. */
async function vmacSysctls(ns: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const dev of ['vrrp.51', 'vrrp1.51', 'vrrp6.51', 'eth0', 'eth1']) {
    for (const key of ['arp_ignore', 'arp_filter', 'accept_local', 'rp_filter', 'promote_secondaries']) out[`${dev}/${key}`] = await sysctl(ns, `net/ipv4/conf/${dev}/${key}`);
    for (const key of ['disable_ipv6', 'addr_gen_mode']) out[`${dev}/${key}`] = await sysctl(ns, `net/ipv6/conf/${dev}/${key}`);
  }
  return out;
}

/** Every MAC that answers ARP for an address on one of the observer's segments (two requests), sorted. */
async function arpAnswers(observer: LabHost, address: string): Promise<string[]> {
  const out = await nsRun(observer.ns, 'arping', ['-c', '4', '-w', '3', '-i', observer.dev, address], 10_000);
  return [...new Set([...out.stdout.matchAll(/bytes from ([0-9a-f:]{17})/g)].map((m) => m[1]!))].sort();
}

/** The MAC the observer's neighbour discovery resolves the IPv6 eVIP to (a fresh solicitation each time). */
async function ndAnswer(observer: LabHost): Promise<string | undefined> {
  await runCommand('ip', ['-n', observer.ns, '-6', 'neigh', 'flush', 'dev', observer.dev]);
  await nsRun(observer.ns, 'ping', ['-6', '-c', '1', '-W', '2', EVIP6], 10_000);
  const out = await runCommand('ip', ['-n', observer.ns, '-6', 'neigh', 'show', EVIP6, 'dev', observer.dev]);
  return /lladdr ([0-9a-f:]{17})/.exec(out.stdout)?.[1];
}

async function vipsOn(ns: string): Promise<boolean[]> {
  return [await hasAddress(ns, 'vrrp.51', VIP), await hasAddress(ns, 'vrrp1.51', VIP_ETH1), await hasAddress(ns, 'vrrp6.51', EVIP6)];
}

describe.skipIf(!isRoot || !hasKeepalived)('use_vmac_addr: tslvsd and keepalived 2.2.7 build the same address VMACs', () => {
  let a: LabHost;
  let b: LabHost;
  let c: LabHost;
  let c1: LabHost;
  let dir: string;
  let ts: TslvsdProcess | undefined;
  let ka: KeepalivedProcess | undefined;
  const conf = (host: 'a' | 'b') => {
    const file = path.join(dir, `${host}.conf`);
    writeFileSync(file, keepalivedConf({
      routerId: host,
      priority: host === 'a' ? 150 : 100,
      vips: [`${VIP}/24`, `${VIP_ETH1}/24 dev eth1`],
      password: 'vmac2',
      garpMasterRepeat: 1,
      extra: ['use_vmac', 'use_vmac_addr', 'virtual_ipaddress_excluded {', `  ${EVIP6}/64`, '}'],
    }));
    return file;
  };

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b, c] = await createBridgeLab(PREFIX, [
      { name: 'a', cidr: '10.99.0.1/24' },
      { name: 'b', cidr: '10.99.0.2/24' },
      { name: 'c', cidr: '10.99.0.3/24' },
    ]);
    [, , c1] = await addBridgeSegment(PREFIX, 'br1', 'eth1', [
      { host: a, cidr: '10.98.0.1/24' },
      { host: b, cidr: '10.98.0.2/24' },
      { host: c, cidr: '10.98.0.3/24' },
    ]);
    await runCommand('ip', ['-n', c.ns, '-6', 'addr', 'add', 'fd00:99::3/64', 'dev', 'eth0', 'nodad']);
    for (const h of [a, b]) await linkLocalReady(h.ns);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-va-'));
  });

  afterAll(async () => {
    await ts?.crash();
    await ka?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keepalived alone: vrrp.51, vrrp1.51@eth1 and vrrp6.51, the VIPs on them; its stop removes all three', async () => {
    ka = startKeepalived(b.ns, conf('b'), path.join(dir, 'ka0'));
    expect(await ka.waitForLog(/Entering MASTER STATE/, BOOT_MS)).toBe(true);
    expect(await macvlans(b.ns)).toEqual(EXPECTED_VMACS);
    expect(await waitFor(async () => (await vipsOn(b.ns)).every(Boolean), { timeoutMs: 5000 })).toBe(true);
    await ka.stop();
    expect(await macvlans(b.ns)).toEqual([]);
  });

  it('one master (tslvsd): the same three VMACs and sysctls on both sides, each VIP answered by its VMAC', async () => {
    ts = startTslvsd(a.ns, conf('a'));
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    ka = startKeepalived(b.ns, conf('b'), path.join(dir, 'ka1'));
    expect(await ka.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
    await sleep(2000);
    expect(ka.log).not.toMatch(/Entering MASTER STATE/);

    expect(await macvlans(a.ns)).toEqual(EXPECTED_VMACS);
    expect(await macvlans(b.ns)).toEqual(EXPECTED_VMACS);
    expect(await waitFor(async () => (await vipsOn(a.ns)).every(Boolean), { timeoutMs: 5000 })).toBe(true);
    expect(await vipsOn(b.ns)).toEqual([false, false, false]);
    expect(await hasAddress(a.ns, 'eth1', VIP_ETH1)).toBe(false);
    // keepalived's sysctls, but for one: it leaves the IPv6 VMAC at arp_ignore 0, tslvsd sets 1 (below).
    const ours = await vmacSysctls(a.ns);
    const theirs = await vmacSysctls(b.ns);
    expect([ours['vrrp6.51/arp_ignore'], theirs['vrrp6.51/arp_ignore']]).toEqual(['1', '0']);
    expect({ ...ours, 'vrrp6.51/arp_ignore': '0' }).toEqual(theirs);
    // keepalived's set_link_local_address: the IPv6 VMAC carries its parent's link-local, on both sides.
    for (const h of [a, b]) {
      const parentLl = await linkLocalReady(h.ns, 'eth0');
      expect(await hasAddress(h.ns, 'vrrp6.51', parentLl)).toBe(true);
    }
    expect(await arpAnswers(c, VIP)).toEqual([MAC4]);
    expect(await arpAnswers(c1, VIP_ETH1)).toEqual([MAC4]);
    expect(await ndAnswer(c)).toBe(MAC6);
  });

  it('kill -9 of tslvsd: keepalived takes every VIP onto its own VMACs, the same MACs answer', async () => {
    await ts!.crash();
    expect(await ka!.waitForLog(/Entering MASTER STATE/, 10_000)).toBe(true);
    expect(await waitFor(async () => (await vipsOn(b.ns)).every(Boolean), { timeoutMs: 5000 })).toBe(true);
    expect(await arpAnswers(c1, VIP_ETH1)).toEqual([MAC4]);
    expect(await ndAnswer(c)).toBe(MAC6);
    // keepalived's IPv6 VMAC (arp_ignore 0) answers ARP for the IPv4 VIP beside it with the IPv6 MAC.
    expect(await arpAnswers(c, VIP)).toEqual([MAC4, MAC6]);
    expect(await nsRun(c1.ns, 'ping', ['-c', '1', '-W', '2', VIP_ETH1])).toMatchObject({ code: 0 });
  });

  it('restart after kill -9: the leftover VMACs are taken over (three, not six), tslvsd preempts; its stop removes them', async () => {
    expect(await macvlans(a.ns)).toEqual(EXPECTED_VMACS); // left by the crash
    ts = startTslvsd(a.ns, conf('a'));
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    const ups = ts.lines.filter((l) => l.event === 'vmac_up');
    expect(ups.map((l) => [l.vmac, l.reused])).toEqual([['vrrp.51', true], ['vrrp1.51', true], ['vrrp6.51', true]]);
    expect(await ka!.waitForLog(/Entering MASTER STATE[\s\S]*Entering BACKUP STATE/, 10_000)).toBe(true);
    expect(await macvlans(a.ns)).toEqual(EXPECTED_VMACS);
    expect(await waitFor(async () => (await vipsOn(a.ns)).every(Boolean), { timeoutMs: 5000 })).toBe(true);
    expect(await waitFor(async () => !(await vipsOn(b.ns)).some(Boolean), { timeoutMs: 5000 })).toBe(true);
    expect(await ndAnswer(c)).toBe(MAC6);
    expect(await arpAnswers(c, VIP)).toEqual([MAC4]);

    expect(await ts.stop()).toBe(0);
    expect(await macvlans(a.ns)).toEqual([]);
    expect(await ka!.waitForLog(/Entering BACKUP STATE[\s\S]*Entering MASTER STATE/, 10_000)).toBe(true);
    expect(await waitFor(async () => (await vipsOn(b.ns)).every(Boolean), { timeoutMs: 5000 })).toBe(true);
  });
});
