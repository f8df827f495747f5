import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, sleep, waitFor } from './helpers/exec.js';
import { createBridgeLab, destroyLab, hasAddress, labPrefix, linkLocalReady, nsRun, type LabHost } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';
import { VipMonitor } from './helpers/vipMonitor.js';

// An IPv6 VRRPv3 instance with use_vmac between tslvsd (a, 150) and keepalived 2.2.7 (b, 100) on a bridge,
// an observer (c) capturing: the master's VIP sits on vrrp.51 (00:00:5e:00:02:33, with the parent's
// link-local), its adverts and unsolicited NAs leave from that MAC, neighbour discovery for the VIP is
// answered with it; a kill -9 hands all of it to keepalived's VMAC within the takeover bound, a restart
// takes the leftover over and preempts, a graceful stop removes it.
const PREFIX = labPrefix('v6');
const VIP = 'fd00:99::200';
const VMAC = '00:00:5e:00:02:33';
const SKEW_100_MS = ((256 - 100) / 256) * 1000;
const CRASH_BOUND_MS = 3 * 1000 + SKEW_100_MS + 250;
const hasKeepalived = /Keepalived/.test(Object.values(await runCommand('keepalived', ['--version'])).join(''));

interface IpLink {
  ifname: string;
  address: string;
  link?: string;
  linkinfo?: { info_data?: { mode?: string } };
}

async function macvlans(ns: string): Promise<string[][]> {
  const out = await runCommand('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'type', 'macvlan']);
  return (JSON.parse(out.stdout || '[]') as IpLink[]).map((l) => [l.ifname, l.address, l.link ?? '', l.linkinfo?.info_data?.mode ?? '']);
}

async function sysctls(ns: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const dev of ['vrrp.51', 'eth0']) {
    for (const key of ['arp_ignore', 'arp_filter', 'accept_local', 'rp_filter', 'promote_secondaries']) out[`${dev}/${key}`] = (await nsRun(ns, 'cat', [`/proc/sys/net/ipv4/conf/${dev}/${key}`])).stdout.trim();
    for (const key of ['disable_ipv6', 'addr_gen_mode', 'accept_dad']) out[`${dev}/${key}`] = (await nsRun(ns, 'cat', [`/proc/sys/net/ipv6/conf/${dev}/${key}`])).stdout.trim();
  }
  return out;
}

/** tcpdump -e -vv on the observer, one entry per frame (continuation lines joined), without timestamps. */
function capture(ns: string, filter: string): { frames: string[]; listening: Promise<void>; stop: () => Promise<void> } {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'eth0', '-nn', '-e', '-vv', '-t', '-l', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  const frames: string[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (/^\s/.test(line) && frames.length > 0) frames[frames.length - 1] += ` ${line.trim()}`;
      else frames.push(line);
    }
  });
  const listening = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { frames, listening, stop: async () => (child.kill('SIGINT'), await exited) };
}

const NA_FILTER = 'icmp6 and ip6[40] == 136';

/** The MAC neighbour discovery resolves the VIP to, from a fresh solicitation. */
async function ndAnswer(observer: LabHost): Promise<string | undefined> {
  await runCommand('ip', ['-n', observer.ns, '-6', 'neigh', 'flush', 'dev', observer.dev]);
  await nsRun(observer.ns, 'ping', ['-6', '-c', '1', '-W', '2', VIP], 10_000);
  return /lladdr ([0-9a-f:]{17})/.exec((await runCommand('ip', ['-n', observer.ns, '-6', 'neigh', 'show', VIP, 'dev', observer.dev])).stdout)?.[1];
}

