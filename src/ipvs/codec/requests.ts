/**
 * Whole IPVS requests (framing + attributes) and the decoding of their replies. Every builder takes the
 * family id the controller gave at start; the transport stamps the sequence number.
 */
import { AttributeReader, NetlinkDecodeError, align4, attributeLengthAt, attributeTypeAt } from './attributes.js';
import { CmdAttr, GENL_HDRLEN, IPVS_GENL_VERSION, IpvsCmd, NLA_HDRLEN, NLMSG_HDRLEN } from './constants.js';
import { packDaemon, packDaemonStop, unpackDaemon } from './daemon.js';
import { packDestination, packDestinationKeyOnly, scanDestination } from './destination.js';
import { packTimeouts, unpackInfo, unpackTimeouts } from './info.js';
import { decodeGenlMessage, encodeGenlRequest } from './message.js';
import { packService, packServiceKeyOnly, unpackService } from './service.js';
import type {
  DestinationEntry,
  DestinationSpec,
  IpFamily,
  IpvsInfo,
  IpvsTimeouts,
  ServiceEntry,
  ServiceKey,
  ServiceSpec,
  SyncDaemonEntry,
  SyncDaemonSpec,
  SyncDaemonState,
} from '../types.js';

function request(familyId: number, cmd: number, attributes: readonly Buffer[], dump = false): Buffer {
  return encodeGenlRequest({ familyId, cmd, version: IPVS_GENL_VERSION, dump, attributes: Buffer.concat(attributes) });
}

export const IpvsRequest = {
  newService: (familyId: number, s: ServiceSpec): Buffer => request(familyId, IpvsCmd.NEW_SERVICE, [packService(s)]),
  setService: (familyId: number, s: ServiceSpec): Buffer => request(familyId, IpvsCmd.SET_SERVICE, [packService(s)]),
  delService: (familyId: number, key: ServiceKey): Buffer =>
    request(familyId, IpvsCmd.DEL_SERVICE, [packServiceKeyOnly(key)]),
  /** Dump of every service. */
  getServices: (familyId: number): Buffer => request(familyId, IpvsCmd.GET_SERVICE, [], true),
  /** One service (not a dump): ESRCH if it does not exist. */
  getService: (familyId: number, key: ServiceKey): Buffer =>
    request(familyId, IpvsCmd.GET_SERVICE, [packServiceKeyOnly(key)]),
  newDest: (familyId: number, key: ServiceKey, d: DestinationSpec): Buffer =>
    request(familyId, IpvsCmd.NEW_DEST, [packServiceKeyOnly(key), packDestination(d)]),
  setDest: (familyId: number, key: ServiceKey, d: DestinationSpec): Buffer =>
    request(familyId, IpvsCmd.SET_DEST, [packServiceKeyOnly(key), packDestination(d)]),
  delDest: (familyId: number, key: ServiceKey, d: { address: string; port: number }): Buffer =>
    request(familyId, IpvsCmd.DEL_DEST, [packServiceKeyOnly(key), packDestinationKeyOnly(d)]),
  /** GET_DEST is dump-only: every destination of one service. */
  getDests: (familyId: number, key: ServiceKey): Buffer =>
    request(familyId, IpvsCmd.GET_DEST, [packServiceKeyOnly(key)], true),
  getInfo: (familyId: number): Buffer => request(familyId, IpvsCmd.GET_INFO, []),
  getConfig: (familyId: number): Buffer => request(familyId, IpvsCmd.GET_CONFIG, []),
  setConfig: (familyId: number, t: IpvsTimeouts): Buffer => request(familyId, IpvsCmd.SET_CONFIG, [packTimeouts(t)]),
  /** Zero the counters of every service, or of one service when key is given. */
  zero: (familyId: number, key?: ServiceKey): Buffer =>
    request(familyId, IpvsCmd.ZERO, key ? [packServiceKeyOnly(key)] : []),
  flush: (familyId: number): Buffer => request(familyId, IpvsCmd.FLUSH, []),
  /** Start a sync daemon (EEXIST when one of that state runs already). */
  newDaemon: (familyId: number, d: SyncDaemonSpec): Buffer => request(familyId, IpvsCmd.NEW_DAEMON, [packDaemon(d)]),
  /** Stop the sync daemon of that state (ESRCH when none runs). */
  delDaemon: (familyId: number, state: SyncDaemonState, syncId: number): Buffer =>
    request(familyId, IpvsCmd.DEL_DAEMON, [packDaemonStop(state, syncId)]),
  /** GET_DAEMON is dump-only: one part per running daemon. */
  getDaemons: (familyId: number): Buffer => request(familyId, IpvsCmd.GET_DAEMON, [], true),
};

