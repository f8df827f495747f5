import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  AttributeReader,
  NetlinkDecodeError,
  attr,
  nestedAttr,
  u16Attr,
  u32Attr,
} from '../../src/ipvs/codec/attributes.js';
import { addressToBytes, bytesToAddress, canonicalAddress } from '../../src/ipvs/codec/address.js';
import { CmdAttr, DestAttr, IpvsCmd, NLA_F_NET_BYTEORDER, StatsAttr, SvcAttr } from '../../src/ipvs/codec/constants.js';
import { splitNetlinkMessages } from '../../src/ipvs/codec/message.js';
import {
  IpvsRequest,
  decodeDestinationReply,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from '../../src/ipvs/codec/requests.js';
import { packDestination } from '../../src/ipvs/codec/destination.js';
import { packService } from '../../src/ipvs/codec/service.js';
import type { DestinationSpec, ServiceSpec } from '../../src/ipvs/types.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const FAMILY = 0x2a;

/** A kernel-style reply: nlmsghdr + genlmsghdr(cmd) + attributes. */
function reply(cmd: number, attrs: Buffer[], seq = 7): Buffer {
  const body = Buffer.concat(attrs);
  const out = Buffer.alloc(20 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(FAMILY, 4);
  out.writeUInt16LE(0x2, 6);
  out.writeUInt32LE(seq, 8);
  out.writeUInt8(cmd, 16);
  out.writeUInt8(1, 17);
  body.copy(out, 20);
  return out;
}

const persistentWlc: ServiceSpec = {
  key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address: '127.0.1.1', port: 8080 },
  scheduler: 'wlc',
  persistence: { timeoutSeconds: 300, prefixLength: 31 },
  onePacket: false,
  schedulerFlags: 0,
};

describe('service encoding (byte-exact)', () => {
  it('127.0.1.1:8080/TCP wlc persistent 300 s /31 encodes every attribute as the kernel expects', () => {
    const msg = IpvsRequest.newService(FAMILY, persistentWlc);
    const expected = hex(`
      68000000 2a00 0500 00000000 00000000   01 01 0000
      5400 0180
        0600 0100 0200 0000
        0600 0200 0600 0000
        1400 0300 7f000101 00000000 00000000 00000000
        0600 0400 1f90 0000
        0800 0600 776c6300
        0c00 0700 01000000 ffffffff
        0800 0800 2c010000
        0800 0900 fffffffe`);
    expect(msg.toString('hex')).toBe(expected.toString('hex'));
  });

  it('the individual attribute values match the issue: AF 02 00, SCHED wlc\\0, FLAGS, TIMEOUT, NETMASK, PROTOCOL, ADDR, PORT', () => {
    const nested = packService(persistentWlc);
    const r = new AttributeReader(new AttributeReader(nested).raw(CmdAttr.SERVICE)!);
    expect(r.raw(SvcAttr.AF)!.toString('hex')).toBe('0200');
    expect(r.raw(SvcAttr.SCHED_NAME)!.toString('hex')).toBe('776c6300');
    expect(r.raw(SvcAttr.FLAGS)!.toString('hex')).toBe('01000000ffffffff');
    expect(r.raw(SvcAttr.TIMEOUT)!.toString('hex')).toBe('2c010000');
    expect(r.raw(SvcAttr.NETMASK)!.toString('hex')).toBe('fffffffe');
    expect(r.raw(SvcAttr.PROTOCOL)!.toString('hex')).toBe('0600');
    expect(r.raw(SvcAttr.ADDR)!.subarray(0, 4).toString('hex')).toBe('7f000101');
    expect(r.raw(SvcAttr.PORT)!.toString('hex')).toBe('1f90');
  });

  it('a fwmark IPv6 service sends AF 10, FWMARK and the prefix length as a host-order u32 netmask', () => {
    const nested = packService({
      key: { kind: 'fwmark', family: 'ipv6', fwmark: 5 },
      scheduler: 'sh',
      persistence: { timeoutSeconds: 60, prefixLength: 64 },
      onePacket: true,
      schedulerFlags: 0x08 | 0x10,
    });
    const r = new AttributeReader(new AttributeReader(nested).raw(CmdAttr.SERVICE)!);
    expect(r.raw(SvcAttr.AF)!.toString('hex')).toBe('0a00');
    expect(r.raw(SvcAttr.FWMARK)!.toString('hex')).toBe('05000000');
    expect(r.has(SvcAttr.ADDR)).toBe(false);
    expect(r.has(SvcAttr.PORT)).toBe(false);
    expect(r.raw(SvcAttr.NETMASK)!.toString('hex')).toBe('40000000');
    // persistent 0x01 | one-packet 0x04 | sched1 0x08 | sched2 0x10
    expect(r.raw(SvcAttr.FLAGS)!.toString('hex')).toBe('1d000000ffffffff');
  });

  it('a non-persistent IPv4 service sends timeout 0 and a full /32 mask', () => {
    const nested = packService({ ...persistentWlc, persistence: undefined, scheduler: 'rr' });
    const r = new AttributeReader(new AttributeReader(nested).raw(CmdAttr.SERVICE)!);
    expect(r.raw(SvcAttr.TIMEOUT)!.toString('hex')).toBe('00000000');
    expect(r.raw(SvcAttr.NETMASK)!.toString('hex')).toBe('ffffffff');
    expect(r.raw(SvcAttr.FLAGS)!.toString('hex')).toBe('00000000ffffffff');
  });

  it('DEL_SERVICE carries the key only, and GET_SERVICE without a key is a dump', () => {
    const del = IpvsRequest.delService(FAMILY, persistentWlc.key);
    expect(del.readUInt8(16)).toBe(IpvsCmd.DEL_SERVICE);
    expect(del.readUInt16LE(6)).toBe(0x05); // REQUEST | ACK
    const r = new AttributeReader(new AttributeReader(del.subarray(20)).raw(CmdAttr.SERVICE)!);
    expect(r.types().sort()).toEqual([SvcAttr.AF, SvcAttr.PROTOCOL, SvcAttr.ADDR, SvcAttr.PORT].sort());
    const dump = IpvsRequest.getServices(FAMILY);
    expect(dump.readUInt16LE(6)).toBe(0x305); // REQUEST | ACK | DUMP
    expect(dump.length).toBe(20);
  });
});

describe('destination encoding (byte-exact)', () => {
  it('a DR destination 10.0.0.2:80 weight 3 thresholds 100/10', () => {
    const d: DestinationSpec = { address: '10.0.0.2', port: 80, forwarding: 'dr', weight: 3, upperThreshold: 100, lowerThreshold: 10 };
    expect(packDestination(d).toString('hex')).toBe(
      hex(`
      4800 0280
        1400 0100 0a000002 00000000 00000000 00000000
        0600 0200 0050 0000
        0600 0b00 0200 0000
        0800 0300 03000000
        0800 0400 03000000
        0800 0500 64000000
        0800 0600 0a000000`).toString('hex'),
    );
  });

  it('a GUE tunnel destination carries TUN_TYPE 1, TUN_PORT big-endian and TUN_FLAGS', () => {
    const d: DestinationSpec = {
      address: '2001:db8::5',
      port: 0,
      forwarding: 'tunnel',
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: { type: 'gue', port: 6080, flags: 1 },
    };
    const r = new AttributeReader(new AttributeReader(packDestination(d)).raw(CmdAttr.DEST)!);
    expect(r.raw(DestAttr.ADDR)!.toString('hex')).toBe('20010db8000000000000000000000005');
    expect(r.raw(DestAttr.ADDR_FAMILY)!.toString('hex')).toBe('0a00');
    expect(r.raw(DestAttr.FWD_METHOD)!.toString('hex')).toBe('02000000');
    expect(r.raw(DestAttr.TUN_TYPE)!.toString('hex')).toBe('01');
    expect(r.raw(DestAttr.TUN_PORT)!.toString('hex')).toBe('17c0');
    expect(r.raw(DestAttr.TUN_FLAGS)!.toString('hex')).toBe('0100');
  });

  it('NAT forwarding is 0 and no tunnel attributes are sent', () => {
    const d: DestinationSpec = { address: '10.0.0.3', port: 8080, forwarding: 'nat', weight: 0, upperThreshold: 0, lowerThreshold: 0 };
    const r = new AttributeReader(new AttributeReader(packDestination(d)).raw(CmdAttr.DEST)!);
    expect(r.raw(DestAttr.FWD_METHOD)!.toString('hex')).toBe('00000000');
    expect(r.has(DestAttr.TUN_TYPE)).toBe(false);
  });

  it('SET_CONFIG sends the three timeouts as u32', () => {
    const m = IpvsRequest.setConfig(FAMILY, { tcp: 900, tcpFin: 120, udp: 300 });
    expect(m.readUInt8(16)).toBe(IpvsCmd.SET_CONFIG);
    expect(m.subarray(20).toString('hex')).toBe(hex('0800 0400 84030000 0800 0500 78000000 0800 0600 2c010000').toString('hex'));
  });
});

describe('reply decoding', () => {
  it('decodes a service with a 16-byte address, HASHED masked off, STATS64 preferred and PAD skipped', () => {
    const flags = Buffer.alloc(8);
    flags.writeUInt32LE(0x1 | 0x2, 0);
    flags.writeUInt32LE(0xffffffff, 4);
    const u64 = (t: number, v: bigint): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return attr(t, b);
    };
    const svc = reply(IpvsCmd.NEW_SERVICE, [
      nestedAttr(CmdAttr.SERVICE, [
        u16Attr(SvcAttr.AF, 2),
        u16Attr(SvcAttr.PROTOCOL, 17),
        attr(SvcAttr.ADDR, hex('c0a80001 000000000000000000000000')),
        attr(SvcAttr.PORT | NLA_F_NET_BYTEORDER, hex('0035')),
        attr(SvcAttr.SCHED_NAME, Buffer.from('wrr\0')),
        attr(SvcAttr.FLAGS, flags),
        u32Attr(SvcAttr.TIMEOUT, 360),
        attr(SvcAttr.NETMASK, hex('ffffff00')),
        nestedAttr(SvcAttr.STATS, [u32Attr(StatsAttr.CONNS, 1)]),
        nestedAttr(SvcAttr.STATS64, [attr(StatsAttr.PAD, Buffer.alloc(0)), u64(StatsAttr.CONNS, 5_000_000_000n), u64(StatsAttr.INBYTES, 77n)]),
      ]),
    ]);
    const s = decodeServiceReply(svc);
    expect(s.key).toEqual({ kind: 'address', family: 'ipv4', protocol: 'udp', address: '192.168.0.1', port: 53 });
    expect(s.scheduler).toBe('wrr');
    expect(s.persistence).toEqual({ timeoutSeconds: 360, prefixLength: 24 });
    expect(s.onePacket).toBe(false);
    expect(s.stats?.connections).toBe(5_000_000_000);
    expect(s.stats?.bytesIn).toBe(77);
  });

  it('round-trips every encodable service shape through a kernel-like reply', () => {
    const shapes: ServiceSpec[] = [
      persistentWlc,
      { key: { kind: 'address', family: 'ipv6', protocol: 'sctp', address: 'fd00::1', port: 9 }, scheduler: 'mh', onePacket: true, schedulerFlags: 0x18 },
      { key: { kind: 'fwmark', family: 'ipv4', fwmark: 0xffffffff }, scheduler: 'lblcr', persistence: { timeoutSeconds: 1, prefixLength: 0 }, onePacket: false, schedulerFlags: 0, persistenceEngine: 'sip' },
    ];
    for (const s of shapes) {
      const nested = packService(s);
      const back = decodeServiceReply(reply(IpvsCmd.NEW_SERVICE, [nested]));
      expect(back).toEqual(s);
    }
  });

  it('decodes a destination, using the service family when ADDR_FAMILY is absent (old kernels)', () => {
    const d = reply(IpvsCmd.NEW_DEST, [
      nestedAttr(CmdAttr.DEST, [
        attr(DestAttr.ADDR, hex('20010db8000000000000000000000001')),
        attr(DestAttr.PORT, hex('0050')),
        u32Attr(DestAttr.FWD_METHOD, 0),
        u32Attr(DestAttr.WEIGHT, 7),
        u32Attr(DestAttr.U_THRESH, 0),
        u32Attr(DestAttr.L_THRESH, 0),
        u32Attr(DestAttr.ACTIVE_CONNS, 3),
        u32Attr(DestAttr.INACT_CONNS, 4),
        u32Attr(DestAttr.PERSIST_CONNS, 5),
      ]),
    ]);
    const e = decodeDestinationReply(d, 'ipv6');
    expect(e).toMatchObject({ address: '2001:db8::1', port: 80, family: 'ipv6', forwarding: 'nat', weight: 7, activeConnections: 3, inactiveConnections: 4, persistentConnections: 5 });
  });

  it('decodes GET_INFO (version 1.2.1) and GET_CONFIG timeouts', () => {
    expect(decodeInfoReply(reply(IpvsCmd.SET_INFO, [u32Attr(1, 0x010201), u32Attr(2, 4096)]))).toEqual({ version: '1.2.1', versionCode: 0x010201, connectionTableSize: 4096 });
    expect(decodeTimeoutsReply(reply(IpvsCmd.SET_CONFIG, [u32Attr(4, 900), u32Attr(5, 120), u32Attr(6, 300)]))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  it('rejects malformed replies with NetlinkDecodeError, never a RangeError', () => {
    const good = reply(IpvsCmd.NEW_SERVICE, [nestedAttr(CmdAttr.SERVICE, [u16Attr(SvcAttr.AF, 2), u32Attr(SvcAttr.FWMARK, 1)])]);
    expect(decodeServiceReply(good).key).toEqual({ kind: 'fwmark', family: 'ipv4', fwmark: 1 });
    const cutAttr = Buffer.from(good);
    cutAttr.writeUInt16LE(200, 20); // nested length runs past the message
    expect(() => decodeServiceReply(cutAttr)).toThrow(NetlinkDecodeError);
    const shortAf = reply(IpvsCmd.NEW_SERVICE, [nestedAttr(CmdAttr.SERVICE, [attr(SvcAttr.AF, Buffer.from([2])), u32Attr(SvcAttr.FWMARK, 1)])]);
    expect(() => decodeServiceReply(shortAf)).toThrow(NetlinkDecodeError);
    const badAf = reply(IpvsCmd.NEW_SERVICE, [nestedAttr(CmdAttr.SERVICE, [u16Attr(SvcAttr.AF, 99), u32Attr(SvcAttr.FWMARK, 1)])]);
    expect(() => decodeServiceReply(badAf)).toThrow(NetlinkDecodeError);
    expect(() => decodeServiceReply(good.subarray(0, 10))).toThrow(NetlinkDecodeError);
    expect(() => decodeServiceReply(reply(IpvsCmd.NEW_DEST, []))).toThrow(NetlinkDecodeError);
    const badLen = Buffer.from(good);
    badLen.writeUInt32LE(9999, 0);
    expect(() => splitNetlinkMessages(badLen)).toThrow(NetlinkDecodeError);
  });

  it('fuzz: random corruption of a valid reply only ever throws NetlinkDecodeError', () => {
    const base = IpvsRequest.newService(FAMILY, persistentWlc);
    base.writeUInt8(IpvsCmd.NEW_SERVICE, 16);
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) b[20 + Math.floor(rnd() * (b.length - 20))] = Math.floor(rnd() * 256);
      try {
        decodeServiceReply(b);
      } catch (e) {
        expect(e).toBeInstanceOf(NetlinkDecodeError);
      }
    }
  });

  it('fuzz: random corruption of a real destination reply with counters (decoded in one pass) only ever throws NetlinkDecodeError', () => {
    const recorded = JSON.parse(readFileSync(new URL('./fixtures/kernel-6.1/get-dest-dump-ipv4-tcp.json', import.meta.url), 'utf8')) as { replies: string[] };
    const datagram = Buffer.from(recorded.replies[0], 'hex');
    const base = datagram.subarray(0, datagram.readUInt32LE(0));
    const clean = decodeDestinationReply(base, 'ipv4');
    expect(clean.stats).toBeDefined();
    let seed = 777;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) b[20 + Math.floor(rnd() * (b.length - 20))] = Math.floor(rnd() * 256);
      for (const withStats of [true, false]) {
        try {
          decodeDestinationReply(b, 'ipv4', { withStats });
          decoded++;
        } catch (e) {
          expect(e).toBeInstanceOf(NetlinkDecodeError);
        }
      }
    }
    // most corruptions hit values, not structure: decoding goes on
    expect(decoded).toBeGreaterThan(1000);
  });

  it('splits a datagram into data, error and done messages with positive errno', () => {
    const data = reply(IpvsCmd.NEW_SERVICE, [], 9);
    const err = Buffer.alloc(36);
    err.writeUInt32LE(36, 0);
    err.writeUInt16LE(2, 4);
    err.writeUInt32LE(9, 8);
    err.writeInt32LE(-17, 16);
    const done = Buffer.alloc(20);
    done.writeUInt32LE(20, 0);
    done.writeUInt16LE(3, 4);
    done.writeUInt32LE(9, 8);
    const parts = splitNetlinkMessages(Buffer.concat([data, err, done]));
    expect(parts.map((p) => p.kind)).toEqual(['data', 'error', 'done']);
    expect(parts[1]).toMatchObject({ kind: 'error', seq: 9, errno: 17 });
  });
});

describe('addresses', () => {
  it('formats IPv6 canonically (RFC 5952) and parses embedded IPv4', () => {
    expect(canonicalAddress('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalAddress('::')).toBe('::');
    expect(canonicalAddress('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(canonicalAddress('::ffff:10.1.2.3')).toBe('::ffff:10.1.2.3'); // RFC 5952 §5: IPv4-mapped stays dotted
    expect(canonicalAddress('fe80::1:0:0:1')).toBe('fe80::1:0:0:1');
    expect(bytesToAddress(addressToBytes('10.0.0.1'), 'ipv4')).toBe('10.0.0.1');
  });

  it('rejects non-addresses', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '1.2.3.4.', '1..2.3', '1.2.3.4.5', '1234.1.1.1', '-1.0.0.0', '1.2.3.4 ', '1::2::3', 'x::1', '1:2:3:4:5:6:7:8:9', '', 'host']) {
      expect(() => addressToBytes(bad), bad).toThrow(/not an IP address/);
    }
  });
});
