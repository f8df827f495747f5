/**
 * Config model → what the IPVS room must program: for every virtual_server its kernel services (one, or one
 * per member of a virtual_server_group), its destinations and sorry server with the health keys the
 * health-check side reports them by, plus the global lvs_* settings. Pure.
 */
import { canonicalAddress, addressToBytes, ipv4MaskToPrefix } from './codec/address.js';
import { addressRange } from '../util/ipAddress.js';
import { realServerKey, virtualServerKey } from '../config/keys.js';
import type { ConfigModel, RealServer, TunnelOptions, VirtualServer, VirtualServerGroup } from '../config/model.js';
import {
  schedulerFlagMask,
  type DestinationSpec,
  type IpFamily,
  type IpvsTimeouts,
  type Protocol,
  type ServiceKey,
  type ServiceSpec,
  type TunnelSettings,
} from './types.js';

export interface PlannedDestination {
  /** Health key of the real server ("192.168.10.11:80", "[fd00::2]:80"). */
  key: string;
  destination: DestinationSpec;
  inhibitOnFailure: boolean;
  /** In the table before any health result: keepalived starts servers up unless alpha. */
  initiallyInTable: boolean;
  /** Weight before any health result (0 for an alpha server kept by inhibit_on_failure). */
  initialWeight: number;
}

export interface PlannedSorryServer {
  key: string;
  destination: DestinationSpec;
  /** sorry_server_inhibit: kept in the table with weight 0 while not needed. */
  inhibit: boolean;
}

export interface VirtualServerIpvsPlan {
  /** The virtual server's key (src/config/keys.ts: "10.0.0.100:80/TCP", "fwmark:1/IPv4", "group:NAME/TCP"). */
  virtualServer: string;
  services: ServiceSpec[];
  realServers: PlannedDestination[];
  sorryServer?: PlannedSorryServer;
}

export interface IpvsPlan {
  virtualServers: VirtualServerIpvsPlan[];
  /** lvs_timeouts; absent when the config sets none (leave the kernel's). */
  timeouts?: IpvsTimeouts;
  /** lvs_flush: flush the whole table at start. */
  flushAtStart: boolean;
  /** lvs_flush_onstop; keepalived removes its own services at stop in any case. */
  flushOnStop: boolean;
  /** Things skipped (e.g. an unknown group), one line each. */
  warnings: string[];
}

/** Largest virtual_server_group address range expanded (keepalived limits ranges to one octet/group too). */
const MAX_RANGE = 256;

const familyOf = (f: 'inet' | 'inet6'): IpFamily => (f === 'inet6' ? 'ipv6' : 'ipv4');
const protocolOf = (p: 'TCP' | 'UDP' | 'SCTP'): Protocol => p.toLowerCase() as Protocol;

const CHECKSUM_FLAGS = { nocsum: 0, csum: 1, remcsum: 2 } as const;

function tunnelSettings(t: TunnelOptions | undefined): TunnelSettings {
  return { type: t?.type ?? 'ipip', port: t?.port ?? 0, flags: t ? CHECKSUM_FLAGS[t.checksum ?? 'nocsum'] : 0 };
}

function forwardingOf(kind: 'NAT' | 'DR' | 'TUN'): DestinationSpec['forwarding'] {
  return kind === 'NAT' ? 'nat' : kind === 'DR' ? 'dr' : 'tunnel';
}

function destinationOf(rs: { address: string; port: number; weight: number; lbKind: 'NAT' | 'DR' | 'TUN'; tunnel?: TunnelOptions | undefined; upper?: number | undefined; lower?: number | undefined }): DestinationSpec {
  const d: DestinationSpec = {
    address: canonicalAddress(rs.address),
    port: rs.port,
    forwarding: forwardingOf(rs.lbKind),
    weight: rs.weight,
    upperThreshold: rs.upper ?? 0,
    lowerThreshold: rs.lower ?? 0,
  };
  if (d.forwarding === 'tunnel') d.tunnel = tunnelSettings(rs.tunnel);
  return d;
}

