/** IPVS_SVC_ATTR_STATS / STATS64 (and the DEST equivalents) -> IpvsStats. The PAD attribute is ignored. */
import { AttributeReader } from './attributes.js';
import { StatsAttr } from './constants.js';
import type { IpvsStats } from '../types.js';

/** STATS64: every counter and rate is a u64 (precision beyond 2^53 is not needed for counters we export). */
export function unpackStats64(r: AttributeReader): IpvsStats {
  const g = (t: number): number => r.u64Number(t) ?? 0;
  return {
    connections: g(StatsAttr.CONNS),
    packetsIn: g(StatsAttr.INPKTS),
    packetsOut: g(StatsAttr.OUTPKTS),
    bytesIn: g(StatsAttr.INBYTES),
    bytesOut: g(StatsAttr.OUTBYTES),
    connectionsPerSecond: g(StatsAttr.CPS),
    packetsInPerSecond: g(StatsAttr.INPPS),
    packetsOutPerSecond: g(StatsAttr.OUTPPS),
    bytesInPerSecond: g(StatsAttr.INBPS),
    bytesOutPerSecond: g(StatsAttr.OUTBPS),
  };
}

/** Legacy STATS: u32 counters and rates except the two byte counters, which are u64. */
export function unpackStats32(r: AttributeReader): IpvsStats {
  const g = (t: number): number => r.u32(t) ?? 0;
  const g64 = (t: number): number => r.u64Number(t) ?? 0;
  return {
    connections: g(StatsAttr.CONNS),
    packetsIn: g(StatsAttr.INPKTS),
    packetsOut: g(StatsAttr.OUTPKTS),
    bytesIn: g64(StatsAttr.INBYTES),
    bytesOut: g64(StatsAttr.OUTBYTES),
    connectionsPerSecond: g(StatsAttr.CPS),
    packetsInPerSecond: g(StatsAttr.INPPS),
    packetsOutPerSecond: g(StatsAttr.OUTPPS),
    bytesInPerSecond: g(StatsAttr.INBPS),
    bytesOutPerSecond: g(StatsAttr.OUTBPS),
  };
}

/** Prefer STATS64 when the kernel sent it (4.x+), else fall back to STATS. */
export function unpackStatsPreferring64(parent: AttributeReader, stats64Type: number, statsType: number): IpvsStats | undefined {
  const s64 = parent.nested(stats64Type);
  if (s64) return unpackStats64(s64);
  const s32 = parent.nested(statsType);
  return s32 ? unpackStats32(s32) : undefined;
}
