/**
 * IPv4/IPv6 text <-> bytes without node:net (the codec stays pure). Output is canonical (RFC 5952 for IPv6)
 * so addresses compare as strings.
 */
import { NetlinkDecodeError, type AttributeReader } from './attributes.js';
import type { IpFamily } from '../types.js';

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

/** Dotted quad, four decimal parts of 1-3 digits each up to 255; one pass, no regex (every request parses one). */
function parseIpv4(s: string): Buffer | undefined {
  const out = Buffer.alloc(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      if (++digits > 3) return undefined;
      continue;
    }
    if (c !== 46 || digits === 0 || value > 255 || part > 3) return undefined;
    out[part++] = value;
    value = 0;
    digits = 0;
  }
  return part === 4 ? out : undefined;
}

function parseIpv6(s: string): Buffer | undefined {
  if (s.includes('%')) return undefined;
  let tail4: Buffer | undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    out.writeUInt16BE(parseInt(all[i], 16), i * 2);
  }
  if (tail4) tail4.copy(out, 12);
  return out;
}

export function familyOfAddress(address: string): IpFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/** Address bytes: 4 for IPv4, 16 for IPv6. Throws AddressError on bad text. */
export function addressToBytes(address: string): Buffer {
  const b = address.includes(':') ? parseIpv6(address) : parseIpv4(address);
  if (!b) throw new AddressError(`not an IP address: ${JSON.stringify(address)}`);
  return b;
}

/** Same bytes padded to the 16 bytes of union nf_inet_addr, as ipvsadm sends them. */
export function addressToInetAddr(address: string): Buffer {
  const b = addressToBytes(address);
  return b.length === 16 ? b : Buffer.concat([b, Buffer.alloc(12)]);
}

/** Canonical text of an address of the given family; IPv4 accepts the 16-byte kernel form (first 4 bytes). */
export function bytesToAddress(bytes: Buffer, family: IpFamily): string {
  return addressAt(bytes, 0, bytes.length, family);
}

/**
 * Text of the IPv4 addresses seen, by their 32-bit value: a read-back of 11,000 objects names the same few
 * thousand addresses every time, and handing out the same string (its hash already computed) also makes
 * the reconciler's lookups by address cheaper. Bounded: cleared when it grows past IPV4_TEXT_LIMIT.
 */
const ipv4Text = new Map<number, string>();
const IPV4_TEXT_LIMIT = 65_536;

/** Canonical text of the address in buf[off, off + len), read in place (no Buffer view). */
export function addressAt(buf: Buffer, off: number, len: number, family: IpFamily): string {
  if (family === 'ipv4') {
    if (len < 4) throw new NetlinkDecodeError(`IPv4 address of ${len} bytes`);
    const value = buf.readUInt32BE(off);
    let text = ipv4Text.get(value);
    if (text === undefined) {
      text = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
      if (ipv4Text.size >= IPV4_TEXT_LIMIT) ipv4Text.clear();
      ipv4Text.set(value, text);
    }
    return text;
  }
  if (len < 16) throw new NetlinkDecodeError(`IPv6 address of ${len} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(off + i * 2));
  // RFC 5952: compress the longest run (leftmost on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** The address in attribute type of r, read in place; undefined when absent. */
export function readAddress(r: AttributeReader, type: number, family: IpFamily): string | undefined {
  const off = r.offsetOf(type);
  return off < 0 ? undefined : addressAt(r.buffer, off, r.lengthOf(type), family);
}

/** Canonical form of address text (throws AddressError if it is not one). */
export function canonicalAddress(address: string): string {
  const b = addressToBytes(address);
  return bytesToAddress(b, b.length === 4 ? 'ipv4' : 'ipv6');
}

export function prefixToIpv4Mask(prefix: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0, 0);
  return out;
}

/** Leading one bits of an IPv4 mask (a non-contiguous mask counts only its leading ones). */
export function ipv4MaskToPrefix(mask: number): number {
  let n = 0;
  while (n < 32 && (mask & (0x80000000 >>> n)) !== 0) n++;
  return n;
}