describe.skipIf(!isRoot || !hasKeepalived)('IPv6 use_vmac: tslvsd and keepalived 2.2.7 each on a macvlan', () => {
  let a: LabHost;
  let b: LabHost;
  let c: LabHost;
  let dir: string;
  let watch: VipMonitor;
  let ts: TslvsdProcess | undefined;
  let ka: KeepalivedProcess | undefined;
  const naOf: Record<'tslvsd' | 'keepalived', string[]> = { tslvsd: [], keepalived: [] };
  const conf = (host: 'a' | 'b') => {
    const file = path.join(dir, `${host}.conf`);
    writeFileSync(file, keepalivedConf({ routerId: host, priority: host === 'a' ? 150 : 100, vips: [`${VIP}/64`], garpMasterRepeat: 2, garpMasterDelay: 0, extra: ['use_vmac'] }));
    return file;
  };

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b, c] = await createBridgeLab(PREFIX, [
      { name: 'a', cidr: 'fd00:99::1/64' },
      { name: 'b', cidr: 'fd00:99::2/64' },
      { name: 'c', cidr: 'fd00:99::3/64' },
    ]);
    await Promise.all([linkLocalReady(a.ns), linkLocalReady(b.ns), linkLocalReady(c.ns)]);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-v6-'));
    watch = new VipMonitor([a, b], VIP);
    await watch.started();
  });

  afterAll(async () => {
    await watch?.stop();
    await ts?.crash();
    await ka?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one master (tslvsd): the VIP on vrrp.51, adverts and NAs from 00:00:5e:00:02:33, ND answered with it', async () => {
    const nas = capture(c.ns, NA_FILTER);
    await nas.listening;
    ts = startTslvsd(a.ns, conf('a'));
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    ka = startKeepalived(b.ns, conf('b'), path.join(dir, 'ka1'));
    expect(await ka.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
    await sleep(2500);
    await nas.stop();
    expect(ts.transitions().filter((t) => t.to === 'MASTER')).toHaveLength(1);
    expect(ka.log).not.toMatch(/Entering MASTER STATE/);

    expect(await macvlans(a.ns)).toEqual([['vrrp.51', VMAC, 'eth0', 'private']]);
    expect(await macvlans(b.ns)).toEqual([['vrrp.51', VMAC, 'eth0', 'private']]);
    expect(await hasAddress(a.ns, 'vrrp.51', VIP)).toBe(true);
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(false);
    expect(await hasAddress(b.ns, 'vrrp.51', VIP)).toBe(false);
    // keepalived's sysctls (none of the IPv4 ones, IPv6 on, no address generated), but for arp_ignore on
    // the VMAC: keepalived leaves it 0, tslvsd sets 1 (so the VMAC never answers ARP).
    const ours = await sysctls(a.ns);
    const theirs = await sysctls(b.ns);
    expect([ours['vrrp.51/arp_ignore'], theirs['vrrp.51/arp_ignore']]).toEqual(['1', '0']);
    expect({ ...ours, 'vrrp.51/arp_ignore': '0' }).toEqual(theirs);
    expect(theirs).toMatchObject({ 'vrrp.51/disable_ipv6': '0', 'vrrp.51/addr_gen_mode': '1', 'eth0/arp_ignore': '0' });
    // The VMAC carries the parent's link-local (and only that one): the adverts' source.
    const parentLl = await linkLocalReady(a.ns, 'eth0');
    const vmacLl = (await runCommand('ip', ['-n', a.ns, '-6', 'addr', 'show', 'dev', 'vrrp.51', 'scope', 'link'])).stdout.match(/inet6 (fe80:[0-9a-f:]+)\//g);
    expect(vmacLl).toEqual([`inet6 ${parentLl}/`]);
    const bLl = await linkLocalReady(b.ns, 'eth0');
    expect(await hasAddress(b.ns, 'vrrp.51', bLl)).toBe(true);

    const advert = await nsRun(c.ns, 'timeout', ['5', 'tcpdump', '-c', '1', '-e', '-nn', '-i', c.dev, 'ip6 proto 112'], 10_000);
    expect(advert.stdout).toMatch(new RegExp(`${VMAC} > 33:33:00:00:00:12, .* ${parentLl} > ff02::12: VRRPv3, Advertisement, vrid 51, prio 150`));
    // garp_master_repeat 2: two NAs, from the VMAC to all nodes, target the VIP, Override, TLLA the VMAC.
    console.log(`NAs seen while tslvsd became master:\n${nas.frames.join('\n')}`);
    naOf.tslvsd = nas.frames.filter((f) => f.includes(`${VIP} > ff02::1`));
    expect(naOf.tslvsd).toHaveLength(2);
    for (const f of naOf.tslvsd) {
      expect(f).toContain(`${VMAC} > 33:33:00:00:00:01`);
      expect(f).toContain(`${VIP} > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement`);
      expect(f).toContain(`tgt is ${VIP}, Flags [override]`);
      expect(f).toMatch(new RegExp(`destination link-address option \\(2\\), length 8 \\(1\\): ${VMAC}`));
    }
    expect(await ndAnswer(c)).toBe(VMAC);
  });

  it(`kill -9 of tslvsd: keepalived holds the VIP on its vrrp.51 within ${CRASH_BOUND_MS.toFixed(0)} ms, the same NAs and MAC`, async () => {
    const nas = capture(c.ns, NA_FILTER);
    await nas.listening;
    const t0 = performance.now();
    await ts!.crash();
    const at = await watch.heldBy(b.ns, t0, 10_000);
    expect(at).toBeDefined();
    console.log(`IPv6 VMAC tslvsd crash → keepalived takeover: ${(at! - t0).toFixed(0)} ms (bound ${CRASH_BOUND_MS.toFixed(0)})`);
    expect(at! - t0).toBeLessThanOrEqual(CRASH_BOUND_MS);
    expect(await hasAddress(b.ns, 'vrrp.51', VIP)).toBe(true);
    await sleep(1500);
    await nas.stop();
    console.log(`NAs seen while keepalived took over:\n${nas.frames.join('\n')}`);
    naOf.keepalived = nas.frames.filter((f) => f.includes(`${VIP} > ff02::1`));
    // Frame for frame what tslvsd sent (hop limit, flags, options, checksum) — both from the VMAC.
    expect(naOf.keepalived).toEqual(naOf.tslvsd);
    expect(await ndAnswer(c)).toBe(VMAC);
    expect(await nsRun(c.ns, 'ping', ['-6', '-c', '1', '-W', '2', VIP])).toMatchObject({ code: 0 });
  });

  it('restart after kill -9: the leftover vrrp.51 is taken over (one, not two), tslvsd preempts', async () => {
    expect((await macvlans(a.ns)).map((l) => l[0])).toEqual(['vrrp.51']);
    ts = startTslvsd(a.ns, conf('a'));
    expect(await ts.waitForLine((l) => l.event === 'vmac_up', BOOT_MS)).toMatchObject({ reused: true, vmac: 'vrrp.51' });
    expect(await ts.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await ka!.waitForLog(/Entering MASTER STATE[\s\S]*Entering BACKUP STATE/, 10_000)).toBe(true);
    expect(await macvlans(a.ns)).toEqual([['vrrp.51', VMAC, 'eth0', 'private']]);
    expect(await waitFor(() => hasAddress(a.ns, 'vrrp.51', VIP), { timeoutMs: 5000 })).toBe(true);
    expect(await waitFor(async () => !(await hasAddress(b.ns, 'vrrp.51', VIP)), { timeoutMs: 5000 })).toBe(true);
    expect(await ndAnswer(c)).toBe(VMAC);
  });

  it('graceful stop removes the macvlan; keepalived takes over', async () => {
    expect(await ts!.stop()).toBe(0);
    expect(await macvlans(a.ns)).toEqual([]);
    expect(await ka!.waitForLog(/Entering BACKUP STATE[\s\S]*Entering MASTER STATE/, 10_000)).toBe(true);
    expect(await waitFor(() => hasAddress(b.ns, 'vrrp.51', VIP), { timeoutMs: 5000 })).toBe(true);
    await ka!.stop();
    expect(await macvlans(b.ns)).toEqual([]);
  });
});
