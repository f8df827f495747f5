/**
 * The numeric order of two addresses of one family (the equal-priority tie-break, RFC 5798 §6.4.3: the
 * higher primary address wins), IPv4 or IPv6, compared byte by byte in network order.
 */
import { parseIpv4 } from './ipv4Address.js';
import { parseIpv6 } from './ipv6Address.js';

/** Negative, zero or positive as a is numerically below, equal to or above b (IPv4 sorts below IPv6). */
export function compareIp(a: string, b: string): number {
  const x = parseIpv4(a) ?? parseIpv6(a);
  const y = parseIpv4(b) ?? parseIpv6(b);
  if (!x || !y) throw new RangeError(`cannot order ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  if (x.length !== y.length) return Math.sign(x.length - y.length);
  return Math.sign(Buffer.compare(x, y));
}
