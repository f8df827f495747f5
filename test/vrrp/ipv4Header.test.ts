import { describe, expect, it } from 'vitest';
import { decodeIpv4Header, encodeIpv4Header } from '../../src/vrrp/codec/ipv4Header.js';
import { internetChecksum } from '../../src/util/internetChecksum.js';

const PAYLOAD = Buffer.from('21339601010 1cf520a6300c873656372657431 00'.replace(/\s/g, ''), 'hex');

describe('IPv4 header', () => {
  it('encodes a header keepalived-style (TOS 0xc0, TTL 255) with a valid checksum', () => {
    const h = encodeIpv4Header({ srcIp: '10.99.0.1', dstIp: '224.0.0.18', protocol: 112, payloadLength: 20 });
    expect(h.length).toBe(20);
    expect(h[0]).toBe(0x45);
    expect(h[1]).toBe(0xc0);
    expect(h.readUInt16BE(2)).toBe(40);
    expect(h[8]).toBe(255);
    expect(h[9]).toBe(112);
    expect(internetChecksum(h)).toBe(0);
  });

  it('decodes what it encodes and slices the payload to the total length', () => {
    const h = encodeIpv4Header({ srcIp: '10.99.0.1', dstIp: '224.0.0.18', protocol: 112, payloadLength: 20, ttl: 64 });
    const r = decodeIpv4Header(Buffer.concat([h, PAYLOAD, Buffer.alloc(6)]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.header).toEqual({
      headerLength: 20,
      totalLength: 40,
      ttl: 64,
      protocol: 112,
      srcIp: '10.99.0.1',
      dstIp: '224.0.0.18',
    });
    expect(r.payload.equals(PAYLOAD)).toBe(true);
  });

  it('honours IP options (IHL > 5)', () => {
    const h = encodeIpv4Header({ srcIp: '1.1.1.1', dstIp: '2.2.2.2', protocol: 112, payloadLength: 24 });
    const withOptions = Buffer.concat([h, Buffer.from([1, 1, 1, 0]), PAYLOAD]);
    withOptions[0] = 0x46;
    const r = decodeIpv4Header(withOptions);
    expect(r.ok && r.payload.equals(PAYLOAD)).toBe(true);
  });

  it.each([
    ['short', Buffer.alloc(19), 'packetLengthErrors'],
    ['IPv6', Buffer.concat([Buffer.from([0x60]), Buffer.alloc(39)]), 'versionErrors'],
    ['IHL 4', Buffer.concat([Buffer.from([0x44]), Buffer.alloc(39)]), 'packetLengthErrors'],
    ['IHL past end', Buffer.concat([Buffer.from([0x4f]), Buffer.alloc(23)]), 'packetLengthErrors'],
  ])('refuses %s', (_name, buf, reason) => {
    expect(decodeIpv4Header(buf)).toMatchObject({ ok: false, reason });
  });

  it('refuses a total length beyond what was received, or below the header', () => {
    const h = encodeIpv4Header({ srcIp: '1.1.1.1', dstIp: '2.2.2.2', protocol: 112, payloadLength: 100 });
    expect(decodeIpv4Header(Buffer.concat([h, PAYLOAD]))).toMatchObject({ ok: false, reason: 'packetLengthErrors' });
    const tiny = Buffer.from(h);
    tiny.writeUInt16BE(12, 2);
    expect(decodeIpv4Header(tiny)).toMatchObject({ ok: false, reason: 'packetLengthErrors' });
  });
});
