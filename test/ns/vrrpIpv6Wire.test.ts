import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { encodeAdvert, VRRP_MULTICAST_GROUP6, type VrrpAdvert } from '../../src/vrrp/codec/advertCodec.js';
import { isRoot, runCommand, sleep, tsxArgv, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, linkLocalReady, nsRun, type LabHost, labPrefix, addressesOf } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';

// A dual-stack tslvsd (an IPv4 instance with an IPv6 VIP excluded, and an IPv6 one) in tv-w6-a; crafted
// IPv6 packets from tv-w6-b (a wrong hop limit, 2,000 malformed ones), then keepalived 2.2.7 in tv-w6-b with
// the same two instances as the lower-priority peer.
const PREFIX = labPrefix('w6');
const SENDER = path.resolve('test/ns/helpers/vrrpSender6.ts');
const hasKeepalived = /Keepalived/.test(Object.values(await runCommand('keepalived', ['--version'])).join(' '));
const SKEW_100_MS = ((256 - 100) / 256) * 1000;
const CRASH_BOUND_MS = 3 * 1000 + SKEW_100_MS + 250;

function dualStackConf(routerId: string, priority: number): string {
  return `global_defs {
  router_id ${routerId}
}
vrrp_instance VI_4 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    10.99.0.200/24
  }
  virtual_ipaddress_excluded {
    fd00:99::300/64
  }
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    fd00:99::100/64
  }
}
`;
}

interface Stats {
  instances: { name: string; state: string; receive: Record<string, number> }[];
  interfaces: { interface: string; family: string; transport: Record<string, number>; dispatcher: Record<string, number> }[];
}

