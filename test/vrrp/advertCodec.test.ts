import { describe, expect, it } from 'vitest';
import {
  AUTH_NONE,
  AUTH_PASS,
  advertIntervalMs,
  advertLength,
  decodeAdvert,
  encodeAdvert,
  passwordAuthData,
  peekVrid,
  type VrrpAdvert,
} from '../../src/vrrp/codec/advertCodec.js';
import { internetChecksum } from '../../src/util/internetChecksum.js';
import { compareIpv4, parseIpv4 } from '../../src/vrrp/codec/ipv4Address.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Captured from Debian's keepalived 2.2.7: VRID 51, priority 150, auth PASS "secret1", VIP 10.99.0.200.
const KEEPALIVED_V2 = hex('21 33 96 01 01 01 cf 52 0a 63 00 c8 73 65 63 72 65 74 31 00');
const MCAST = { srcIp: '10.99.0.1', dstIp: '224.0.0.18' };

const v2Advert: VrrpAdvert = {
  version: 2,
  vrid: 51,
  priority: 150,
  addresses: ['10.99.0.200'],
  advertInt: 1,
  maxAdvertIntCs: 100,
  authType: AUTH_PASS,
  authData: passwordAuthData('secret1'),
};

function v3Advert(over: Partial<VrrpAdvert> = {}): VrrpAdvert {
  return {
    version: 3,
    vrid: 7,
    priority: 100,
    addresses: ['192.168.1.10', '192.168.1.11'],
    advertInt: 0.5,
    maxAdvertIntCs: 50,
    authType: AUTH_NONE,
    authData: new Uint8Array(8),
    ...over,
  };
}

/** An independent v3 checksum: builds the pseudo-header by hand and sums with the RFC 1071 routine. */
function v3ChecksumByHand(message: Buffer, src: string, dst: string): number {
  const pseudo = Buffer.concat([
    Buffer.from(parseIpv4(src)!),
    Buffer.from(parseIpv4(dst)!),
    Buffer.from([0, 112, message.length >> 8, message.length & 0xff]),
  ]);
  const zeroed = Buffer.from(message);
  zeroed.writeUInt16BE(0, 6);
  return internetChecksum(pseudo, zeroed);
}

describe('VRRP v2 codec', () => {
  it('encodes exactly the bytes keepalived 2.2.7 sends', () => {
    expect(encodeAdvert(v2Advert, MCAST).toString('hex')).toBe(KEEPALIVED_V2.toString('hex'));
  });

  it('decodes the keepalived vector', () => {
    const r = decodeAdvert(KEEPALIVED_V2, MCAST);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.advert).toMatchObject({
      version: 2,
      vrid: 51,
      priority: 150,
      addresses: ['10.99.0.200'],
      advertInt: 1,
      maxAdvertIntCs: 100,
      authType: AUTH_PASS,
    });
    expect(Buffer.from(r.advert.authData).toString('latin1')).toBe('secret1\0');
    expect(advertIntervalMs(r.advert)).toBe(1000);
  });

  it('v2 checksum does not depend on the IP addresses (no pseudo-header)', () => {
    expect(decodeAdvert(KEEPALIVED_V2, { srcIp: '1.2.3.4', dstIp: '5.6.7.8' }).ok).toBe(true);
  });

  it('round-trips many shapes', () => {
    for (const addresses of [[], ['1.2.3.4'], Array.from({ length: 20 }, (_, i) => `10.0.${i}.${255 - i}`)]) {
      for (const priority of [0, 1, 100, 254, 255]) {
        for (const authType of [AUTH_NONE, AUTH_PASS]) {
          const advert: VrrpAdvert = {
            ...v2Advert,
            addresses,
            priority,
            authType,
            advertInt: 255,
            maxAdvertIntCs: 25500,
            authData: authType === AUTH_PASS ? passwordAuthData('pw') : new Uint8Array(8),
          };
          const wire = encodeAdvert(advert, MCAST);
          expect(wire.length).toBe(advertLength(2, addresses.length));
          const r = decodeAdvert(wire, MCAST);
          expect(r).toEqual({ ok: true, advert });
        }
      }
    }
  });

  it('keeps only the first 8 bytes of a long password, NUL-pads a short one', () => {
    expect(Buffer.from(passwordAuthData('0123456789')).toString()).toBe('01234567');
    expect([...passwordAuthData('ab')]).toEqual([0x61, 0x62, 0, 0, 0, 0, 0, 0]);
  });

  it('tolerates Ethernet padding after the declared length', () => {
    const padded = Buffer.concat([KEEPALIVED_V2, Buffer.alloc(26, 0xaa)]);
    const r = decodeAdvert(padded, MCAST);
    expect(r.ok && r.advert.addresses).toEqual(['10.99.0.200']);
  });

  it('peeks the VRID for routing', () => {
    expect(peekVrid(KEEPALIVED_V2)).toBe(51);
    expect(peekVrid(Buffer.alloc(1))).toBeUndefined();
  });
});

