/**
 * IPv6 addresses as the VRRP code handles them: RFC 5952 text at the API (the config compiler's
 * canonicalIp, the one formatter the model's addresses are already in, so a received address and a
 * configured one compare as strings), 16 bytes on the wire.
 */
import { canonicalIp } from '../../config/compiler/values.js';

const GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses IPv6 text (no zone, no embedded IPv4) into 16 bytes, or undefined when it is not one. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string | undefined): string[] => (h === undefined || h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!GROUP.test(all[i]!)) return undefined;
    const value = parseInt(all[i]!, 16);
    out[2 * i] = value >> 8;
    out[2 * i + 1] = value & 0xff;
  }
  return out;
}

/** Like parseIpv6, for addresses from our own validated configuration: throws RangeError when invalid. */
export function ipv6Bytes(text: string): Uint8Array {
  const bytes = parseIpv6(text);
  if (!bytes) throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return bytes;
}

/** RFC 5952 text of the 16 bytes at offset. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!).toString(16));
  return canonicalIp(groups.join(':'));
}
