/**
 * Destination (real server) <-> IPVS_CMD_ATTR_DEST nested attributes (ip_vs_genl_parse_dest /
 * ip_vs_genl_fill_dest in the kernel).
 */
import { AttributeReader, NetlinkDecodeError, attr, be16Attr, nestedAttr, u16Attr, u32Attr, u8Attr } from './attributes.js';
import { addressToInetAddr, bytesToAddress, familyOfAddress } from './address.js';
import { CmdAttr, DestAttr, FWD_MASK, FwdMethod, TunnelType as TunnelTypeNumber } from './constants.js';
import { afToFamily, familyToAf } from './service.js';
import { unpackStatsPreferring64 } from './stats.js';
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
  const addr = r.raw(DestAttr.ADDR);
  const port = r.be16(DestAttr.PORT);
  if (addr === undefined || port === undefined) throw new NetlinkDecodeError('destination without address/port');
  const af = r.u16(DestAttr.ADDR_FAMILY);
  const family = af === undefined ? serviceFamily : afToFamily(af);
  const forwarding = forwardingFromNumber(r.u32(DestAttr.FWD_METHOD) ?? 0);
  const entry: DestinationEntry = {
    address: bytesToAddress(addr, family),
    port,
    family,
    forwarding,
    weight: r.u32(DestAttr.WEIGHT) ?? 0,
    upperThreshold: r.u32(DestAttr.U_THRESH) ?? 0,
    lowerThreshold: r.u32(DestAttr.L_THRESH) ?? 0,
    activeConnections: r.u32(DestAttr.ACTIVE_CONNS) ?? 0,
    inactiveConnections: r.u32(DestAttr.INACT_CONNS) ?? 0,
    persistentConnections: r.u32(DestAttr.PERSIST_CONNS) ?? 0,
  };
  if (forwarding === 'tunnel') {
    const tunType = r.u8(DestAttr.TUN_TYPE);
    entry.tunnel = {
      type: tunType === undefined ? 'ipip' : tunnelTypeFromNumber(tunType),
      port: r.be16(DestAttr.TUN_PORT) ?? 0,
      flags: r.u16(DestAttr.TUN_FLAGS) ?? 0,
    };
  }
  const stats = withStats ? unpackStatsPreferring64(r, DestAttr.STATS64, DestAttr.STATS) : undefined;
  if (stats) entry.stats = stats;
  return entry;
}