describe('VRRP v3 codec', () => {
  it('computes the checksum over the IPv4 pseudo-header', () => {
    const wire = encodeAdvert(v3Advert(), MCAST);
    expect(wire.readUInt16BE(6)).toBe(v3ChecksumByHand(wire, MCAST.srcIp, MCAST.dstIp));
    expect(wire.subarray(0, 6).toString('hex')).toBe('3107640200' + '32');
    expect(wire.length).toBe(16); // no auth data in v3
  });

  it('round-trips, and learns the interval in centiseconds', () => {
    for (const cs of [1, 50, 100, 4095]) {
      const advert = v3Advert({ maxAdvertIntCs: cs, advertInt: cs / 100 });
      const r = decodeAdvert(encodeAdvert(advert, MCAST), MCAST);
      expect(r).toEqual({ ok: true, advert });
      if (r.ok) expect(advertIntervalMs(r.advert)).toBe(cs * 10);
    }
  });

  it('rejects a v3 advert checked against other IP addresses (pseudo-header mismatch)', () => {
    const wire = encodeAdvert(v3Advert(), MCAST);
    expect(decodeAdvert(wire, { srcIp: '10.99.0.2', dstIp: MCAST.dstIp })).toMatchObject({
      ok: false,
      reason: 'checksumErrors',
    });
    expect(decodeAdvert(wire, { srcIp: MCAST.srcIp, dstIp: '10.99.0.9' })).toMatchObject({
      ok: false,
      reason: 'checksumErrors',
    });
  });

  it('ignores the 4 reserved bits of the interval field', () => {
    const wire = encodeAdvert(v3Advert({ maxAdvertIntCs: 100, advertInt: 1 }), MCAST);
    wire[4] |= 0xf0;
    wire.writeUInt16BE(0, 6);
    wire.writeUInt16BE(v3ChecksumByHand(wire, MCAST.srcIp, MCAST.dstIp), 6);
    const r = decodeAdvert(wire, MCAST);
    expect(r.ok && r.advert.maxAdvertIntCs).toBe(100);
  });

  it('a bad envelope is a checksum error, not a crash', () => {
    const wire = encodeAdvert(v3Advert(), MCAST);
    expect(decodeAdvert(wire, { srcIp: 'nonsense', dstIp: '' })).toMatchObject({ ok: false, reason: 'checksumErrors' });
  });
});

describe('malformed adverts are refused with the counter to increment', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['empty', Buffer.alloc(0), 'packetLengthErrors'],
    ['7 bytes', KEEPALIVED_V2.subarray(0, 7), 'packetLengthErrors'],
    ['truncated addresses', KEEPALIVED_V2.subarray(0, 11), 'packetLengthErrors'],
    ['truncated auth data', KEEPALIVED_V2.subarray(0, 19), 'packetLengthErrors'],
    ['count larger than the packet', Buffer.from(KEEPALIVED_V2).fill(9, 3, 4), 'packetLengthErrors'],
    ['version 1', Buffer.from(KEEPALIVED_V2).fill(0x11, 0, 1), 'versionErrors'],
    ['version 4', Buffer.from(KEEPALIVED_V2).fill(0x41, 0, 1), 'versionErrors'],
    ['version 0', Buffer.from(KEEPALIVED_V2).fill(0x01, 0, 1), 'versionErrors'],
    ['type 2', Buffer.from(KEEPALIVED_V2).fill(0x22, 0, 1), 'invalidTypeReceived'],
    ['type 0', Buffer.from(KEEPALIVED_V2).fill(0x20, 0, 1), 'invalidTypeReceived'],
    ['flipped priority bit', Buffer.from(KEEPALIVED_V2).fill(0x97, 2, 3), 'checksumErrors'],
    ['flipped password byte', Buffer.from(KEEPALIVED_V2).fill(0x00, 12, 13), 'checksumErrors'],
    ['zeroed checksum', Buffer.from(KEEPALIVED_V2).fill(0, 6, 8), 'checksumErrors'],
  ];
  for (const [name, buf, reason] of cases) {
    it(name, () => {
      const r = decodeAdvert(buf, MCAST);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toBe(reason);
    });
  }

  it('v3 count larger than the packet', () => {
    const wire = encodeAdvert(v3Advert(), MCAST);
    wire[3] = 3;
    expect(decodeAdvert(wire, MCAST)).toMatchObject({ ok: false, reason: 'packetLengthErrors' });
  });

  it('random bytes never throw and almost never pass', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const buf = Buffer.alloc(rand() % 64);
      for (let j = 0; j < buf.length; j++) buf[j] = rand() & 0xff;
      if (i % 2) buf[0] = (2 + (i % 4 > 1 ? 1 : 0)) * 16 + 1; // often well-formed enough to reach the checksum
      const r = decodeAdvert(buf, MCAST);
      if (r.ok) accepted++;
    }
    // A random 16-bit checksum matches about once in 65536 tries.
    expect(accepted).toBeLessThan(5);
  });
});

describe('encode refuses what the wire cannot carry', () => {
  it.each([
    ['vrid 0', { vrid: 0 }],
    ['vrid 256', { vrid: 256 }],
    ['priority 256', { priority: 256 }],
    ['priority -1', { priority: -1 }],
    ['advertInt 0', { advertInt: 0 }],
    ['advertInt 256', { advertInt: 256 }],
    ['advertInt 1.5', { advertInt: 1.5 }],
    ['bad address', { addresses: ['10.0.0.256'] }],
  ] as Array<[string, Partial<VrrpAdvert>]>)('%s', (_name, over) => {
    expect(() => encodeAdvert({ ...v2Advert, ...over }, MCAST)).toThrow(RangeError);
  });
  it('v3 interval 4096 cs', () => {
    expect(() => encodeAdvert(v3Advert({ maxAdvertIntCs: 4096 }), MCAST)).toThrow(RangeError);
  });
});

describe('IPv4 address helpers', () => {
  it('compares numerically, not as text', () => {
    expect(compareIpv4('10.0.0.10', '10.0.0.9')).toBe(1);
    expect(compareIpv4('9.255.255.255', '10.0.0.0')).toBe(-1);
    expect(compareIpv4('255.0.0.1', '1.0.0.0')).toBe(1);
    expect(compareIpv4('10.1.1.1', '10.1.1.1')).toBe(0);
  });
  it('rejects what is not a dotted quad', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', 'a.b.c.d', ' 1.2.3.4']) {
      expect(parseIpv4(bad)).toBeUndefined();
    }
  });
});
