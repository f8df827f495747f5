/**
 * IPv4/IPv6 text <-> bytes as the IPVS codec needs them (Buffers, nf_inet_addr padding, in-place reads);
 * the text itself is src/util/ipAddress.ts's, the one canonical form (RFC 5952 for IPv6).
 */
import { NetlinkDecodeError, type AttributeReader } from './attributes.js';
import type { IpFamily } from '../types.js';
import { formatIpv6, parseIpv4, parseIpv6 } from '../../util/ipAddress.js';

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export function familyOfAddress(address: string): IpFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/** Address bytes: 4 for IPv4, 16 for IPv6. Throws AddressError on bad text. */
export function addressToBytes(address: string): Buffer {
  const b = address.includes(':') ? parseIpv6(address) : parseIpv4(address);
  if (!b) throw new AddressError(`not an IP address: ${JSON.stringify(address)}`);
  return Buffer.from(b.buffer, b.byteOffset, b.length);
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
  return formatIpv6(buf, off);
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
