/** The one RFC 1071 checksum (src/util/internetChecksum.ts) that VRRP, the IPv4 header and ICMP echo share. */
import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/util/internetChecksum.js';

describe('internetChecksum', () => {
  it("gives RFC 1071's worked example (words 0001 f203 f4f5 f6f7: sum ddf2, checksum 220d)", () => {
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(0x220d);
  });

  it('pads an odd-length last part with a zero byte (an ICMP echo with an odd payload)', () => {
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56))).toBe(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56, 0x00)));
    const icmp = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, 0x61]);
    icmp.writeUInt16BE(internetChecksum(icmp), 2);
    expect(internetChecksum(icmp)).toBe(0);
  });

  it('sums parts as their concatenation, and refuses an odd part before the last (it would shift the words)', () => {
    const a = Uint8Array.of(0xde, 0xad), b = Uint8Array.of(0xbe, 0xef, 0x01);
    expect(internetChecksum(a, b)).toBe(internetChecksum(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01)));
    expect(() => internetChecksum(b, a)).toThrow(RangeError);
  });
});
