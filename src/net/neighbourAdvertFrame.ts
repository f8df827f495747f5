import { formatIpv6, parseIpv6 } from '../util/ipAddress.js';
import { internetChecksum } from '../util/internetChecksum.js';
import { formatMac } from './arpFrame.js';

/**
 * Unsolicited neighbour advertisement (RFC 4861 §7.2.6) as keepalived 2.2.7 sends it for an IPv6 VIP
 * (vrrp_ndisc.c): Ethernet to 33:33:00:00:00:01, IPv6 from the VIP to ff02::1 with hop limit 255, ICMPv6
 * type 136 with Override set and Solicited clear (Router set when the interface forwards IPv6), target =
 * the VIP, and a Target Link-Layer Address option carrying the interface's MAC. The ICMPv6 checksum covers
 * the IPv6 pseudo-header. Pure: bytes in, bytes out.
 */
export const ETHERTYPE_IPV6 = 0x86dd;
export const NEIGHBOUR_ADVERT_FRAME_LENGTH = 86; // 14 Ethernet + 40 IPv6 + 24 NA + 8 option
const ICMPV6_NEIGHBOUR_ADVERT = 136;
const IPPROTO_ICMPV6 = 58;
const NDISC_HOP_LIMIT = 255;
const ND_OPT_TARGET_LINKADDR = 2;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;
const ALL_NODES = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01); // ff02::1
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]);

export interface NeighbourAdvertOptions {
  /** Sets the Router flag (keepalived does when the interface has IPv6 forwarding on). */
  router?: boolean;
}

export function neighbourAdvertFrame(senderMac: Uint8Array, vip: string, options: NeighbourAdvertOptions = {}): Buffer {
  if (senderMac.length !== 6) throw new Error('sender MAC must be 6 bytes');
  const target = parseIpv6(vip);
  if (target === undefined) throw new Error(`not an IPv6 address: ${vip}`);
  const frame = Buffer.alloc(NEIGHBOUR_ADVERT_FRAME_LENGTH);
  ALL_NODES_MAC.copy(frame, 0);
  frame.set(senderMac, 6);
  frame.writeUInt16BE(ETHERTYPE_IPV6, 12);
  // IPv6 header
  const icmpLength = 32;
  frame.writeUInt32BE(0x60000000, 14); // version 6, traffic class 0, flow label 0
  frame.writeUInt16BE(icmpLength, 18);
  frame.writeUInt8(IPPROTO_ICMPV6, 20);
  frame.writeUInt8(NDISC_HOP_LIMIT, 21);
  frame.set(target, 22); // source = the VIP
  frame.set(ALL_NODES, 38);
  // ICMPv6 neighbour advertisement
  const icmp = 54;
  frame.writeUInt8(ICMPV6_NEIGHBOUR_ADVERT, icmp);
  frame.writeUInt8(0, icmp + 1); // code
  frame.writeUInt8(NA_FLAG_OVERRIDE | (options.router ? NA_FLAG_ROUTER : 0), icmp + 4);
  frame.set(target, icmp + 8);
  frame.writeUInt8(ND_OPT_TARGET_LINKADDR, icmp + 24);
  frame.writeUInt8(1, icmp + 25); // option length in units of 8 bytes
  frame.set(senderMac, icmp + 26);
  frame.writeUInt16BE(icmpv6Checksum(frame.subarray(22, 38), frame.subarray(38, 54), frame.subarray(icmp)), icmp + 2);
  return frame;
}

/** The ICMPv6 checksum over the IPv6 pseudo-header (source, destination, length, next header 58). */
export function icmpv6Checksum(source: Uint8Array, destination: Uint8Array, message: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  pseudo.set(source, 0);
  pseudo.set(destination, 16);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo.writeUInt8(IPPROTO_ICMPV6, 39);
  return internetChecksum(pseudo, message);
}

/** What a neighbour advertisement frame says, for tests and diagnostics; undefined if it is not one. */
export interface DecodedNeighbourAdvert {
  sourceMac: string;
  destinationMac: string;
  source: string;
  destination: string;
  hopLimit: number;
  target: string;
  router: boolean;
  solicited: boolean;
  override: boolean;
  targetLinkAddress: string | undefined;
  checksumValid: boolean;
}

export function decodeNeighbourAdvertFrame(frame: Uint8Array): DecodedNeighbourAdvert | undefined {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 14 + 40 + 24 || b.readUInt16BE(12) !== ETHERTYPE_IPV6 || b[14]! >> 4 !== 6 || b[20] !== IPPROTO_ICMPV6) return undefined;
  const payloadLength = b.readUInt16BE(18);
  const icmp = b.subarray(54, 54 + payloadLength);
  if (icmp.length !== payloadLength || icmp.length < 24 || icmp[0] !== ICMPV6_NEIGHBOUR_ADVERT) return undefined;
  let targetLinkAddress: string | undefined;
  for (let at = 24; at + 8 <= icmp.length; ) {
    const length = icmp[at + 1]! * 8;
    if (length === 0) break;
    if (icmp[at] === ND_OPT_TARGET_LINKADDR && length >= 8) targetLinkAddress = formatMac(icmp.subarray(at + 2, at + 8));
    at += length;
  }
  return {
    destinationMac: formatMac(b.subarray(0, 6)),
    sourceMac: formatMac(b.subarray(6, 12)),
    source: formatIpv6(b.subarray(22, 38)),
    destination: formatIpv6(b.subarray(38, 54)),
    hopLimit: b[21]!,
    target: formatIpv6(icmp.subarray(8, 24)),
    router: (icmp[4]! & NA_FLAG_ROUTER) !== 0,
    solicited: (icmp[4]! & NA_FLAG_SOLICITED) !== 0,
    override: (icmp[4]! & NA_FLAG_OVERRIDE) !== 0,
    targetLinkAddress,
    checksumValid: icmpv6Checksum(b.subarray(22, 38), b.subarray(38, 54), icmp) === 0,
  };
}
