/**
 * Generic netlink framing: nlmsghdr (len, type, flags, seq, pid) + genlmsghdr (cmd, version, reserved) +
 * attributes; and the split of a received datagram into messages (data, ERROR/ACK, DONE).
 */
import { NetlinkDecodeError, align4 } from './attributes.js';
import {
  GENL_HDRLEN,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
} from './constants.js';

export interface GenlRequest {
  familyId: number;
  cmd: number;
  version: number;
  /** Ask for a dump (NLM_F_DUMP) instead of a single reply or ACK. */
  dump: boolean;
  attributes: Buffer;
  /** Normally 0 here: the transport stamps its own sequence number with setSequence. */
  seq?: number;
}

export function encodeGenlRequest(req: GenlRequest): Buffer {
  const len = NLMSG_HDRLEN + GENL_HDRLEN + req.attributes.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(req.familyId, 4);
  out.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | (req.dump ? NLM_F_DUMP : 0), 6);
  out.writeUInt32LE(req.seq ?? 0, 8);
  out.writeUInt32LE(0, 12); // port id 0: the kernel fills in the sender
  out.writeUInt8(req.cmd, 16);
  out.writeUInt8(req.version, 17);
  req.attributes.copy(out, NLMSG_HDRLEN + GENL_HDRLEN);
  return out;
}

export function setSequence(message: Buffer, seq: number): void {
  message.writeUInt32LE(seq >>> 0, 8);
}

export function readSequence(message: Buffer): number {
  return message.readUInt32LE(8);
}

export function isDumpRequest(message: Buffer): boolean {
  return (message.readUInt16LE(6) & NLM_F_DUMP) === NLM_F_DUMP;
}

export type NetlinkMessage =
  | { kind: 'data'; type: number; flags: number; seq: number; raw: Buffer }
  /** NLMSG_ERROR: errno 0 is an ACK, otherwise a positive errno. */
  | { kind: 'error'; seq: number; errno: number; raw: Buffer }
  | { kind: 'done'; seq: number; raw: Buffer };

/** Splits one received datagram into its netlink messages. NOOP/OVERRUN are dropped. */
export function splitNetlinkMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new NetlinkDecodeError(`netlink message at offset ${off} has length ${len} past ${buf.length}`);
    }
    const raw = buf.subarray(off, off + len);
    const type = raw.readUInt16LE(4);
    const flags = raw.readUInt16LE(6);
    const seq = raw.readUInt32LE(8);
    if (type === NLMSG_ERROR) {
      if (len < NLMSG_HDRLEN + 4) throw new NetlinkDecodeError('truncated NLMSG_ERROR');
      const status = raw.readInt32LE(NLMSG_HDRLEN);
      out.push({ kind: 'error', seq, errno: status === 0 ? 0 : -status, raw });
    } else if (type === NLMSG_DONE) {
      out.push({ kind: 'done', seq, raw });
    } else if (type !== NLMSG_NOOP && type !== NLMSG_OVERRUN) {
      out.push({ kind: 'data', type, flags, seq, raw });
    }
    off += align4(len);
  }
  return out;
}

export interface GenlMessage {
  familyId: number;
  cmd: number;
  version: number;
  attributes: Buffer;
}

/** Reads the generic netlink header and attribute area of one data message (header included). */
export function decodeGenlMessage(raw: Buffer): GenlMessage {
  if (raw.length < NLMSG_HDRLEN + GENL_HDRLEN) throw new NetlinkDecodeError('message shorter than the genl header');
  const len = raw.readUInt32LE(0);
  if (len > raw.length || len < NLMSG_HDRLEN + GENL_HDRLEN) throw new NetlinkDecodeError(`bad nlmsg_len ${len}`);
  return {
    familyId: raw.readUInt16LE(4),
    cmd: raw.readUInt8(NLMSG_HDRLEN),
    version: raw.readUInt8(NLMSG_HDRLEN + 1),
    attributes: raw.subarray(NLMSG_HDRLEN + GENL_HDRLEN, len),
  };
}