/** "255.255.255.0" (IPv4 mask) or "64" (prefix length). */
function granularityPrefix(text: string | undefined, family: IpFamily): number {
  const full = family === 'ipv6' ? 128 : 32;
  if (text === undefined) return full;
  if (text.includes('.')) return ipv4MaskToPrefix(addressToBytes(text).readUInt32BE(0));
  const n = Number(text.replace(/^\//, ''));
  return Number.isInteger(n) && n >= 0 && n <= full ? n : full;
}

function serviceSpecs(vs: VirtualServer, key: ServiceKey): ServiceSpec {
  const spec: ServiceSpec = {
    key,
    scheduler: vs.lbAlgo,
    onePacket: vs.ops,
    schedulerFlags: schedulerFlagMask(vs.schedulerFlags),
  };
  if (vs.persistenceTimeout !== undefined) {
    spec.persistence = { timeoutSeconds: vs.persistenceTimeout, prefixLength: granularityPrefix(vs.persistenceGranularity, key.family) };
  }
  if (vs.persistenceEngine) spec.persistenceEngine = vs.persistenceEngine;
  return spec;
}

function serviceKeysOf(vs: VirtualServer, groups: Map<string, VirtualServerGroup>, warnings: string[]): ServiceKey[] {
  const protocol = protocolOf(vs.protocol);
  if (vs.group !== undefined) {
    const g = groups.get(vs.group);
    if (!g) {
      warnings.push(`virtual_server group ${vs.group}: no such virtual_server_group, skipped`);
      return [];
    }
    return g.entries.flatMap((e): ServiceKey[] =>
      e.kind === 'fwmark'
        ? [{ kind: 'fwmark', family: familyOf(vs.family), fwmark: e.fwmark }] // keepalived gives group fwmarks the virtual server's family
        : addressRange(e.address, e.lastAddress, MAX_RANGE).map((address) => ({ kind: 'address', family: familyOf(e.family), protocol, address, port: e.port })),
    );
  }
  if (vs.fwmark !== undefined) return [{ kind: 'fwmark', family: familyOf(vs.family), fwmark: vs.fwmark }];
  return [{ kind: 'address', family: familyOf(vs.family), protocol, address: canonicalAddress(vs.address ?? ''), port: vs.port ?? 0 }];
}

function plannedRealServer(rs: RealServer): PlannedDestination {
  return {
    key: realServerKey(rs),
    destination: destinationOf({ ...rs, upper: rs.upperConnectionThreshold, lower: rs.lowerConnectionThreshold }),
    inhibitOnFailure: rs.inhibitOnFailure,
    initiallyInTable: !rs.alpha || rs.inhibitOnFailure,
    initialWeight: rs.alpha ? 0 : rs.weight,
  };
}

export function ipvsPlanFromConfig(model: ConfigModel): IpvsPlan {
  const warnings: string[] = [];
  const groups = new Map(model.virtualServerGroups.map((g) => [g.name, g]));
  const virtualServers = model.virtualServers.map((vs): VirtualServerIpvsPlan => {
    const plan: VirtualServerIpvsPlan = {
      virtualServer: virtualServerKey(vs),
      services: serviceKeysOf(vs, groups, warnings).map((k) => serviceSpecs(vs, k)),
      realServers: vs.realServers.map(plannedRealServer),
    };
    if (vs.sorryServer) {
      const s = vs.sorryServer;
      plan.sorryServer = {
        key: realServerKey(s),
        destination: destinationOf({ address: s.address, port: s.port, weight: 1, lbKind: s.lbKind, tunnel: vs.tunnel }),
        inhibit: s.inhibit,
      };
    }
    return plan;
  });
  const t = model.global.lvsTimeouts;
  const plan: IpvsPlan = {
    virtualServers,
    flushAtStart: model.global.lvsFlush,
    flushOnStop: model.global.lvsFlushOnStop,
    warnings,
  };
  if (t.tcp !== undefined || t.tcpFin !== undefined || t.udp !== undefined) {
    plan.timeouts = { tcp: t.tcp ?? 0, tcpFin: t.tcpFin ?? 0, udp: t.udp ?? 0 };
  }
  return plan;
}
