/**
 * Netlink attributes (struct nlattr): 16-bit length, 16-bit type, value, padded to 4 bytes.
 * Encoders build exact bytes; the reader masks NLA_F_NESTED / NLA_F_NET_BYTEORDER and rejects lengths that
 * run past their container, so a malformed reply raises NetlinkDecodeError instead of reading garbage.
 */
import { NLA_HDRLEN, NLA_F_NESTED, NLA_TYPE_MASK } from './constants.js';

export class NetlinkDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetlinkDecodeError';
  }
}

export const align4 = (n: number): number => (n + 3) & ~3;

/** One attribute with its header, value and padding. */
export function attr(type: number, value: Buffer): Buffer {
  const len = NLA_HDRLEN + value.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, NLA_HDRLEN);
  return out;
}

/** A nested attribute; the kernel's IPVS policy does not require NLA_F_NESTED, ipvsadm sets it, so do we. */
export function nestedAttr(type: number, children: readonly Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

export function u8Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(1);
  b.writeUInt8(v, 0);
  return attr(type, b);
}

export function u16Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return attr(type, b);
}

/** A u16 in network byte order (ports). */
export function be16Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return attr(type, b);
}

export function u32Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return attr(type, b);
}

/** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
export function stringAttr(type: number, s: string): Buffer {
  return attr(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]));
}

export function concatAttrs(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts);
}

/**
 * Indexed view of one level of attributes. Later duplicates win (as nla_parse does). Values are slices
 * of the input, not copies.
 */
export class AttributeReader {
  private readonly byType = new Map<number, Buffer>();

  constructor(buf: Buffer) {
    let off = 0;
    while (off + NLA_HDRLEN <= buf.length) {
      const len = buf.readUInt16LE(off);
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || off + len > buf.length) {
        throw new NetlinkDecodeError(`attribute type ${type} at offset ${off} has length ${len} past ${buf.length}`);
      }
      this.byType.set(type, buf.subarray(off + NLA_HDRLEN, off + len));
      off += align4(len);
    }
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  raw(type: number): Buffer | undefined {
    return this.byType.get(type);
  }

  types(): number[] {
    return [...this.byType.keys()];
  }

  nested(type: number): AttributeReader | undefined {
    const b = this.byType.get(type);
    return b === undefined ? undefined : new AttributeReader(b);
  }

  u8(type: number): number | undefined {
    return this.fixed(type, 1)?.readUInt8(0);
  }

  u16(type: number): number | undefined {
    return this.fixed(type, 2)?.readUInt16LE(0);
  }

  be16(type: number): number | undefined {
    return this.fixed(type, 2)?.readUInt16BE(0);
  }

  u32(type: number): number | undefined {
    return this.fixed(type, 4)?.readUInt32LE(0);
  }

  be32(type: number): number | undefined {
    return this.fixed(type, 4)?.readUInt32BE(0);
  }

  u64(type: number): bigint | undefined {
    return this.fixed(type, 8)?.readBigUInt64LE(0);
  }

  /** A u64 as a JS number (exact below 2^53; counters never get there), cheaper than a BigInt. */
  u64Number(type: number): number | undefined {
    const b = this.fixed(type, 8);
    return b === undefined ? undefined : b.readUInt32LE(0) + b.readUInt32LE(4) * 0x1_0000_0000;
  }

  /** String up to the first NUL (or the whole value if the sender left it out). */
  string(type: number): string | undefined {
    const b = this.byType.get(type);
    if (b === undefined) return undefined;
    const nul = b.indexOf(0);
    return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
  }

  private fixed(type: number, size: number): Buffer | undefined {
    const b = this.byType.get(type);
    if (b === undefined) return undefined;
    if (b.length < size) throw new NetlinkDecodeError(`attribute type ${type}: ${b.length} bytes, expected ${size}`);
    return b;
  }
}
