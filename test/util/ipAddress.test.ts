/** The one IP formatter (src/util/ipAddress.ts), and the rooms that write addresses all writing them alike. */
import { describe, expect, it } from 'vitest';
import { realServerKey } from '../../src/config/keys.js';
import { addressToBytes, bytesToAddress, canonicalAddress } from '../../src/ipvs/codec/address.js';
import { gratuitousArpFrame } from '../../src/net/arpFrame.js';
import { decodeNeighbourAdvertFrame, neighbourAdvertFrame } from '../../src/net/neighbourAdvertFrame.js';
import { bytesToIp, ipToBytes } from '../../src/net/rtnetlink.js';
import { canonicalIp, formatIp, parseIp } from '../../src/util/ipAddress.js';
import { formatIpv4, parseIpv4 } from '../../src/vrrp/codec/ipv4Address.js';

const CASES: Array<[string, string]> = [
  ['10.0.0.1', '10.0.0.1'],
  ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of two equal runs
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
  ['0:0:0:0:0:0:0:0', '::'],
  ['::1', '::1'],
  ['fe80::0:1', 'fe80::1'],
  ['::FFFF:10.0.0.1', '::ffff:10.0.0.1'], // IPv4-mapped stays dotted (§5)
  ['::ffff:a00:1', '::ffff:10.0.0.1'],
];

describe('one IP formatter (RFC 5952)', () => {
  it.each(CASES)('%s is written %s', (text, want) => {
    expect(canonicalIp(text)).toBe(want);
    expect(formatIp(parseIp(text)!)).toBe(want);
  });

  it('config keys, the IPVS codec, rtnetlink and the ARP/NA frames write every address the same way', () => {
    for (const [text, want] of CASES) {
      const family = want.includes(':') ? 'ipv6' : 'ipv4';
      expect(canonicalAddress(text)).toBe(want);
      expect(bytesToAddress(addressToBytes(text), family)).toBe(want);
      expect(bytesToIp(ipToBytes(text))).toBe(want);
      expect(realServerKey({ address: text, port: 80 })).toBe(family === 'ipv6' ? `[${want}]:80` : `${want}:80`);
      const mac = Buffer.from([2, 0, 0x5e, 0, 1, 1]);
      if (family === 'ipv6') expect(decodeNeighbourAdvertFrame(neighbourAdvertFrame(mac, text))?.target).toBe(want);
      else expect(formatIpv4(gratuitousArpFrame(mac, text), 28)).toBe(want);
    }
    expect(formatIpv4(Uint8Array.of(192, 168, 0, 1))).toBe('192.168.0.1');
  });

  it('text that is not an address is left alone and parses to nothing', () => {
    for (const bad of ['', '10.0.0', '10.0.0.256', '1::2::3', 'fe80::1%eth0', 'eth0']) {
      expect(parseIp(bad)).toBeUndefined();
      expect(parseIpv4(bad)).toBeUndefined();
      expect(canonicalIp(bad)).toBe(bad);
    }
  });
});
