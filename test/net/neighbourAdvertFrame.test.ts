import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMac } from '../../src/net/arpFrame.js';
import { decodeNeighbourAdvertFrame, icmpv6Checksum, neighbourAdvertFrame } from '../../src/net/neighbourAdvertFrame.js';

/** The frames of a classic pcap file (little-endian, microsecond timestamps, as tcpdump -w writes). */
function pcapFrames(file: string): Buffer[] {
  const data = readFileSync(file);
  expect(data.readUInt32LE(0)).toBe(0xa1b2c3d4);
  const frames: Buffer[] = [];
  for (let at = 24; at + 16 <= data.length; ) {
    const length = data.readUInt32LE(at + 8);
    frames.push(data.subarray(at + 16, at + 16 + length));
    at += 16 + length;
  }
  return frames;
}

// Captured from keepalived 2.2.7 by test/net/fixtures/capture-keepalived-na.sh: MAC 02:00:5e:10:00:01,
// VIP fd00:98::200 in virtual_ipaddress_excluded of an IPv4 instance, garp_master_delay 0.
const captured = pcapFrames(path.join(import.meta.dirname, 'fixtures', 'keepalived-unsolicited-na.pcap'));

describe('unsolicited neighbour advertisement frame', () => {
  it('keepalived sent garp_master_repeat (5) identical frames on becoming master', () => {
    expect(captured).toHaveLength(5);
    for (const frame of captured) expect(frame.equals(captured[0]!)).toBe(true);
  });

  it('is byte for byte the frame keepalived 2.2.7 sends, checksum included', () => {
    const ours = neighbourAdvertFrame(parseMac('02:00:5e:10:00:01'), 'fd00:98::200');
    expect(ours.toString('hex')).toBe(captured[0]!.toString('hex'));
    expect(ours.readUInt16BE(56)).toBe(0xf75c); // the checksum tcpdump called "sum ok"
  });

  it('says what keepalived says: override, not solicited, to ff02::1 / 33:33:00:00:00:01, hop limit 255', () => {
    expect(decodeNeighbourAdvertFrame(captured[0]!)).toEqual({
      destinationMac: '33:33:00:00:00:01',
      sourceMac: '02:00:5e:10:00:01',
      source: 'fd00:98::200',
      destination: 'ff02::1',
      hopLimit: 255,
      target: 'fd00:98::200',
      router: false,
      solicited: false,
      override: true,
      targetLinkAddress: '02:00:5e:10:00:01',
      checksumValid: true,
    });
  });

  it('sets the Router flag on request, with a checksum that still verifies', () => {
    const frame = neighbourAdvertFrame(parseMac('02:00:5e:10:00:01'), '2001:db8::7', { router: true });
    const decoded = decodeNeighbourAdvertFrame(frame)!;
    expect(decoded).toMatchObject({ router: true, override: true, solicited: false, target: '2001:db8::7', checksumValid: true });
    expect(frame[58]).toBe(0xa0);
  });

  it('a flipped bit fails the checksum', () => {
    const frame = Buffer.from(captured[0]!);
    frame[70]! ^= 0x01; // inside the target address
    expect(decodeNeighbourAdvertFrame(frame)!.checksumValid).toBe(false);
    expect(icmpv6Checksum(frame.subarray(22, 38), frame.subarray(38, 54), frame.subarray(54))).not.toBe(0);
  });

  it('rejects malformed inputs instead of building a wrong frame', () => {
    expect(() => neighbourAdvertFrame(Buffer.alloc(5), 'fd00::1')).toThrow();
    expect(() => neighbourAdvertFrame(Buffer.alloc(6), '10.0.0.1')).toThrow(/IPv6/);
    expect(() => neighbourAdvertFrame(Buffer.alloc(6), 'fd00::1::2')).toThrow(/IPv6/);
    expect(() => neighbourAdvertFrame(Buffer.alloc(6), '1:2:3:4:5:6:7')).toThrow(/IPv6/);
    expect(() => neighbourAdvertFrame(Buffer.alloc(6), 'fd00::g')).toThrow(/IPv6/);
    expect(decodeNeighbourAdvertFrame(Buffer.alloc(40))).toBeUndefined();
  });
});
