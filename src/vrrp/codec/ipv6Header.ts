/**
 * The IPv6 header in front of a received VRRP message (pure). A raw IPv6 socket delivers the payload only
 * (the VRRP header first); the addon (native/tslvsd_native.cc, VrrpSocket family 6) rebuilds a fixed
 * 40-byte header in front of it from what the kernel reports beside the packet — source from the peer
 * address, destination from IPV6_PKTINFO, hop limit from IPV6_HOPLIMIT (0 when the kernel gave none,
 * which the checks then refuse) — so the receive path reads IPv4 and IPv6 packets alike.
 */
import { formatIpv6, ipv6Bytes } from './ipv6Address.js';
import { decodeIpv4Header, type Ipv4DecodeResult, type Ipv4Header } from './ipv4Header.js';

export const IPV6_HEADER_LENGTH = 40;

/** The fields the receive checks read, for either family (`ttl` is IPv6's hop limit). */
export type IpPacketHeader = Ipv4Header;

export interface Ipv6HeaderFields {
  srcIp: string;
  dstIp: string;
  nextHeader: number;
  payloadLength: number;
  hopLimit: number;
}

/** A 40-byte IPv6 header without extension headers (traffic class 0xc0, as keepalived's adverts). */
export function encodeIpv6Header(fields: Ipv6HeaderFields): Buffer {
  const header = Buffer.alloc(IPV6_HEADER_LENGTH);
  header.writeUInt32BE(0x6c000000, 0); // version 6, traffic class 0xc0, flow label 0
  header.writeUInt16BE(fields.payloadLength, 4);
  header[6] = fields.nextHeader;
  header[7] = fields.hopLimit;
  header.set(ipv6Bytes(fields.srcIp), 8);
  header.set(ipv6Bytes(fields.dstIp), 24);
  return header;
}

/** Splits an IPv6 packet (fixed header, no extension headers) into header and payload. Never throws. */
export function decodeIpv6Header(packet: Uint8Array): Ipv4DecodeResult {
  if (packet.length < IPV6_HEADER_LENGTH) {
    return { ok: false, reason: 'packetLengthErrors', detail: `${packet.length} bytes, shorter than an IPv6 header` };
  }
  const version = packet[0] >> 4;
  if (version !== 6) return { ok: false, reason: 'versionErrors', detail: `IP version ${version}` };
  const payloadLength = (packet[4] << 8) | packet[5];
  if (IPV6_HEADER_LENGTH + payloadLength > packet.length) {
    return { ok: false, reason: 'packetLengthErrors', detail: `IPv6 payload length ${payloadLength}, ${packet.length} bytes received` };
  }
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  return {
    ok: true,
    header: {
      headerLength: IPV6_HEADER_LENGTH,
      totalLength: IPV6_HEADER_LENGTH + payloadLength,
      ttl: packet[7],
      protocol: packet[6],
      srcIp: formatIpv6(packet, 8),
      dstIp: formatIpv6(packet, 24),
    },
    payload: bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  };
}

/** An IPv4 or IPv6 packet, by its version nibble. */
export function decodeIpPacket(packet: Uint8Array): Ipv4DecodeResult {
  return packet.length > 0 && packet[0] >> 4 === 6 ? decodeIpv6Header(packet) : decodeIpv4Header(packet);
}
