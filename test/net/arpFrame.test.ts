import { describe, expect, it } from 'vitest';
import { formatMac, gratuitousArpFrame, parseMac } from '../../src/net/arpFrame.js';

describe('gratuitous ARP frame', () => {
  it('is a broadcast ARP request with sender = target = VIP and the interface MAC', () => {
    const frame = gratuitousArpFrame(parseMac('02:00:5e:10:20:30'), '10.99.0.200');
    expect(frame.toString('hex')).toBe(
      'ffffffffffff' + '02005e102030' + '0806' + // Ethernet: broadcast, our MAC, ARP
        '0001' + '0800' + '06' + '04' + '0001' + // Ethernet/IPv4, lengths, request
        '02005e102030' + '0a6300c8' + // sender MAC, sender IP = VIP
        'ffffffffffff' + '0a6300c8', // target MAC (as keepalived: ff..), target IP = VIP
    );
    expect(frame.length).toBe(42);
  });

  it('rejects malformed inputs instead of building a wrong frame', () => {
    expect(() => gratuitousArpFrame(Buffer.alloc(5), '10.0.0.1')).toThrow();
    expect(() => gratuitousArpFrame(Buffer.alloc(6), '10.0.0.256')).toThrow();
    expect(() => gratuitousArpFrame(Buffer.alloc(6), 'fe80::1')).toThrow();
    expect(() => parseMac('02:00:5e:10:20')).toThrow();
    expect(() => parseMac('02:00:5e:10:20:zz')).toThrow();
  });

  it('round-trips MAC text forms', () => {
    expect(formatMac(parseMac('0A:0b:00:ff:1:2'))).toBe('0a:0b:00:ff:01:02');
  });
});
