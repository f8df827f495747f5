import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { RawSocketTransport } from '../../src/vrrp/edge/rawSocketTransport.js';
import { ReceiveDispatcher, ReceiveValidator, type DispatchResult } from '../../src/vrrp/core/receiveValidator.js';
import { encodeAdvert, passwordAuthData, AUTH_PASS } from '../../src/vrrp/codec/advertCodec.js';
import { isRoot, mustRun, runCommand, tsxArgv, waitFor } from './helpers/exec.js';
import { createNetns, deleteNetns, labPrefix, nsRun, RUN_TAG } from './helpers/netns.js';

// The transport lives in the vitest process (root namespace) on tvrs<tag>; its veth peer is eth0 in tv-rs-<tag>-peer,
// from where packets are fired and where tcpdump judges what we send.
const PEER_NS = `${labPrefix('rs')}peer`;
const DEV = `tvrs${RUN_TAG}`;
const PEER_TMP = `tvrp${RUN_TAG}`;
const SENDER = path.resolve('test/ns/helpers/vrrpSender.ts');

function advert51(): Buffer {
  return encodeAdvert(
    { version: 2, vrid: 51, priority: 150, addresses: ['10.99.0.200'], advertInt: 1, maxAdvertIntCs: 100, authType: AUTH_PASS, authData: passwordAuthData('secret1') },
    { srcIp: '10.78.0.1', dstIp: '224.0.0.18' },
  );
}

async function firePackets(spec: object): Promise<string> {
  const [node, ...args] = tsxArgv(SENDER, [JSON.stringify(spec)]);
  const out = await nsRun(PEER_NS, node!, args, 30_000);
  if (out.code !== 0) throw new Error(out.stderr);
  return out.stdout.trim();
}

