/**
 * Whole IPVS requests (framing + attributes) and the decoding of their replies. Every builder takes the
 * family id the controller gave at start; the transport stamps the sequence number.
 */
import { AttributeReader, NetlinkDecodeError } from './attributes.js';
import { CmdAttr, IPVS_GENL_VERSION, IpvsCmd } from './constants.js';
import { packDestination, packDestinationKeyOnly, unpackDestination } from './destination.js';
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

/** GET_DEST dump parts carry cmd NEW_DEST and one nested IPVS_CMD_ATTR_DEST. */
export function decodeDestinationReply(raw: Buffer, serviceFamily: IpFamily, options: DecodeOptions = {}): DestinationEntry {
  const dest = topLevel(raw, IpvsCmd.NEW_DEST).nested(CmdAttr.DEST);
  if (!dest) throw new NetlinkDecodeError('destination reply without IPVS_CMD_ATTR_DEST');
  return unpackDestination(dest, serviceFamily, options.withStats ?? true);
}

/** GET_INFO replies carry cmd SET_INFO. */
export function decodeInfoReply(raw: Buffer): IpvsInfo {
  return unpackInfo(topLevel(raw, IpvsCmd.SET_INFO));
}

/** GET_CONFIG replies carry cmd SET_CONFIG. */
export function decodeTimeoutsReply(raw: Buffer): IpvsTimeouts {
  return unpackTimeouts(topLevel(raw, IpvsCmd.SET_CONFIG));
}
