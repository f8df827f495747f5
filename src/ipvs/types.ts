/**
 * The IPVS table as tslvsd sees it: virtual services keyed by address/port/protocol or firewall mark, each
 * with its destinations (real servers). Addresses are canonical text (see codec/address.ts).
 */

export type IpFamily = 'ipv4' | 'ipv6';
export type Protocol = 'tcp' | 'udp' | 'sctp';

/** A service is found by (family, protocol, address, port) or by (family, firewall mark). */
export type ServiceKey =
  | { kind: 'address'; family: IpFamily; protocol: Protocol; address: string; port: number }
  | { kind: 'fwmark'; family: IpFamily; fwmark: number };

/** masq = NAT, tunnel = TUN (IPIP/GUE/GRE), route = DR; local and bypass only appear in kernel replies. */
export type ForwardingMethod = 'nat' | 'tunnel' | 'dr' | 'local' | 'bypass';

export type TunnelType = 'ipip' | 'gue' | 'gre';

export interface Persistence {
  timeoutSeconds: number;
  /** Granularity: prefix length (0–32 for IPv4, 1–128 for IPv6); 32/128 = per client address. */
  prefixLength: number;
}

/** Scheduler flag bits as ipvsadm names them (IP_VS_SVC_F_SCHED1..3). */
export const SchedulerFlagBits = {
  'flag-1': 0x08,
  'flag-2': 0x10,
  'flag-3': 0x20,
  'sh-fallback': 0x08,
  'sh-port': 0x10,
  'mh-fallback': 0x08,
  'mh-port': 0x10,
} as const;
export type SchedulerFlagName = keyof typeof SchedulerFlagBits;

export function schedulerFlagMask(names: readonly SchedulerFlagName[]): number {
  return names.reduce((m, n) => m | SchedulerFlagBits[n], 0);
}

/** What userspace sets on a service. */
export interface ServiceSpec {
  key: ServiceKey;
  scheduler: string;
  /** Absent = not persistent. */
  persistence?: Persistence | undefined;
  onePacket: boolean;
  /** Bitmask of SchedulerFlagBits values (0x08 | 0x10 | 0x20). */
  schedulerFlags: number;
  /** Persistence engine, e.g. "sip". */
  persistenceEngine?: string;
}

export interface TunnelSettings {
  type: TunnelType;
  /** UDP port for GUE, else 0. */
  port: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_* bits (1 = csum, 2 = remote csum). */
  flags: number;
}

/** What userspace sets on a destination. */
export interface DestinationSpec {
  address: string;
  port: number;
  forwarding: ForwardingMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Only meaningful for tunnel forwarding. */
  tunnel?: TunnelSettings | undefined;
}

/** Counters and rates of a service or destination (from STATS64 when present, else STATS). */
export interface IpvsStats {
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  connectionsPerSecond: number;
  packetsInPerSecond: number;
  packetsOutPerSecond: number;
  bytesInPerSecond: number;
  bytesOutPerSecond: number;
}

export interface DestinationEntry extends DestinationSpec {
  /** The destination's own family (differs from the service's only for tunnels). */
  family: IpFamily;
  activeConnections: number;
  inactiveConnections: number;
  persistentConnections: number;
  stats?: IpvsStats;
}

export interface ServiceEntry extends ServiceSpec {
  stats?: IpvsStats;
}

export interface ServiceWithDestinations extends ServiceEntry {
  destinations: DestinationEntry[];
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  versionCode: number;
  connectionTableSize: number;
}

/** Cumulative kernel counters of a service or destination (IpvsStats without the rates). */
export interface IpvsCounters {
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** The counters of one configured virtual server (its services summed) and of each destination, at scrape time. */
export interface IpvsServiceStats {
  /** The virtual server's key (`virtualServerKey`), the same key the health side uses. */
  service: string;
  counters: IpvsCounters;
  destinations: { destination: string; counters: IpvsCounters }[];
}

/** One destination of a kernel service with its gauges (node_exporter's ipvs collector shows these). */
export interface IpvsBackendStatus {
  service: ServiceKey;
  address: string;
  port: number;
  activeConnections: number;
  inactiveConnections: number;
  weight: number;
}

/** lvs_timeouts / ipvsadm --set, in seconds; 0 on write = leave unchanged. */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** IP_VS_STATE_MASTER (1) / IP_VS_STATE_BACKUP (2): the two sync daemons the kernel can run at once. */
export type SyncDaemonState = 'master' | 'backup';

/**
 * A connection sync daemon to start (ipvsadm --start-daemon). Absent options are left to the kernel:
 * port 8848, ttl 1, group 224.0.0.81, maxlen from the interface MTU.
 */
export interface SyncDaemonSpec {
  state: SyncDaemonState;
  /** Multicast interface (at most 15 characters). */
  interface: string;
  /** 0..255; a backup daemon drops messages of another sync id (0 = accept all). */
  syncId: number;
  maxLen?: number;
  port?: number;
  ttl?: number;
  /** IPv4 or IPv6 multicast group. */
  group?: string;
}

/** A running sync daemon as GET_DAEMON reports it (the kernel fills in its defaults). */
export interface SyncDaemonEntry {
  state: SyncDaemonState;
  interface: string;
  syncId: number;
  /** Absent from kernels before 4.3 (no per-daemon options). */
  maxLen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

export function serviceKeyString(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `fwmark:${key.family}:${key.fwmark}`;
  const host = key.family === 'ipv6' ? `[${key.address}]` : key.address;
  return `${key.protocol}:${host}:${key.port}`;
}