describe.skipIf(!isRoot || !hasKeepalived)('IPv6 VRRP on the wire: dual stack, hop limit, malformed packets', () => {
  let a: LabHost;
  let b: LabHost;
  let bLinkLocal: string;
  let dir: string;
  let daemon: TslvsdProcess;
  let peer: KeepalivedProcess | undefined;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    await runCommand('ip', ['-n', a.ns, 'addr', 'add', 'fd00:99::1/64', 'dev', 'eth0']);
    await runCommand('ip', ['-n', b.ns, 'addr', 'add', 'fd00:99::2/64', 'dev', 'eth0']);
    [, bLinkLocal] = await Promise.all([linkLocalReady(a.ns), linkLocalReady(b.ns)]);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-w6-'));
    const file = path.join(dir, 'a.conf');
    writeFileSync(file, dualStackConf('a', 150));
    daemon = startTslvsd(a.ns, file);
    expect(await daemon.waitForLine((l) => l.event === 'transition' && l.instance === 'VI_6' && l.to === 'MASTER', BOOT_MS)).toBeDefined();
  });

  afterAll(async () => {
    await daemon?.crash();
    await peer?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function stats(): Promise<Stats> {
    const from = daemon.lines.length;
    daemon.signal('SIGUSR2');
    return (await daemon.waitForLine((l) => l.event === 'vrrp_stats', 5000, from)) as unknown as Stats;
  }
  const v6 = (s: Stats) => s.instances.find((i) => i.name === 'VI_6')!;
  const v6socket = (s: Stats) => s.interfaces.find((i) => i.family === 'inet6')!;

  async function send(hopLimit: number, packets: { src: string; dst: string; payloadHex: string }[], repeat = 1): Promise<void> {
    const [node, ...args] = tsxArgv(SENDER, [JSON.stringify({ ifname: 'eth0', hopLimit, packets, repeat })]);
    const out = await nsRun(b.ns, node!, args, 60_000);
    expect(out.stdout.trim()).toBe(`sent ${packets.length * repeat} failed 0`);
  }

  const advert = (priority: number): VrrpAdvert => ({ version: 3, vrid: 52, priority, addresses: ['fd00:99::100'], advertInt: 1, maxAdvertIntCs: 100, authType: 0, authData: new Uint8Array(8) });

  it('one socket pair per family; both instances master; the IPv6 and the excluded IPv6 VIP on the link', async () => {
    const s = await stats();
    expect(s.interfaces.map((i) => i.family).sort()).toEqual(['inet', 'inet6']);
    expect(s.instances.map((i) => [i.name, i.state]).sort()).toEqual([['VI_4', 'MASTER'], ['VI_6', 'MASTER']]);
    await waitFor(async () => (await addressesOf(a.ns, 'eth0')).includes('fd00:99::300'), { timeoutMs: 5000 });
    expect(await addressesOf(a.ns, 'eth0')).toEqual(expect.arrayContaining(['10.99.0.200', 'fd00:99::100', 'fd00:99::300']));
    // RFC 5798 adverts as tcpdump in the peer sees them: from A's link-local address to ff02::12, hop limit 255.
    const dump = await nsRun(b.ns, 'timeout', ['4', 'tcpdump', '-i', 'eth0', '-c', '1', '-nn', '-v', 'ip6 proto 112'], 10_000);
    expect(dump.stdout).toMatch(/hlim 255.*\n?.*fe80::[0-9a-f:]+ > ff02::12: VRRPv3, Advertisement, vrid 52, prio 150/);
  });

  it('a higher-priority advert with hop limit 64 is dropped and counted (the master stays); hop limit 255 is read as such', async () => {
    const before = await stats();
    const env = { srcIp: bLinkLocal, dstIp: VRRP_MULTICAST_GROUP6 };
    await send(64, [{ ...env, src: bLinkLocal, dst: VRRP_MULTICAST_GROUP6, payloadHex: encodeAdvert(advert(200), env).toString('hex') }], 5);
    // Control: a lower priority with hop limit 255 is a valid advert (accepted and counted; the master answers).
    await send(255, [{ src: bLinkLocal, dst: VRRP_MULTICAST_GROUP6, payloadHex: encodeAdvert(advert(50), env).toString('hex') }], 1);
    let after = before;
    await waitFor(async () => {
      after = await stats();
      return v6(after).receive.advertisementsReceived! - v6(before).receive.advertisementsReceived! >= 1;
    }, { timeoutMs: 5000, intervalMs: 200 });
    expect(v6(after).receive.ipTtlErrors! - v6(before).receive.ipTtlErrors!).toBe(5);
    expect(v6(after).receive.advertisementsReceived! - v6(before).receive.advertisementsReceived!).toBe(1);
    expect(v6(after).state).toBe('MASTER');
  });

  it('2,000 malformed IPv6 VRRP packets: all read are counted, the master unaffected', async () => {
    const before = await stats();
    const env = { srcIp: bLinkLocal, dstIp: VRRP_MULTICAST_GROUP6 };
    const good = advert(200);
    const hex = (x: Buffer) => x.toString('hex');
    const badChecksum = encodeAdvert(good, env);
    badChecksum[7] ^= 0xff;
    const v2 = encodeAdvert(good, env);
    v2[0] = 0x21;
    const wrongType = encodeAdvert(good, env);
    wrongType[0] = 0x32;
    const payloads: Buffer[] = [
      badChecksum,
      v2,
      wrongType,
      encodeAdvert(good, env).subarray(0, 20), // truncated: 16-byte addresses
      Buffer.alloc(0),
      Buffer.from([0x31]),
      encodeAdvert({ ...good, vrid: 53 }, env), // another VRID: the kernel filter drops it
      encodeAdvert(good, { srcIp: bLinkLocal, dstIp: 'ff02::1' }), // checksum for another destination
    ];
    for (let i = 0; i < 192; i++) {
      const random = randomBytes(Math.floor(Math.random() * 80));
      if (random.length > 1 && Math.random() < 0.5) random[1] = 52;
      payloads.push(random);
    }
    const packets = payloads.map((p) => ({ src: bLinkLocal, dst: VRRP_MULTICAST_GROUP6, payloadHex: hex(p) }));
    const repeat = 10;
    await send(255, packets, repeat);
    const passing = payloads.filter((p) => p.length >= 2 && p[1] === 52).length * repeat;
    expect(passing).toBeGreaterThan(repeat * 6);
    expect(passing).toBeLessThan(packets.length * repeat);
    const sum = (s: Stats) => {
      const r = v6(s).receive;
      const counted = Object.entries(r).filter(([k]) => k !== 'addressListErrors' && k !== 'priorityZeroReceived').reduce((acc, [, v]) => acc + v, 0);
      const d = v6socket(s).dispatcher;
      return { received: v6socket(s).transport.packetsReceived!, counted: counted + d.undecodable! + d.unknownVrid! };
    };
    let after = before;
    await waitFor(async () => {
      after = await stats();
      return sum(after).received - sum(before).received >= passing;
    }, { timeoutMs: 10_000, intervalMs: 200 });
    expect(v6socket(after).transport.receiveBufferDrops).toBe(v6socket(before).transport.receiveBufferDrops);
    expect(sum(after).received - sum(before).received).toBe(passing);
    expect(sum(after).counted - sum(before).counted).toBe(passing);
    const d = (k: string) => v6(after).receive[k]! - v6(before).receive[k]!;
    expect(d('checksumErrors')).toBeGreaterThanOrEqual(2 * repeat);
    expect(d('versionErrors')).toBeGreaterThanOrEqual(repeat);
    expect(d('invalidTypeReceived')).toBeGreaterThanOrEqual(repeat);
    expect(d('packetLengthErrors')).toBeGreaterThanOrEqual(repeat);
    expect(d('advertisementsReceived')).toBe(0);
    expect(daemon.running).toBe(true);
    expect(v6(after).state).toBe('MASTER');
  });

  it(`dual-stack pair with keepalived: keepalived backs up both instances, takes all VIPs within ${CRASH_BOUND_MS.toFixed(0)} ms of a crash`, async () => {
    const file = path.join(dir, 'b.conf');
    writeFileSync(file, dualStackConf('b', 100));
    peer = startKeepalived(b.ns, file, path.join(dir, 'ka'));
    expect(await peer.waitForLog(/VI_4\) Entering BACKUP STATE[\s\S]*|VI_6\) Entering BACKUP STATE/, BOOT_MS)).toBe(true);
    await waitFor(() => /VI_4\) Entering BACKUP STATE/.test(peer!.log) && /VI_6\) Entering BACKUP STATE/.test(peer!.log), { timeoutMs: 10_000 });
    await sleep(3000);
    expect(peer.log).not.toMatch(/Entering MASTER STATE/);
    expect(await addressesOf(b.ns, 'eth0')).not.toEqual(expect.arrayContaining(['fd00:99::100']));
    const t0 = performance.now();
    await daemon.crash();
    const all = ['10.99.0.200', 'fd00:99::100', 'fd00:99::300'];
    const ok = await waitFor(async () => {
      const held = await addressesOf(b.ns, 'eth0');
      return all.every((v) => held.includes(v));
    }, { timeoutMs: 10_000, intervalMs: 50 });
    const took = performance.now() - t0;
    expect(ok).toBe(true);
    console.log(`dual stack: tslvsd crash → keepalived holds IPv4, IPv6 and excluded IPv6 VIPs after ${took.toFixed(0)} ms (bound ${CRASH_BOUND_MS.toFixed(0)})`);
    expect(took).toBeLessThanOrEqual(CRASH_BOUND_MS + 250); // + the 50 ms polling and ip's start-up
  });

  it('unicast peers over IPv6 with keepalived: tslvsd master, keepalived backup, keepalived takes over after a crash', async () => {
    const unicastConf = (routerId: string, priority: number, src: string, peerIp: string) => `global_defs {
  router_id ${routerId}
}
vrrp_instance VI_U {
  state BACKUP
  interface eth0
  virtual_router_id 53
  priority ${priority}
  advert_int 1
  unicast_src_ip ${src}
  unicast_peer {
    ${peerIp}
  }
  virtual_ipaddress {
    fd00:99::400/64
  }
}
`;
    const fileA = path.join(dir, 'ua.conf');
    const fileB = path.join(dir, 'ub.conf');
    writeFileSync(fileA, unicastConf('ua', 150, 'fd00:99::1', 'fd00:99::2'));
    writeFileSync(fileB, unicastConf('ub', 100, 'fd00:99::2', 'fd00:99::1'));
    daemon = startTslvsd(a.ns, fileA);
    expect(await daemon.waitForState('MASTER', BOOT_MS)).toBe(true);
    const unicastPeer = startKeepalived(b.ns, fileB, path.join(dir, 'ka-u'));
    try {
      expect(await unicastPeer.waitForLog(/VI_U\) Entering BACKUP STATE/, BOOT_MS)).toBe(true);
      await sleep(3500);
      expect(unicastPeer.log).not.toMatch(/VI_U\) Entering MASTER STATE/);
      const s = await stats();
      const u = s.instances.find((i) => i.name === 'VI_U')!;
      expect(u.state).toBe('MASTER');
      expect(u.receive.advertisementsReceived).toBe(0); // keepalived as backup sends nothing
      const t0 = performance.now();
      await daemon.crash();
      const ok = await waitFor(async () => (await addressesOf(b.ns, 'eth0')).includes('fd00:99::400'), { timeoutMs: 10_000, intervalMs: 50 });
      expect(ok).toBe(true);
      console.log(`IPv6 unicast: tslvsd crash → keepalived holds the VIP after ${(performance.now() - t0).toFixed(0)} ms`);
      expect(performance.now() - t0).toBeLessThanOrEqual(CRASH_BOUND_MS + 250);
      // tslvsd returns as the higher priority and preempts over unicast: it hears keepalived's adverts.
      await runCommand('ip', ['-n', a.ns, 'addr', 'del', 'fd00:99::400/64', 'dev', 'eth0']);
      daemon = startTslvsd(a.ns, fileA);
      expect(await daemon.waitForLine((l) => l.event === 'transition' && l.to === 'BACKUP', BOOT_MS)).toBeDefined();
      expect(await daemon.waitForState('MASTER', 15_000)).toBe(true);
      const back = (await stats()).instances.find((i) => i.name === 'VI_U')!;
      expect(back.receive.advertisementsReceived).toBeGreaterThanOrEqual(1);
      expect(await unicastPeer.waitForLog(/VI_U\) Entering MASTER STATE[\s\S]*VI_U\) Entering BACKUP STATE/, 10_000)).toBe(true);
    } finally {
      await unicastPeer.crash();
    }
  });
});