describe.skipIf(!isRoot)('raw socket transport (IP protocol 112) on a real interface', () => {
  let transport: RawSocketTransport;
  let ifindex = 0;

  beforeAll(async () => {
    await runCommand('ip', ['link', 'del', DEV]);
    await createNetns(PEER_NS);
    await mustRun('ip', ['link', 'add', DEV, 'type', 'veth', 'peer', 'name', PEER_TMP]);
    await mustRun('ip', ['link', 'set', PEER_TMP, 'netns', PEER_NS]);
    await mustRun('ip', ['-n', PEER_NS, 'link', 'set', PEER_TMP, 'name', 'eth0']);
    await mustRun('ip', ['addr', 'add', '10.78.0.1/24', 'dev', DEV]);
    await mustRun('ip', ['link', 'set', DEV, 'up']);
    await mustRun('ip', ['-n', PEER_NS, 'addr', 'add', '10.78.0.2/24', 'dev', 'eth0']);
    await mustRun('ip', ['-n', PEER_NS, 'link', 'set', 'eth0', 'up']);
    ifindex = Number((await mustRun('cat', [`/sys/class/net/${DEV}/ifindex`])).trim());
    transport = new RawSocketTransport({ ifname: DEV, ifindex, multicastGroups: ['224.0.0.18'], accept: { destinations: ['224.0.0.18'], vrids: [51] } });
  });

  afterAll(async () => {
    transport?.close();
    await runCommand('ip', ['link', 'del', DEV]);
    await deleteNetns(PEER_NS);
  });

  it('joins 224.0.0.18 on the interface', async () => {
    const out = await mustRun('ip', ['maddr', 'show', 'dev', DEV]);
    expect(out).toContain('224.0.0.18');
  });

  it('sends a multicast advert with TTL 255, our source, TOS 0xc0, and the exact VRRP bytes', async () => {
    const tcpdump = spawn('ip', ['netns', 'exec', PEER_NS, 'tcpdump', '-i', 'eth0', '-c', '1', '-nn', '-v', '-x', '-l', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    tcpdump.stdout.on('data', (d: Buffer) => (text += d.toString()));
    let listening = false;
    tcpdump.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) listening = true;
    });
    expect(await waitFor(() => listening, { timeoutMs: 10_000 })).toBe(true);
    const message = advert51();
    const exited = new Promise<void>((resolve) => tcpdump.on('exit', () => resolve()));
    const sender = setInterval(() => transport.send(message, '10.78.0.1', '224.0.0.18'), 100);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    clearInterval(sender);
    tcpdump.kill();
    expect(text).toMatch(/tos 0xc0, ttl 255/);
    expect(text).toMatch(/10\.78\.0\.1 > 224\.0\.0\.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s/);
    // The hex dump: 20 bytes of IP header, then the VRRP message exactly as encoded.
    const hex = [...text.matchAll(/0x[0-9a-f]{4}:\s+((?:[0-9a-f]{4}\s?)+)/g)].map((m) => m[1]!.replace(/\s/g, '')).join('');
    expect(hex.slice(40, 40 + message.length * 2)).toBe(message.toString('hex'));
    expect(transport.counters.packetsSent).toBeGreaterThan(0);
    expect(transport.counters.sendErrors).toBe(0);
  });

  it('the kernel filter lets through only protocol 112 to our destinations for our VRIDs; the rest goes to the dispatcher', async () => {
    const validator = new ReceiveValidator({
      vrid: 51, version: 2, advertIntervalMs: 1000, authType: AUTH_PASS, authData: passwordAuthData('secret1'),
      virtualAddresses: ['10.99.0.200'], unicastPeers: [], ownAddresses: ['10.78.0.1'],
    });
    const dispatcher = new ReceiveDispatcher<{ validator: ReceiveValidator }>();
    dispatcher.set(51, { validator });
    const results: DispatchResult<{ validator: ReceiveValidator }>[] = [];
    transport.onPacket((packet) => results.push(dispatcher.dispatch(packet)));
    const before = transport.counters.packetsReceived;
    const good = advert51();
    const out = await firePackets({
      ifname: 'eth0',
      packets: [
        { src: '10.78.0.2', dst: '224.0.0.18', payloadHex: good.toString('hex') }, // accepted
        { src: '10.78.0.2', dst: '224.0.0.18', ttl: 1, payloadHex: good.toString('hex') }, // TTL error
        { src: '10.78.0.2', dst: '224.0.0.18', payloadHex: '2163' }, // VRID 99: filtered by the kernel
        { src: '10.78.0.2', dst: '224.0.0.18', payloadHex: '21' }, // no VRID byte: filtered
        { src: '10.78.0.2', dst: '10.78.0.1', payloadHex: good.toString('hex') }, // unicast to us, multicast socket: filtered
      ],
    });
    expect(out).toBe('sent 5 failed 0');
    await waitFor(() => transport.counters.packetsReceived - before >= 2, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 300)); // anything the filter wrongly let through would show by now
    expect(transport.counters.packetsReceived - before).toBe(2);
    expect(validator.counters.advertisementsReceived).toBe(1);
    expect(validator.counters.ipTtlErrors).toBe(1);
    expect(dispatcher.counters).toEqual({ undecodable: 0, unknownVrid: 0 });
    const accepted = results.filter((r) => r.delivered && r.verdict.verdict === 'accept');
    expect(accepted.map((r) => r.delivered && r.verdict.verdict === 'accept' && r.verdict.srcIp)).toEqual(['10.78.0.2']);

    // A new filter (a unicast instance sourcing from 10.78.0.1 joins the socket): unicast to us now arrives.
    transport.acceptOnly({ destinations: ['224.0.0.18', '10.78.0.1'], vrids: [51] });
    const beforeUnicast = transport.counters.packetsReceived;
    expect(await firePackets({ ifname: 'eth0', packets: [{ src: '10.78.0.2', dst: '10.78.0.1', payloadHex: good.toString('hex') }] })).toBe('sent 1 failed 0');
    await waitFor(() => transport.counters.packetsReceived - beforeUnicast >= 1, { timeoutMs: 5000 });
    expect(transport.counters.packetsReceived - beforeUnicast).toBe(1);
    expect(validator.counters.advertisementsReceived).toBe(2);
    expect(transport.counters.receiveBufferDrops).toBe(0);
    expect(transport.counters.receiveBatches).toBeGreaterThan(0);
    expect(transport.counters.preferredReceived).toBe(0);

    // 10.78.0.2 becomes a preferred sender (the master we follow): its packets come through the priority
    // lane, once each; another sender's still through the other socket.
    transport.acceptOnly({ destinations: ['224.0.0.18', '10.78.0.1'], vrids: [51], preferredSources: ['10.78.0.2'] });
    const c0 = transport.counters;
    const lanes = await firePackets({
      ifname: 'eth0',
      packets: [
        { src: '10.78.0.2', dst: '224.0.0.18', payloadHex: good.toString('hex') },
        { src: '10.78.0.2', dst: '224.0.0.18', payloadHex: good.toString('hex') },
        { src: '10.78.0.3', dst: '224.0.0.18', payloadHex: good.toString('hex') },
      ],
    });
    expect(lanes).toBe('sent 3 failed 0');
    await waitFor(() => transport.counters.packetsReceived - c0.packetsReceived >= 3, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    const c1 = transport.counters;
    expect(c1.packetsReceived - c0.packetsReceived).toBe(3);
    expect(c1.preferredReceived - c0.preferredReceived).toBe(2);
  });

  it('counts a send it cannot make as an error instead of throwing', async () => {
    const errors: Error[] = [];
    transport.onError((e) => errors.push(e));
    const before = transport.counters.sendErrors;
    expect(transport.send(advert51(), 'not-an-ip', '224.0.0.18')).toBe(false);
    expect(transport.send(advert51(), '10.78.0.1', '224.0.0.300')).toBe(false);
    // Sends are synchronous: the answer and the count are there when send() returns.
    expect(transport.counters.sendErrors - before).toBe(2);
    expect(errors.length).toBe(2);
    expect(transport.send(advert51(), '10.78.0.1', '224.0.0.18')).toBe(true);
  });
});
