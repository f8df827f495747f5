/** ICMP echo request/reply codec: RFC 792 (IPv4) and RFC 4443 (ICMPv6). Pure. */
import { internetChecksum } from '../../util/internetChecksum.js';

export const ECHO_REQUEST = 8;
export const ECHO_REPLY = 0;
export const ECHO6_REQUEST = 128;
export const ECHO6_REPLY = 129;

export function encodeEchoRequest(id: number, seq: number, payload: Uint8Array = new Uint8Array(16)): Buffer {
  const buf = Buffer.alloc(8 + payload.length);
  buf[0] = ECHO_REQUEST;
  buf[1] = 0;
  buf.writeUInt16BE(id & 0xffff, 4);
  buf.writeUInt16BE(seq & 0xffff, 6);
  Buffer.from(payload).copy(buf, 8);
  buf.writeUInt16BE(internetChecksum(buf), 2);
  return buf;
}

/** Parses what a raw IPv4 ICMP socket delivers (IP header included). Null if not an echo reply. */
export function decodeEchoReply(packet: Buffer): { id: number; seq: number; from: string } | null {
  if (packet.length < 20) return null;
  if (packet[0]! >> 4 !== 4) return null;
  const ihl = (packet[0]! & 0x0f) * 4;
  if (packet.length < ihl + 8) return null;
  const icmp = packet.subarray(ihl);
  if (icmp[0] !== ECHO_REPLY || icmp[1] !== 0) return null;
  if (internetChecksum(icmp) !== 0) return null;
  const from = `${packet[12]}.${packet[13]}.${packet[14]}.${packet[15]}`;
  return { id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6), from };
}

/**
 * ICMPv6 echo request. The checksum covers a pseudo-header with the source address, which only the kernel
 * knows: it fills it in on raw ICMPv6 sockets (RFC 3542 §3.1), so it is left 0 here.
 */
export function encodeEcho6Request(id: number, seq: number, payload: Uint8Array = new Uint8Array(16)): Buffer {
  const buf = Buffer.alloc(8 + payload.length);
  buf[0] = ECHO6_REQUEST;
  buf.writeUInt16BE(id & 0xffff, 4);
  buf.writeUInt16BE(seq & 0xffff, 6);
  Buffer.from(payload).copy(buf, 8);
  return buf;
}

/** Parses what a raw ICMPv6 socket delivers (no IP header). Null if not an echo reply. */
export function decodeEcho6Reply(packet: Buffer): { id: number; seq: number } | null {
  if (packet.length < 8 || packet[0] !== ECHO6_REPLY || packet[1] !== 0) return null;
  return { id: packet.readUInt16BE(4), seq: packet.readUInt16BE(6) };
}
