/**
 * Destination (real server) <-> IPVS_CMD_ATTR_DEST nested attributes (ip_vs_genl_parse_dest /
 * ip_vs_genl_fill_dest in the kernel).
 */
import {
  type AttributeReader,
  NetlinkDecodeError,
  align4,
  attr,
  attributeLengthAt,
  attributeTypeAt,
  be16Attr,
  nestedAttr,
  requireLength,
  u16Attr,
  u32Attr,
  u8Attr,
} from './attributes.js';
import { addressAt, addressToInetAddr, familyOfAddress } from './address.js';
import { CmdAttr, DestAttr, FWD_MASK, FwdMethod, NLA_HDRLEN, TunnelType as TunnelTypeNumber } from './constants.js';
import { afToFamily, familyToAf } from './service.js';
import { scanStats } from './stats.js';
import type { DestinationEntry, DestinationSpec, ForwardingMethod, IpFamily, TunnelType } from '../types.js';

const FWD_NUMBERS: Record<ForwardingMethod, number> = {
  nat: FwdMethod.MASQ,
  local: FwdMethod.LOCALNODE,
  tunnel: FwdMethod.TUNNEL,
  dr: FwdMethod.DROUTE,
  bypass: FwdMethod.BYPASS,
};

export function forwardingFromNumber(n: number): ForwardingMethod {
  switch (n & FWD_MASK) {
    case FwdMethod.MASQ:
      return 'nat';
    case FwdMethod.LOCALNODE:
      return 'local';
    case FwdMethod.TUNNEL:
      return 'tunnel';
    case FwdMethod.DROUTE:
      return 'dr';
    case FwdMethod.BYPASS:
      return 'bypass';
    default:
      throw new NetlinkDecodeError(`unknown forwarding method ${n}`);
  }
}

const TUN_NUMBERS: Record<TunnelType, number> = {
  ipip: TunnelTypeNumber.IPIP,
  gue: TunnelTypeNumber.GUE,
  gre: TunnelTypeNumber.GRE,
};

function tunnelTypeFromNumber(n: number): TunnelType {
  if (n === TunnelTypeNumber.IPIP) return 'ipip';
  if (n === TunnelTypeNumber.GUE) return 'gue';
  if (n === TunnelTypeNumber.GRE) return 'gre';
  throw new NetlinkDecodeError(`unknown tunnel type ${n}`);
}

/** Address + port: enough for DEL_DEST. ADDR_FAMILY is sent so mixed-family tunnel dests are found too. */
export function packDestinationKey(d: { address: string; port: number }): Buffer[] {
  return [
    attr(DestAttr.ADDR, addressToInetAddr(d.address)),
    be16Attr(DestAttr.PORT, d.port),
    u16Attr(DestAttr.ADDR_FAMILY, familyToAf(familyOfAddress(d.address))),
  ];
}

export function packDestinationKeyOnly(d: { address: string; port: number }): Buffer {
  return nestedAttr(CmdAttr.DEST, packDestinationKey(d));
}

/** Full destination (NEW_DEST, SET_DEST). Tunnel attributes only for tunnel forwarding. */
export function packDestination(d: DestinationSpec): Buffer {
  const parts = [
    ...packDestinationKey(d),
    u32Attr(DestAttr.FWD_METHOD, FWD_NUMBERS[d.forwarding]),
    u32Attr(DestAttr.WEIGHT, d.weight),
    u32Attr(DestAttr.U_THRESH, d.upperThreshold),
    u32Attr(DestAttr.L_THRESH, d.lowerThreshold),
  ];
  if (d.forwarding === 'tunnel' && d.tunnel) {
    parts.push(
      u8Attr(DestAttr.TUN_TYPE, TUN_NUMBERS[d.tunnel.type]),
      be16Attr(DestAttr.TUN_PORT, d.tunnel.port),
      u16Attr(DestAttr.TUN_FLAGS, d.tunnel.flags),
    );
  }
  return nestedAttr(CmdAttr.DEST, parts);
}

