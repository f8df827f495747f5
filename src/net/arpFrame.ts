/**
 * Gratuitous ARP as keepalived sends it: an ARP *request* broadcast on the segment with sender IP = target
 * IP = the VIP and sender MAC = the interface's MAC, so every neighbour (and the switch) updates its cache
 * to point the VIP at us. Pure: bytes in, bytes out.
 */
import { parseIpv4 } from '../util/ipAddress.js';

export const ETHERTYPE_ARP = 0x0806;
export const ARP_FRAME_LENGTH = 42; // 14 Ethernet + 28 ARP; the NIC pads to 60 on the wire

const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function parseMac(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`not a MAC address: ${mac}`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function gratuitousArpFrame(senderMac: Uint8Array, vip: string): Buffer {
  if (senderMac.length !== 6) throw new Error('sender MAC must be 6 bytes');
  const ip = parseIpv4(vip);
  if (ip === undefined) throw new Error(`not an IPv4 address: ${vip}`);
  const frame = Buffer.alloc(ARP_FRAME_LENGTH);
  BROADCAST_MAC.copy(frame, 0); // Ethernet destination
  frame.set(senderMac, 6); // Ethernet source
  frame.writeUInt16BE(ETHERTYPE_ARP, 12);
  frame.writeUInt16BE(1, 14); // hardware type: Ethernet
  frame.writeUInt16BE(0x0800, 16); // protocol type: IPv4
  frame.writeUInt8(6, 18); // hardware address length
  frame.writeUInt8(4, 19); // protocol address length
  frame.writeUInt16BE(1, 20); // opcode: request
  frame.set(senderMac, 22); // sender hardware address
  frame.set(ip, 28); // sender protocol address = VIP
  BROADCAST_MAC.copy(frame, 32); // target hardware address: ff.. as keepalived does
  frame.set(ip, 38); // target protocol address = VIP
  return frame;
}
