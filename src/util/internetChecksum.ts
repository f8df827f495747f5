/**
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words, folded and inverted.
 * VRRPv2 takes it over the VRRP message alone; VRRPv3 over an IPv4 pseudo-header followed by the message;
 * the IPv4 header over itself; ICMP echo over the ICMP message. One implementation for all of them.
 */

/** Adds the 16-bit words of `data` to a running 32-bit sum (an odd trailing byte is padded with zero). */
export function onesComplementAdd(sum: number, data: Uint8Array): number {
  let acc = sum;
  const evenLength = data.length & ~1;
  for (let i = 0; i < evenLength; i += 2) {
    acc += (data[i] << 8) | data[i + 1];
  }
  if (data.length & 1) acc += data[data.length - 1] << 8;
  // Fold often enough that the sum never leaves the safe integer range, however long the input.
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

/** Folds and inverts a running sum into the 16-bit checksum value to store in a header. */
export function finishChecksum(sum: number): number {
  let acc = sum;
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/**
 * Checksum of the concatenation of `parts` (the last may have an odd length: it is padded with a zero byte).
 * A message that carries a correct checksum sums to 0 here.
 */
export function internetChecksum(...parts: Uint8Array[]): number {
  let acc = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].length & 1 && i < parts.length - 1) throw new RangeError('only the last part may have an odd length');
    acc = onesComplementAdd(acc, parts[i]);
  }
  return finishChecksum(acc);
}