function topLevel(raw: Buffer, expectedCmd: number): AttributeReader {
  const m = decodeGenlMessage(raw);
  if (m.cmd !== expectedCmd) throw new NetlinkDecodeError(`reply command ${m.cmd}, expected ${expectedCmd}`);
  return new AttributeReader(m.attributes);
}

/** GET_SERVICE replies carry cmd NEW_SERVICE and one nested IPVS_CMD_ATTR_SERVICE. */
export interface DecodeOptions {
  /** Decode counters and rates (default true). */
  withStats?: boolean;
}

export function decodeServiceReply(raw: Buffer, options: DecodeOptions = {}): ServiceEntry {
  const svc = topLevel(raw, IpvsCmd.NEW_SERVICE).nested(CmdAttr.SERVICE);
  if (!svc) throw new NetlinkDecodeError('service reply without IPVS_CMD_ATTR_SERVICE');
  return unpackService(svc, options.withStats ?? true);
}

/**
 * GET_DEST dump parts carry cmd NEW_DEST and one nested IPVS_CMD_ATTR_DEST. Decoded in place, without
 * readers: these are 10,000 of the 11,000 objects of a large read-back.
 */
export function decodeDestinationReply(raw: Buffer, serviceFamily: IpFamily, options: DecodeOptions = {}): DestinationEntry {
  if (raw.length < NLMSG_HDRLEN + GENL_HDRLEN) throw new NetlinkDecodeError('message shorter than the genl header');
  const len = raw.readUInt32LE(0);
  if (len > raw.length || len < NLMSG_HDRLEN + GENL_HDRLEN) throw new NetlinkDecodeError(`bad nlmsg_len ${len}`);
  const cmd = raw[NLMSG_HDRLEN];
  if (cmd !== IpvsCmd.NEW_DEST) throw new NetlinkDecodeError(`reply command ${cmd}, expected ${IpvsCmd.NEW_DEST}`);
  const from = NLMSG_HDRLEN + GENL_HDRLEN;
  let found = -1;
  let end = 0;
  for (let off = from; off + NLA_HDRLEN <= len; ) {
    const alen = attributeLengthAt(raw, off, len, from);
    if (attributeTypeAt(raw, off) === CmdAttr.DEST) {
      found = off + NLA_HDRLEN;
      end = off + alen;
    }
    off += align4(alen);
  }
  if (found < 0) throw new NetlinkDecodeError('destination reply without IPVS_CMD_ATTR_DEST');
  return scanDestination(raw, found, end, serviceFamily, options.withStats ?? true);
}

/** GET_DAEMON dump parts carry cmd NEW_DAEMON and one nested IPVS_CMD_ATTR_DAEMON. */
export function decodeDaemonReply(raw: Buffer): SyncDaemonEntry {
  const daemon = topLevel(raw, IpvsCmd.NEW_DAEMON).nested(CmdAttr.DAEMON);
  if (!daemon) throw new NetlinkDecodeError('daemon reply without IPVS_CMD_ATTR_DAEMON');
  return unpackDaemon(daemon);
}

/** GET_INFO replies carry cmd SET_INFO. */
export function decodeInfoReply(raw: Buffer): IpvsInfo {
  return unpackInfo(topLevel(raw, IpvsCmd.SET_INFO));
}

/** GET_CONFIG replies carry cmd SET_CONFIG. */
export function decodeTimeoutsReply(raw: Buffer): IpvsTimeouts {
  return unpackTimeouts(topLevel(raw, IpvsCmd.SET_CONFIG));
}