/** One destination of a GET_DEST reply; serviceFamily is used when the kernel omits ADDR_FAMILY (< 4.x). */
export function unpackDestination(r: AttributeReader, serviceFamily: IpFamily, withStats = true): DestinationEntry {
  return scanDestination(r.buffer, r.from, r.to, serviceFamily, withStats);
}

/** Value offset of a fixed-size attribute, after checking it is long enough. */
function fixedAt(type: number, off: number, len: number, size: number): number {
  requireLength(type, len - NLA_HDRLEN, size);
  return off + NLA_HDRLEN;
}

/**
 * The attributes of IPVS_CMD_ATTR_DEST in buf[from, to), in one pass without a reader or Buffer views:
 * destinations are 10,000 of the 11,000 objects of a large read-back. Later duplicates win, short
 * fixed-size values and unknown methods throw NetlinkDecodeError, as with AttributeReader.
 */
export function scanDestination(buf: Buffer, from: number, to: number, serviceFamily: IpFamily, withStats: boolean): DestinationEntry {
  let addrAt = -1;
  let addrLen = 0;
  let port = -1;
  let af = -1;
  let fwd = 0;
  let weight = 0;
  let upper = 0;
  let lower = 0;
  let active = 0;
  let inactive = 0;
  let persistent = 0;
  let tunType = -1;
  let tunPort = 0;
  let tunFlags = 0;
  let stats64At = -1;
  let stats64End = 0;
  let stats32At = -1;
  let stats32End = 0;
  for (let off = from; off + NLA_HDRLEN <= to; ) {
    const len = attributeLengthAt(buf, off, to, from);
    const type = attributeTypeAt(buf, off);
    switch (type) {
      case DestAttr.ADDR:
        addrAt = off + NLA_HDRLEN;
        addrLen = len - NLA_HDRLEN;
        break;
      case DestAttr.PORT: {
        const v = fixedAt(type, off, len, 2);
        port = (buf[v] << 8) | buf[v + 1];
        break;
      }
      case DestAttr.ADDR_FAMILY: {
        const v = fixedAt(type, off, len, 2);
        af = buf[v] | (buf[v + 1] << 8);
        break;
      }
      case DestAttr.FWD_METHOD:
        fwd = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.WEIGHT:
        weight = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.U_THRESH:
        upper = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.L_THRESH:
        lower = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.ACTIVE_CONNS:
        active = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.INACT_CONNS:
        inactive = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.PERSIST_CONNS:
        persistent = buf.readUInt32LE(fixedAt(type, off, len, 4));
        break;
      case DestAttr.TUN_TYPE:
        tunType = buf[fixedAt(type, off, len, 1)];
        break;
      case DestAttr.TUN_PORT: {
        const v = fixedAt(type, off, len, 2);
        tunPort = (buf[v] << 8) | buf[v + 1];
        break;
      }
      case DestAttr.TUN_FLAGS: {
        const v = fixedAt(type, off, len, 2);
        tunFlags = buf[v] | (buf[v + 1] << 8);
        break;
      }
      case DestAttr.STATS64:
        stats64At = off + NLA_HDRLEN;
        stats64End = off + len;
        break;
      case DestAttr.STATS:
        stats32At = off + NLA_HDRLEN;
        stats32End = off + len;
        break;
    }
    off += align4(len);
  }
  const family = af < 0 ? serviceFamily : afToFamily(af);
  if (addrAt < 0 || port < 0) throw new NetlinkDecodeError('destination without address/port');
  const forwarding = forwardingFromNumber(fwd);
  const entry: DestinationEntry = {
    address: addressAt(buf, addrAt, addrLen, family),
    port,
    family,
    forwarding,
    weight,
    upperThreshold: upper,
    lowerThreshold: lower,
    activeConnections: active,
    inactiveConnections: inactive,
    persistentConnections: persistent,
  };
  if (forwarding === 'tunnel') {
    entry.tunnel = { type: tunType < 0 ? 'ipip' : tunnelTypeFromNumber(tunType), port: tunPort, flags: tunFlags };
  }
  if (withStats) {
    if (stats64At >= 0) entry.stats = scanStats(buf, stats64At, stats64End, true);
    else if (stats32At >= 0) entry.stats = scanStats(buf, stats32At, stats32End, false);
  }
  return entry;
}
