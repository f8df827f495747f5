/**
 * IPv6 addresses as the VRRP code handles them: RFC 5952 text at the API (the model's addresses are already
 * in that form, so a received address and a configured one compare as strings), 16 bytes on the wire. The
 * parser and formatter are the one pair in src/util/ipAddress.ts, re-exported where the VRRP code finds them.
 */
import { parseIpv6 } from '../../util/ipAddress.js';

export { formatIpv6, parseIpv6 } from '../../util/ipAddress.js';

/** Like parseIpv6, for addresses from our own validated configuration: throws RangeError when invalid. */
export function ipv6Bytes(text: string): Uint8Array {
  const bytes = parseIpv6(text);
  if (!bytes) throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return bytes;
}
