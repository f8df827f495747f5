/**
 * Virtual service <-> IPVS_CMD_ATTR_SERVICE nested attributes (ip_vs_genl_parse_service /
 * ip_vs_genl_fill_service in the kernel).
 */
import {
  type AttributeReader,
  NetlinkDecodeError,
  attr,
  be16Attr,
  nestedAttr,
  stringAttr,
  u16Attr,
  u32Attr,
} from './attributes.js';
import { addressToInetAddr, ipv4MaskToPrefix, prefixToIpv4Mask, readAddress } from './address.js';
import {
  AF_INET,
  AF_INET6,
  CmdAttr,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SvcAttr,
  SvcFlag,
} from './constants.js';
import { unpackStatsPreferring64 } from './stats.js';
import type { IpFamily, Protocol, ServiceEntry, ServiceKey, ServiceSpec } from '../types.js';

export const familyToAf = (f: IpFamily): number => (f === 'ipv6' ? AF_INET6 : AF_INET);

export function afToFamily(af: number): IpFamily {
  if (af === AF_INET) return 'ipv4';
  if (af === AF_INET6) return 'ipv6';
  throw new NetlinkDecodeError(`unknown address family ${af}`);
}

const PROTOCOL_NUMBERS: Record<Protocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };

export function protocolNumber(p: Protocol): number {
  return PROTOCOL_NUMBERS[p];
}

export function protocolFromNumber(n: number): Protocol {
  if (n === IPPROTO_TCP) return 'tcp';
  if (n === IPPROTO_UDP) return 'udp';
  if (n === IPPROTO_SCTP) return 'sctp';
  throw new NetlinkDecodeError(`unknown protocol ${n}`);
}

/** Flags userspace may set; HASHED and unknown bits the kernel reports are not ours. */
const SETTABLE_FLAGS = SvcFlag.PERSISTENT | SvcFlag.ONEPACKET | SvcFlag.SCHED1 | SvcFlag.SCHED2 | SvcFlag.SCHED3;

/** The identifying attributes of a service (enough for DEL_SERVICE, GET_DEST, NEW_DEST). */
export function packServiceKey(key: ServiceKey): Buffer[] {
  const parts = [u16Attr(SvcAttr.AF, familyToAf(key.family))];
  if (key.kind === 'fwmark') {
    parts.push(u32Attr(SvcAttr.FWMARK, key.fwmark));
  } else {
    parts.push(
      u16Attr(SvcAttr.PROTOCOL, protocolNumber(key.protocol)),
      attr(SvcAttr.ADDR, addressToInetAddr(key.address)),
      be16Attr(SvcAttr.PORT, key.port),
    );
  }
  return parts;
}

/** Netmask attribute value: an IPv4 mask in network order, or for IPv6 the prefix length as a host u32. */
function packNetmask(family: IpFamily, prefixLength: number): Buffer {
  if (family === 'ipv4') return attr(SvcAttr.NETMASK, prefixToIpv4Mask(prefixLength));
  return u32Attr(SvcAttr.NETMASK, prefixLength);
}

export function serviceFlags(spec: ServiceSpec): number {
  return (
    (spec.persistence ? SvcFlag.PERSISTENT : 0) |
    (spec.onePacket ? SvcFlag.ONEPACKET : 0) |
    (spec.schedulerFlags & (SvcFlag.SCHED1 | SvcFlag.SCHED2 | SvcFlag.SCHED3))
  );
}

/** Full service (NEW_SERVICE, SET_SERVICE): key, scheduler, flags with full mask, timeout, netmask, PE. */
export function packService(spec: ServiceSpec): Buffer {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(serviceFlags(spec), 0);
  flags.writeUInt32LE(0xffffffff, 4);
  const fullPrefix = spec.key.family === 'ipv6' ? 128 : 32;
  const parts = [
    ...packServiceKey(spec.key),
    stringAttr(SvcAttr.SCHED_NAME, spec.scheduler),
    attr(SvcAttr.FLAGS, flags),
    u32Attr(SvcAttr.TIMEOUT, spec.persistence?.timeoutSeconds ?? 0),
    packNetmask(spec.key.family, spec.persistence?.prefixLength ?? fullPrefix),
  ];
  if (spec.persistenceEngine) parts.push(stringAttr(SvcAttr.PE_NAME, spec.persistenceEngine));
  return nestedAttr(CmdAttr.SERVICE, parts);
}

export function packServiceKeyOnly(key: ServiceKey): Buffer {
  return nestedAttr(CmdAttr.SERVICE, packServiceKey(key));
}

export function unpackServiceKey(r: AttributeReader): ServiceKey {
  const af = r.u16(SvcAttr.AF);
  if (af === undefined) throw new NetlinkDecodeError('service without AF');
  const family = afToFamily(af);
  const fwmark = r.u32(SvcAttr.FWMARK);
  if (fwmark !== undefined && fwmark !== 0) return { kind: 'fwmark', family, fwmark };
  const protocol = r.u16(SvcAttr.PROTOCOL);
  const address = readAddress(r, SvcAttr.ADDR, family);
  const port = r.be16(SvcAttr.PORT);
  if (protocol === undefined || address === undefined || port === undefined) {
    throw new NetlinkDecodeError('service without fwmark nor protocol/address/port');
  }
  return { kind: 'address', family, protocol: protocolFromNumber(protocol), address, port };
}

/** One service of a GET_SERVICE reply (the attributes inside IPVS_CMD_ATTR_SERVICE). */
export function unpackService(r: AttributeReader, withStats = true): ServiceEntry {
  const key = unpackServiceKey(r);
  // struct ip_vs_flags { flags; mask }: the first u32 is what is set.
  const flags = (r.u32(SvcAttr.FLAGS) ?? 0) & SETTABLE_FLAGS;
  const timeout = r.u32(SvcAttr.TIMEOUT) ?? 0;
  let prefixLength = key.family === 'ipv6' ? 128 : 32;
  if (r.has(SvcAttr.NETMASK)) {
    if (r.lengthOf(SvcAttr.NETMASK) < 4) throw new NetlinkDecodeError('short netmask');
    prefixLength = key.family === 'ipv6' ? (r.u32(SvcAttr.NETMASK) ?? 0) : ipv4MaskToPrefix(r.be32(SvcAttr.NETMASK) ?? 0);
  }
  const entry: ServiceEntry = {
    key,
    scheduler: r.string(SvcAttr.SCHED_NAME) ?? '',
    onePacket: (flags & SvcFlag.ONEPACKET) !== 0,
    schedulerFlags: flags & (SvcFlag.SCHED1 | SvcFlag.SCHED2 | SvcFlag.SCHED3),
  };
  if (flags & SvcFlag.PERSISTENT) entry.persistence = { timeoutSeconds: timeout, prefixLength };
  const pe = r.string(SvcAttr.PE_NAME);
  if (pe) entry.persistenceEngine = pe;
  const stats = withStats ? unpackStatsPreferring64(r, SvcAttr.STATS64, SvcAttr.STATS) : undefined;
  if (stats) entry.stats = stats;
  return entry;
}
