import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, sleep, waitFor } from './helpers/exec.js';
import { createBridgeLab, destroyLab, hasAddress, labPrefix, nsRun, type LabHost } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// use_vmac between tslvsd (a, priority 150) and keepalived 2.2.7 (b, priority 100) on one bridge, with an
// observer (c) that asks ARP for the VIP: whoever is master answers from 00:00:5e:00:01:33 (VRID 51) on
// its macvlan vrrp.51. Then: failover to keepalived, kill -9 + restart of tslvsd (one macvlan, not two),
// and a graceful stop that removes it.
const PREFIX = labPrefix('vm');
const VIP = '10.99.0.200';
const VMAC = '00:00:5e:00:01:33';
const hasKeepalived = /Keepalived/.test(Object.values(await runCommand('keepalived', ['--version'])).join(''));

interface IpLink {
  ifname: string;
  address: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
}

async function macvlans(ns: string): Promise<IpLink[]> {
  const out = await runCommand('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'type', 'macvlan']);
  return JSON.parse(out.stdout || '[]') as IpLink[];
}

/** The MAC that answers ARP for the VIP on the segment, asked from the observer (undefined: no answer). */
async function arpAnswer(observer: LabHost): Promise<string | undefined> {
  const out = await nsRun(observer.ns, 'arping', ['-c', '1', '-w', '2', '-i', observer.dev, VIP], 10_000);
  return /bytes from ([0-9a-f:]{17})/.exec(out.stdout)?.[1];
}

async function sysctl(ns: string, key: string): Promise<string> {
  return (await nsRun(ns, 'cat', [`/proc/sys/${key}`])).stdout.trim();
}

describe.skipIf(!isRoot || !hasKeepalived)('use_vmac: tslvsd and keepalived 2.2.7 each on a macvlan', () => {
  let a: LabHost;
  let b: LabHost;
  let c: LabHost;
  let dir: string;
  let ts: TslvsdProcess | undefined;
  let ka: KeepalivedProcess | undefined;
  const conf = (host: 'a' | 'b', extra: string[] = []) => {
    const file = path.join(dir, `${host}${extra.length}.conf`);
    writeFileSync(file, keepalivedConf({ routerId: host, priority: host === 'a' ? 150 : 100, vips: [`${VIP}/24`], password: 'vmac1', extra: ['use_vmac', ...extra] }));
    return file;
  };

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b, c] = await createBridgeLab(PREFIX, [
      { name: 'a', cidr: '10.99.0.1/24' },
      { name: 'b', cidr: '10.99.0.2/24' },
      { name: 'c', cidr: '10.99.0.3/24' },
    ]);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-vm-'));
  });

  afterAll(async () => {
    await ts?.crash();
    await ka?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one master: tslvsd holds the VIP on vrrp.51, the VIP answers ARP with the virtual MAC', async () => {
    ts = startTslvsd(a.ns, conf('a'));
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    ka = startKeepalived(b.ns, conf('b'), path.join(dir, 'ka'));
    expect(await ka.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
    await sleep(3000); // a few adverts: nobody changes its mind
    expect(ts.transitions().filter((t) => t.to === 'MASTER')).toHaveLength(1);
    expect(ka.log).not.toMatch(/Entering MASTER STATE/);

    const [ours] = await macvlans(a.ns);
    expect(ours).toMatchObject({ ifname: 'vrrp.51', address: VMAC, link: 'eth0', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
    expect((await macvlans(b.ns)).map((l) => [l.ifname, l.address])).toEqual([['vrrp.51', VMAC]]);
    expect(await hasAddress(a.ns, 'vrrp.51', VIP)).toBe(true);
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(false);
    expect(await hasAddress(b.ns, 'vrrp.51', VIP)).toBe(false);
    // keepalived's sysctls, on both sides alike.
    for (const ns of [a.ns, b.ns]) {
      expect([await sysctl(ns, 'net/ipv4/conf/vrrp.51/arp_ignore'), await sysctl(ns, 'net/ipv4/conf/vrrp.51/accept_local'), await sysctl(ns, 'net/ipv4/conf/vrrp.51/rp_filter')]).toEqual(['1', '1', '0']);
      expect([await sysctl(ns, 'net/ipv4/conf/eth0/arp_ignore'), await sysctl(ns, 'net/ipv4/conf/eth0/arp_filter')]).toEqual(['1', '1']);
    }
    expect(await arpAnswer(c)).toBe(VMAC);
    // The adverts leave from the VMAC: its MAC is the Ethernet source, the parent's address the IP source.
    const advert = await nsRun(c.ns, 'timeout', ['5', 'tcpdump', '-c', '1', '-e', '-nn', '-i', c.dev, 'ip proto 112'], 10_000);
    expect(advert.stdout).toMatch(new RegExp(`${VMAC} > 01:00:5e:00:00:12, .* 10\\.99\\.0\\.1 > 224\\.0\\.0\\.18: VRRPv2, Advertisement, vrid 51, prio 150`));
  });

  it('kill -9 of tslvsd: keepalived takes the VIP on its vrrp.51, the same MAC answers', async () => {
    await ts!.crash();
    expect(await ka!.waitForLog(/Entering MASTER STATE/, 10_000)).toBe(true);
    expect(await waitFor(() => hasAddress(b.ns, 'vrrp.51', VIP), { timeoutMs: 5000 })).toBe(true);
    expect(await arpAnswer(c)).toBe(VMAC);
    expect(await nsRun(c.ns, 'ping', ['-c', '1', '-W', '2', VIP])).toMatchObject({ code: 0 });
  });

  it('restart after kill -9: the leftover macvlan is taken over (one, not two), tslvsd preempts', async () => {
    expect((await macvlans(a.ns)).map((l) => l.ifname)).toEqual(['vrrp.51']); // left by the crash
    ts = startTslvsd(a.ns, conf('a'));
    expect(await ts.waitForLine((l) => l.event === 'vmac_up', BOOT_MS)).toMatchObject({ reused: true, vmac: 'vrrp.51' });
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await ka!.waitForLog(/Entering MASTER STATE[\s\S]*Entering BACKUP STATE/, 10_000)).toBe(true);
    expect((await macvlans(a.ns)).map((l) => [l.ifname, l.address])).toEqual([['vrrp.51', VMAC]]);
    expect(await waitFor(() => hasAddress(a.ns, 'vrrp.51', VIP), { timeoutMs: 5000 })).toBe(true);
    expect(await waitFor(async () => !(await hasAddress(b.ns, 'vrrp.51', VIP)), { timeoutMs: 5000 })).toBe(true);
    expect(await arpAnswer(c)).toBe(VMAC);
    expect(await nsRun(c.ns, 'ping', ['-c', '1', '-W', '2', VIP])).toMatchObject({ code: 0 });
  });

  it('graceful stop removes the macvlan; keepalived takes over', async () => {
    expect(await ts!.stop()).toBe(0);
    expect(await macvlans(a.ns)).toEqual([]);
    expect(await ka!.waitForLog(/Entering BACKUP STATE[\s\S]*Entering MASTER STATE/, 10_000)).toBe(true);
    expect(await waitFor(() => hasAddress(b.ns, 'vrrp.51', VIP), { timeoutMs: 5000 })).toBe(true);
  });

  it('vmac_xmit_base on both: adverts from the parent (its MAC), the VIP still on vrrp.51 answering with the VMAC', async () => {
    await ka!.stop(); // from the test before: master on b
    ts = startTslvsd(a.ns, conf('a', ['vmac_xmit_base']));
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    ka = startKeepalived(b.ns, conf('b', ['vmac_xmit_base']), path.join(dir, 'ka-xb'));
    expect(await ka.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
    await sleep(3000);
    expect(ka.log).not.toMatch(/Entering MASTER STATE/);
    expect(await hasAddress(a.ns, 'vrrp.51', VIP)).toBe(true);
    expect(await arpAnswer(c)).toBe(VMAC);
    const parentMac = (await runCommand('ip', ['-n', a.ns, '-j', 'link', 'show', 'dev', 'eth0'])).stdout.match(/"address":"([0-9a-f:]{17})"/)![1]!;
    const advert = await nsRun(c.ns, 'timeout', ['5', 'tcpdump', '-c', '1', '-e', '-nn', '-i', c.dev, 'ip proto 112'], 10_000);
    expect(advert.stdout).toContain(`${parentMac} > 01:00:5e:00:00:12`);
    await ts.stop();
    expect(await ka.waitForLog(/Entering MASTER STATE/, 10_000)).toBe(true);
    await ka.stop();
    expect([...(await macvlans(a.ns)), ...(await macvlans(b.ns))]).toEqual([]);
  });

  it('keepalived beside it: kill -9 + restart also leaves one macvlan, its stop none', async () => {
    ka = startKeepalived(b.ns, conf('b'), path.join(dir, 'ka1'));
    expect(await ka.waitForLog(/Entering MASTER STATE/, BOOT_MS)).toBe(true);
    await ka!.crash();
    expect((await macvlans(b.ns)).map((l) => l.ifname)).toEqual(['vrrp.51']);
    ka = startKeepalived(b.ns, conf('b'), path.join(dir, 'ka2'));
    expect(await ka.waitForLog(/Entering MASTER STATE/, BOOT_MS)).toBe(true);
    expect((await macvlans(b.ns)).map((l) => [l.ifname, l.address])).toEqual([['vrrp.51', VMAC]]);
    await ka.stop();
    expect(await macvlans(b.ns)).toEqual([]);
  });
});
