/**
 * The codec and the receive validator against adverts captured from the real keepalived 2.2.7
 * (test/vrrp/fixtures/capture-keepalived-adverts.sh regenerates them): v2 with and without PASS, several
 * VIPs, a 2 s interval; v3 multicast at 50 cs and v3 unicast (pseudo-header with the peer's address);
 * and the priority-0 advert keepalived sends when it stops.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUTH_NONE, AUTH_PASS, decodeAdvert, encodeAdvert, passwordAuthData } from '../../src/vrrp/codec/advertCodec.js';
import { decodeIpv4Header, encodeIpv4Header } from '../../src/vrrp/codec/ipv4Header.js';
import { ReceiveValidator, type ReceiveSpec } from '../../src/vrrp/core/receiveValidator.js';

interface Captured {
  capturedWith: string;
  cases: Array<{ name: string; packets: Array<{ ttl: number; srcIp: string; dstIp: string; ipPacket: string }> }>;
}
const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/keepalived-adverts.json', import.meta.url), 'utf8'),
) as Captured;

const expected: Record<string, { advert: Record<string, unknown>; receive: Partial<ReceiveSpec> }> = {
  'v2-pass-1vip': {
    advert: { version: 2, vrid: 51, priority: 150, addresses: ['10.99.0.200'], advertInt: 1, authType: AUTH_PASS },
    receive: { vrid: 51, version: 2, advertIntervalMs: 1000, authType: AUTH_PASS, authData: passwordAuthData('secret1'), virtualAddresses: ['10.99.0.200'] },
  },
  'v2-noauth-3vip': {
    advert: { version: 2, vrid: 52, priority: 100, addresses: ['10.99.0.200', '10.99.0.201', '192.168.7.7'], advertInt: 2, authType: AUTH_NONE },
    receive: { vrid: 52, version: 2, advertIntervalMs: 2000, authType: AUTH_NONE, virtualAddresses: ['10.99.0.200', '10.99.0.201', '192.168.7.7'] },
  },
  'v3-1vip-50cs': {
    advert: { version: 3, vrid: 53, priority: 200, addresses: ['10.99.0.210'], maxAdvertIntCs: 50 },
    receive: { vrid: 53, version: 3, advertIntervalMs: 500, authType: AUTH_NONE, virtualAddresses: ['10.99.0.210'] },
  },
  'v3-unicast-2vip': {
    advert: { version: 3, vrid: 54, priority: 120, addresses: ['10.99.0.220', '10.99.0.221'], maxAdvertIntCs: 100 },
    receive: { vrid: 54, version: 3, advertIntervalMs: 1000, authType: AUTH_NONE, virtualAddresses: ['10.99.0.220', '10.99.0.221'], unicastPeers: ['10.99.0.1'] },
  },
};

describe(`adverts captured from ${fixtures.capturedWith}`, () => {
  it('has every case, each with a normal and a priority-0 advert', () => {
    expect(fixtures.cases.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
    for (const c of fixtures.cases) expect(c.packets.length).toBe(2);
  });

  for (const c of fixtures.cases) {
    const want = expected[c.name];
    describe(c.name, () => {
      it('decodes to the configured values (normal advert, then priority 0 on stop)', () => {
        const [normal, stop] = c.packets.map((p) => {
          const ip = decodeIpv4Header(Buffer.from(p.ipPacket, 'hex'));
          if (!ip.ok) throw new Error(ip.detail);
          expect(ip.header).toMatchObject({ ttl: 255, protocol: 112, srcIp: p.srcIp, dstIp: p.dstIp });
          const r = decodeAdvert(ip.payload, { srcIp: ip.header.srcIp, dstIp: ip.header.dstIp });
          if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
          return { ip, advert: r.advert };
        });
        expect(normal.advert).toMatchObject(want.advert);
        expect(stop.advert).toMatchObject({ ...want.advert, priority: 0 });
      });

      it('our encoder produces the same bytes (VRRP message and IP header fields)', () => {
        for (const p of c.packets) {
          const ip = decodeIpv4Header(Buffer.from(p.ipPacket, 'hex'));
          if (!ip.ok) throw new Error(ip.detail);
          const r = decodeAdvert(ip.payload, { srcIp: p.srcIp, dstIp: p.dstIp });
          if (!r.ok) throw new Error(r.reason);
          expect(encodeAdvert(r.advert, { srcIp: p.srcIp, dstIp: p.dstIp }).toString('hex')).toBe(ip.payload.toString('hex'));
          const ours = encodeIpv4Header({ srcIp: p.srcIp, dstIp: p.dstIp, protocol: 112, payloadLength: ip.payload.length });
          const theirs = Buffer.from(p.ipPacket, 'hex').subarray(0, 20);
          // identical but for the IP id (and so the header checksum), which the sender picks
          expect(ours.subarray(0, 4).toString('hex')).toBe(theirs.subarray(0, 4).toString('hex'));
          expect(ours.subarray(6, 10).toString('hex')).toBe(theirs.subarray(6, 10).toString('hex'));
          expect(ours.subarray(12, 20).toString('hex')).toBe(theirs.subarray(12, 20).toString('hex'));
        }
      });

      it('passes the receive validator of a matching instance', () => {
        const v = new ReceiveValidator({
          vrid: 0,
          version: 2,
          advertIntervalMs: 1000,
          authType: AUTH_NONE,
          authData: new Uint8Array(8),
          virtualAddresses: [],
          unicastPeers: [],
          ownAddresses: ['10.99.0.2'],
          ...want.receive,
        });
        for (const p of c.packets) {
          const ip = decodeIpv4Header(Buffer.from(p.ipPacket, 'hex'));
          if (!ip.ok) throw new Error(ip.detail);
          expect(v.validate(ip.header, ip.payload)).toMatchObject({ verdict: 'accept', addressListMismatch: false });
        }
        expect(v.counters.advertisementsReceived).toBe(2);
        expect(v.counters.priorityZeroReceived).toBe(1);
      });
    });
  }
});
