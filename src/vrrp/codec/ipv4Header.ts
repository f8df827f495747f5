/**
 * The IPv4 header in front of a VRRP message (pure). A raw IPv4 socket delivers it with every packet, and
 * the receive checks need its TTL, protocol and addresses; an edge that sends with IP_HDRINCL (as
 * keepalived does: TOS 0xc0, TTL 255) can build one with encodeIpv4Header.
 */
import { internetChecksum } from '../../util/internetChecksum.js';
import { formatIpv4, ipv4Bytes } from './ipv4Address.js';

export const IPV4_MIN_HEADER_LENGTH = 20;
/** TTL every VRRP packet is sent with, and the one multicast receivers require (RFC 3768 §7.1). */
export const VRRP_IP_TTL = 255;
/** "Internetwork control" precedence, as keepalived sets it. */
export const VRRP_IP_TOS = 0xc0;

export interface Ipv4Header {
  headerLength: number;
  totalLength: number;
  ttl: number;
  protocol: number;
  srcIp: string;
  dstIp: string;
}

export type Ipv4DecodeResult =
  | { ok: true; header: Ipv4Header; payload: Buffer }
  | { ok: false; reason: 'packetLengthErrors' | 'versionErrors'; detail: string };

/**
 * Splits a received IPv4 packet into header and payload. Never throws. The payload ends at the header's
 * total length (Linux raw sockets report it in network order, unlike BSD), so trailing bytes past it are
 * dropped here; a total length beyond the bytes received is a length error.
 */
export function decodeIpv4Header(packet: Uint8Array): Ipv4DecodeResult {
  if (packet.length < IPV4_MIN_HEADER_LENGTH) {
    return { ok: false, reason: 'packetLengthErrors', detail: `${packet.length} bytes, shorter than an IPv4 header` };
  }
  const version = packet[0] >> 4;
  if (version !== 4) return { ok: false, reason: 'versionErrors', detail: `IP version ${version}` };
  const headerLength = (packet[0] & 0x0f) * 4;
  const totalLength = (packet[2] << 8) | packet[3];
  if (headerLength < IPV4_MIN_HEADER_LENGTH || headerLength > packet.length) {
    return { ok: false, reason: 'packetLengthErrors', detail: `IP header length ${headerLength}` };
  }
  if (totalLength < headerLength || totalLength > packet.length) {
    return {
      ok: false,
      reason: 'packetLengthErrors',
      detail: `IP total length ${totalLength}, ${packet.length} bytes received`,
    };
  }
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  return {
    ok: true,
    header: {
      headerLength,
      totalLength,
      ttl: packet[8],
      protocol: packet[9],
      srcIp: formatIpv4(packet, 12),
      dstIp: formatIpv4(packet, 16),
    },
    payload: bytes.subarray(headerLength, totalLength),
  };
}

export interface Ipv4HeaderFields {
  srcIp: string;
  dstIp: string;
  protocol: number;
  payloadLength: number;
  ttl?: number;
  tos?: number;
  /** 0 lets the kernel fill it in (IP_HDRINCL). */
  id?: number;
}

/** A 20-byte IPv4 header without options, with its checksum (the kernel recomputes it under IP_HDRINCL). */
export function encodeIpv4Header(fields: Ipv4HeaderFields): Buffer {
  const header = Buffer.alloc(IPV4_MIN_HEADER_LENGTH);
  header[0] = 0x45;
  header[1] = fields.tos ?? VRRP_IP_TOS;
  header.writeUInt16BE(IPV4_MIN_HEADER_LENGTH + fields.payloadLength, 2);
  header.writeUInt16BE(fields.id ?? 0, 4);
  header.writeUInt16BE(0, 6);
  header[8] = fields.ttl ?? VRRP_IP_TTL;
  header[9] = fields.protocol;
  header.set(ipv4Bytes(fields.srcIp), 12);
  header.set(ipv4Bytes(fields.dstIp), 16);
  header.writeUInt16BE(internetChecksum(header), 10);
  return header;
}
