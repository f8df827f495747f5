import { describe, expect, it } from 'vitest';
import {
  decodeEcho6Reply, decodeEchoReply, encodeEcho6Request, encodeEchoRequest,
} from '../../src/healthcheck/checkers/icmpEcho.js';
import { internetChecksum } from '../../src/util/internetChecksum.js';

/** A minimal IPv4 header (20 bytes, src 10.0.0.2) in front of an ICMP message. */
function ipv4(icmp: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[9] = 1;
  Buffer.from([10, 0, 0, 2]).copy(h, 12);
  return Buffer.concat([h, icmp]);
}

describe('ICMP echo codec', () => {
  it('encodes an echo request whose checksum verifies (RFC 1071 sums to zero)', () => {
    const req = encodeEchoRequest(0x1234, 7);
    expect(req[0]).toBe(8);
    expect(req.readUInt16BE(4)).toBe(0x1234);
    expect(req.readUInt16BE(6)).toBe(7);
    expect(internetChecksum(req)).toBe(0);
  });

  it('decodes an echo reply behind the IPv4 header; rejects requests, bad checksums, short packets', () => {
    const reply = encodeEchoRequest(0x1234, 7);
    reply[0] = 0; // echo reply
    reply.writeUInt16BE(0, 2);
    reply.writeUInt16BE(internetChecksum(reply), 2);
    expect(decodeEchoReply(ipv4(reply))).toEqual({ id: 0x1234, seq: 7, from: '10.0.0.2' });
    expect(decodeEchoReply(ipv4(encodeEchoRequest(1, 1)))).toBeNull();
    const corrupt = Buffer.from(reply);
    corrupt[9] ^= 0xff;
    expect(decodeEchoReply(ipv4(corrupt))).toBeNull();
    expect(decodeEchoReply(Buffer.alloc(10))).toBeNull();
  });

  it('ICMPv6: request type 128 (checksum left to the kernel), reply type 129', () => {
    const req = encodeEcho6Request(0xbeef, 3);
    expect([req[0], req.readUInt16BE(4), req.readUInt16BE(6)]).toEqual([128, 0xbeef, 3]);
    const reply = Buffer.from(req);
    reply[0] = 129;
    expect(decodeEcho6Reply(reply)).toEqual({ id: 0xbeef, seq: 3 });
    expect(decodeEcho6Reply(req)).toBeNull();
  });
});
