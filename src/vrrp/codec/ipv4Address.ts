/**
 * Dotted-quad IPv4 addresses as the VRRP code handles them: strings at the API, 4 bytes on the wire, a
 * 32-bit unsigned number where they must be compared (the equal-priority tie-break).
 */

import { parseIpv4 } from '../../util/ipAddress.js';

/** Like parseIpv4, for addresses that come from our own validated configuration: throws when invalid. */
export function ipv4Bytes(text: string): Uint8Array {
  const bytes = parseIpv4(text);
  if (!bytes) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return bytes;
}

/** The one parser and formatter (src/util/ipAddress.ts), re-exported where the VRRP code has always found them. */
export { formatIpv4, parseIpv4 } from '../../util/ipAddress.js';

/** The address as an unsigned 32-bit number, so that "10.0.0.10" > "10.0.0.9" compares numerically. */
export function ipv4ToNumber(text: string): number {
  const b = ipv4Bytes(text);
  return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
}

/** Negative, zero or positive as a is numerically below, equal to or above b. */
export function compareIpv4(a: string, b: string): number {
  return Math.sign(ipv4ToNumber(a) - ipv4ToNumber(b));
}
