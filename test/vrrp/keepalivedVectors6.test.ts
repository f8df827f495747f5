/**
 * The codec, the IPv6 pseudo-header checksum and the receive validator against VRRPv3-over-IPv6 adverts
 * captured from the real keepalived 2.2.7 (test/vrrp/fixtures/capture-keepalived-adverts6.sh regenerates
 * them): multicast to ff02::12 from the link-local address with one VIP at 1 s and three VIPs at 50 cs
 * (prefixes and a non-canonical spelling in the config), unicast between two global addresses, and the
 * priority-0 advert keepalived sends when it stops.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUTH_NONE, decodeAdvert, encodeAdvert, VRRP_MULTICAST_GROUP6 } from '../../src/vrrp/codec/advertCodec.js';
import { decodeIpv6Header, encodeIpv6Header } from '../../src/vrrp/codec/ipv6Header.js';
import { ReceiveValidator, type ReceiveSpec } from '../../src/vrrp/core/receiveValidator.js';

interface Captured {
  capturedWith: string;
  cases: Array<{ name: string; packets: Array<{ hopLimit: number; nextHeader: number; srcIp: string; dstIp: string; ipPacket: string }> }>;
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/keepalived-adverts6.json', import.meta.url), 'utf8')) as Captured;

const expected: Record<string, { advert: Record<string, unknown>; receive: Partial<ReceiveSpec>; multicast: boolean }> = {
  'v3-ipv6-1vip': {
    advert: { version: 3, vrid: 61, priority: 150, addresses: ['fd00:99::100'], maxAdvertIntCs: 100 },
    receive: { vrid: 61, advertIntervalMs: 1000, virtualAddresses: ['fd00:99::100'] },
    multicast: true,
  },
  'v3-ipv6-3vip-50cs': {
    advert: { version: 3, vrid: 62, priority: 200, addresses: ['fd00:99::200', 'fd00:99::201', '2001:db8::7'], maxAdvertIntCs: 50 },
    receive: { vrid: 62, advertIntervalMs: 500, virtualAddresses: ['fd00:99::200', 'fd00:99::201', '2001:db8::7'] },
    multicast: true,
  },
  'v3-ipv6-unicast': {
    advert: { version: 3, vrid: 63, priority: 120, addresses: ['fd00:99::220'], maxAdvertIntCs: 100 },
    receive: { vrid: 63, advertIntervalMs: 1000, virtualAddresses: ['fd00:99::220'], unicastPeers: ['fd00:99::1'] },
    multicast: false,
  },
};

function split(hex: string) {
  const ip = decodeIpv6Header(Buffer.from(hex, 'hex'));
  if (!ip.ok) throw new Error(ip.detail);
  return ip;
}

function validatorFor(receive: Partial<ReceiveSpec>): ReceiveValidator {
  return new ReceiveValidator({
    vrid: 0,
    version: 3,
    advertIntervalMs: 1000,
    authType: AUTH_NONE,
    authData: new Uint8Array(8),
    virtualAddresses: [],
    unicastPeers: [],
    ownAddresses: ['fe80::2'],
    ...receive,
  });
}

describe(`IPv6 adverts captured from ${fixtures.capturedWith}`, () => {
  it('has every case, each with a normal and a priority-0 advert; hop limit 255 on multicast, 64 unicast', () => {
    expect(fixtures.cases.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
    for (const c of fixtures.cases) {
      expect(c.packets.length).toBe(2);
      // keepalived 2.2.7 leaves IPV6_UNICAST_HOPS at the default (64); tslvsd sends 255 either way.
      for (const p of c.packets) expect(p).toMatchObject({ hopLimit: expected[c.name]!.multicast ? 255 : 64, nextHeader: 112 });
    }
  });

  for (const c of fixtures.cases) {
    const want = expected[c.name]!;
    describe(c.name, () => {
      it('comes from the link-local address to ff02::12 (multicast) or between the unicast addresses', () => {
        for (const p of c.packets) {
          if (want.multicast) {
            expect(p.srcIp).toMatch(/^fe80::/);
            expect(p.dstIp).toBe(VRRP_MULTICAST_GROUP6);
          } else {
            expect([p.srcIp, p.dstIp]).toEqual(['fd00:99::1', 'fd00:99::2']);
          }
        }
      });

      it('decodes to the configured values (normal advert, then priority 0 on stop)', () => {
        const [normal, stop] = c.packets.map((p) => {
          const ip = split(p.ipPacket);
          expect(ip.header).toMatchObject({ ttl: p.hopLimit, protocol: 112, srcIp: p.srcIp, dstIp: p.dstIp });
          const r = decodeAdvert(ip.payload, { srcIp: ip.header.srcIp, dstIp: ip.header.dstIp });
          if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
          return r.advert;
        });
        expect(normal).toMatchObject(want.advert);
        expect(stop).toMatchObject({ ...want.advert, priority: 0 });
      });

      it('our encoder produces the same bytes, the IPv6 pseudo-header checksum included', () => {
        for (const p of c.packets) {
          const ip = split(p.ipPacket);
          const r = decodeAdvert(ip.payload, { srcIp: p.srcIp, dstIp: p.dstIp });
          if (!r.ok) throw new Error(r.reason);
          expect(encodeAdvert(r.advert, { srcIp: p.srcIp, dstIp: p.dstIp }).toString('hex')).toBe(ip.payload.toString('hex'));
          // The header tslvsd's tests build for the same packet: same bytes but the flow label the kernel chose.
          const ours = encodeIpv6Header({ srcIp: p.srcIp, dstIp: p.dstIp, nextHeader: 112, payloadLength: ip.payload.length, hopLimit: p.hopLimit });
          const theirs = Buffer.from(p.ipPacket, 'hex').subarray(0, 40);
          expect(ours[0]).toBe(theirs[0]);
          expect(ours.subarray(4, 40).toString('hex')).toBe(theirs.subarray(4, 40).toString('hex'));
        }
      });

      it('the checksum covers the pseudo-header: another destination or a flipped bit is a checksum error', () => {
        const p = c.packets[0]!;
        const ip = split(p.ipPacket);
        expect(decodeAdvert(ip.payload, { srcIp: p.srcIp, dstIp: 'ff02::1' })).toMatchObject({ ok: false, reason: 'checksumErrors' });
        expect(decodeAdvert(ip.payload, { srcIp: 'fe80::dead', dstIp: p.dstIp })).toMatchObject({ ok: false, reason: 'checksumErrors' });
        const flipped = Buffer.from(ip.payload);
        flipped[flipped.length - 1] ^= 0x01;
        expect(decodeAdvert(flipped, { srcIp: p.srcIp, dstIp: p.dstIp })).toMatchObject({ ok: false, reason: 'checksumErrors' });
        // Read as IPv4 (4-byte addresses), the same bytes do not add up either.
        expect(decodeAdvert(ip.payload, { srcIp: '10.0.0.1', dstIp: '224.0.0.18' }).ok).toBe(false);
      });

      it('passes the receive validator of a matching instance; a wrong hop limit is counted', () => {
        const v = validatorFor(want.receive);
        for (const p of c.packets) {
          const ip = split(p.ipPacket);
          expect(v.validate(ip.header, ip.payload)).toMatchObject({ verdict: 'accept', addressListMismatch: false });
        }
        expect(v.counters.advertisementsReceived).toBe(2);
        expect(v.counters.priorityZeroReceived).toBe(1);
        const ip = split(c.packets[0]!.ipPacket);
        const verdict = v.validate({ ...ip.header, ttl: want.multicast ? 64 : 1 }, ip.payload);
        if (want.multicast) {
          expect(verdict).toMatchObject({ verdict: 'drop', reason: 'ipTtlErrors', detail: 'hop limit 64' });
          expect(v.counters.ipTtlErrors).toBe(1);
        } else {
          expect(verdict).toMatchObject({ verdict: 'accept' }); // unicast: any hop limit, as keepalived
        }
      });
    });
  }

  it('an IPv6 advert must be v3, and a truncated one is a length error', () => {
    const p = fixtures.cases[0]!.packets[0]!;
    const ip = split(p.ipPacket);
    const v2 = Buffer.from(ip.payload);
    v2[0] = 0x21;
    expect(decodeAdvert(v2, { srcIp: p.srcIp, dstIp: p.dstIp })).toMatchObject({ ok: false, reason: 'versionErrors' });
    expect(decodeAdvert(ip.payload.subarray(0, 20), { srcIp: p.srcIp, dstIp: p.dstIp })).toMatchObject({ ok: false, reason: 'packetLengthErrors' });
    expect(() => encodeAdvert({ version: 2, vrid: 1, priority: 1, addresses: [], advertInt: 1, maxAdvertIntCs: 100, authType: 0, authData: new Uint8Array(8) }, { srcIp: 'fe80::1', dstIp: 'ff02::12' })).toThrow(RangeError);
  });
});
