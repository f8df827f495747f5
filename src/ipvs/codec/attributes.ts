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

/** Attribute types below this are indexed in a flat array (every IPVS and controller attribute is). */
const DIRECT_TYPES = 32;

/**
 * Indexed view of one level of attributes. Later duplicates win (as nla_parse does). The reader records
 * offsets into the buffer it was given and reads values in place: a dump of 11,000 objects would otherwise
 * allocate a Buffer view per attribute (~35 per destination with counters), which dominated the decode.
 * raw() and nested() still hand out views of the input, never copies.
 */
export class AttributeReader {
  /** Value offset + 1 per direct type (0 = absent), and the value's length. */
  private readonly start = new Int32Array(DIRECT_TYPES);
  private readonly length = new Int32Array(DIRECT_TYPES);
  /** Types at or above DIRECT_TYPES: [offset, length]. */
  private other: Map<number, [number, number]> | undefined;

  /** Reads the attributes in buf[from, to) (the whole buffer by default). */
  constructor(
    private readonly buf: Buffer,
    /** The attribute area this reader covers: buffer[from, to). */
    readonly from = 0,
    readonly to = buf.length,
  ) {
    let off = from;
    while (off + NLA_HDRLEN <= to) {
      const len = buf[off] | (buf[off + 1] << 8);
      const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || off + len > to) {
        throw new NetlinkDecodeError(`attribute type ${type} at offset ${off - from} has length ${len} past ${to - from}`);
      }
      if (type < DIRECT_TYPES) {
        this.start[type] = off + NLA_HDRLEN + 1;
        this.length[type] = len - NLA_HDRLEN;
      } else {
        (this.other ??= new Map()).set(type, [off + NLA_HDRLEN, len - NLA_HDRLEN]);
      }
      off += align4(len);
    }
  }

  /** The buffer the offsets refer to (for readers that decode a value in place, e.g. addressAt). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Offset of the value of type in the underlying buffer, or -1. */
  offsetOf(type: number): number {
    if (type < DIRECT_TYPES) return this.start[type] - 1;
    const o = this.other?.get(type);
    return o === undefined ? -1 : o[0];
  }

  /** Length of the value of type (0 when absent). */
  lengthOf(type: number): number {
    if (type < DIRECT_TYPES) return this.length[type];
    return this.other?.get(type)?.[1] ?? 0;
  }

  has(type: number): boolean {
    return this.offsetOf(type) >= 0;
  }

  raw(type: number): Buffer | undefined {
    const off = this.offsetOf(type);
    return off < 0 ? undefined : this.buf.subarray(off, off + this.lengthOf(type));
  }

  types(): number[] {
    const out: number[] = [];
    for (let t = 0; t < DIRECT_TYPES; t++) if (this.start[t] !== 0) out.push(t);
    if (this.other) out.push(...this.other.keys());
    return out;
  }

  nested(type: number): AttributeReader | undefined {
    const off = this.offsetOf(type);
    return off < 0 ? undefined : new AttributeReader(this.buf, off, off + this.lengthOf(type));
  }

  u8(type: number): number | undefined {
    const off = this.fixed(type, 1);
    return off < 0 ? undefined : this.buf[off];
  }

  u16(type: number): number | undefined {
    const off = this.fixed(type, 2);
    return off < 0 ? undefined : this.buf[off] | (this.buf[off + 1] << 8);
  }

  be16(type: number): number | undefined {
    const off = this.fixed(type, 2);
    return off < 0 ? undefined : (this.buf[off] << 8) | this.buf[off + 1];
  }

  u32(type: number): number | undefined {
    const off = this.fixed(type, 4);
    return off < 0 ? undefined : this.buf.readUInt32LE(off);
  }

  be32(type: number): number | undefined {
    const off = this.fixed(type, 4);
    return off < 0 ? undefined : this.buf.readUInt32BE(off);
  }

  u64(type: number): bigint | undefined {
    const off = this.fixed(type, 8);
    return off < 0 ? undefined : this.buf.readBigUInt64LE(off);
  }

  /** A u64 as a JS number (exact below 2^53; counters never get there), cheaper than a BigInt. */
  u64Number(type: number): number | undefined {
    const off = this.fixed(type, 8);
    return off < 0 ? undefined : this.buf.readUInt32LE(off) + this.buf.readUInt32LE(off + 4) * 0x1_0000_0000;
  }

  /** String up to the first NUL (or the whole value if the sender left it out). */
  string(type: number): string | undefined {
    const off = this.offsetOf(type);
    if (off < 0) return undefined;
    const end = off + this.lengthOf(type);
    const nul = this.buf.indexOf(0, off);
    return this.buf.toString('utf8', off, nul < 0 || nul > end ? end : nul);
  }

  /** Offset of a value of at least size bytes, -1 if absent; a shorter value is malformed. */
  private fixed(type: number, size: number): number {
    const off = this.offsetOf(type);
    if (off < 0) return -1;
    const len = this.lengthOf(type);
    if (len < size) throw new NetlinkDecodeError(`attribute type ${type}: ${len} bytes, expected ${size}`);
    return off;
  }
}

/** Throws the reader's error for a fixed-size value shorter than its type needs. */
export function requireLength(type: number, length: number, size: number): void {
  if (length < size) throw new NetlinkDecodeError(`attribute type ${type}: ${length} bytes, expected ${size}`);
}

/**
 * Checks one attribute header at off inside [.., to) and returns its length (header included); the
 * single-pass decoders (destination.ts, stats.ts) walk a level with it instead of building a reader.
 */
export function attributeLengthAt(buf: Buffer, off: number, to: number, from: number): number {
  const len = buf[off] | (buf[off + 1] << 8);
  if (len < NLA_HDRLEN || off + len > to) {
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    throw new NetlinkDecodeError(`attribute type ${type} at offset ${off - from} has length ${len} past ${to - from}`);
  }
  return len;
}

export const attributeTypeAt = (buf: Buffer, off: number): number => (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
