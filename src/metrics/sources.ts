import type { IpvsBackendStatus, IpvsServiceStats } from '../ipvs/types.js';

/**
 * What the metrics edge reads from the rest of the daemon, at scrape time. The rooms (VRRP, health checks,
 * IPVS) keep plain counters and state; the composition root adapts them to these narrow snapshots, so
 * prom-client never reaches into a core.
 */

/** keepalived's numbering, which the exporter's `keepalived_vrrp_state` uses: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT. */
export const VRRP_STATE_VALUES = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 } as const;
export type VrrpStateName = keyof typeof VRRP_STATE_VALUES;

/** The per-instance counters of keepalived's `vrrp_stats` (what its stats dump and the exporter show). */
export interface VrrpCounters {
  advertRcvd: number;
  advertSent: number;
  becomeMaster: number;
  releaseMaster: number;
  packetLenErr: number;
  advertIntervalErr: number;
  ipTtlErr: number;
  invalidTypeRcvd: number;
  addrListErr: number;
  invalidAuthType: number;
  authTypeMismatch: number;
  authFailure: number;
  priZeroRcvd: number;
  priZeroSent: number;
  /** tslvsd's own (no keepalived exporter series): advert copies the kernel refused to send. */
  sendErrors: number;
  /** Periodic adverts sent half an advert_int or more after their time (the process was held). */
  advertLate: number;
  /** Master-down timers that fired late (the process was held) and listened once more before a takeover. */
  masterDownDeferred: number;
  /** Dropped for a bad checksum (keepalived's chk_err, in its SNMP MIB only). */
  checksumErr: number;
  /** Dropped for another VRRP version (vers_err). */
  versionErr: number;
  /** check_unicast_src: from an address that is not a unicast peer. */
  unicastSrcErr: number;
  /** Not IP protocol 112 (the socket and its filter should make this impossible). */
  otherProtocolRcvd: number;
  /** Our own adverts looped back, ignored (multicast loop is off: should stay 0). */
  ownPacketsRcvd: number;
  /** Gratuitous ARP frames the kernel took (IPv4 VIPs, on becoming master and on the refresh schedule). */
  garpSent: number;
  /** Gratuitous ARP frames the kernel refused. */
  garpErrors: number;
  /** Unsolicited neighbour advertisements the kernel took (IPv6 VIPs, on the same schedule). */
  naSent: number;
  /** Unsolicited neighbour advertisements the kernel refused. */
  naErrors: number;
}

export function zeroVrrpCounters(): VrrpCounters {
  return {
    advertRcvd: 0,
    advertSent: 0,
    becomeMaster: 0,
    releaseMaster: 0,
    packetLenErr: 0,
    advertIntervalErr: 0,
    ipTtlErr: 0,
    invalidTypeRcvd: 0,
    addrListErr: 0,
    invalidAuthType: 0,
    authTypeMismatch: 0,
    authFailure: 0,
    priZeroRcvd: 0,
    priZeroSent: 0,
    sendErrors: 0,
    advertLate: 0,
    masterDownDeferred: 0,
    checksumErr: 0,
    versionErr: 0,
    unicastSrcErr: 0,
    otherProtocolRcvd: 0,
    ownPacketsRcvd: 0,
    garpSent: 0,
    garpErrors: 0,
    naSent: 0,
    naErrors: 0,
  };
}

export interface VrrpInstanceSnapshot {
  name: string;
  interface: string;
  vrid: number;
  state: VrrpStateName;
  basePriority: number;
  effectivePriority: number;
  /** Configured VIPs as `ADDR` or `ADDR/PREFIX` (the exporter's `ip_address` label). */
  vips: string[];
  /**
   * The exporter's view of the VIPs (what keepalived 2.2.7 writes in its data file): `ip_address` as
   * ipaddresstos() prints it — no prefix when it is the full length (/32, /128) — and `intf` the VIP's
   * device. Absent: `vips` on the instance's interface.
   */
  vipLabels?: Array<{ ipAddress: string; intf: string; excluded: boolean }>;
  /** virtual_routes / virtual_rules held now (a MASTER's), as `ip route` / `ip rule` words; absent when none. */
  routes?: string[];
  rules?: string[];
  /** Wall-clock time of the last state change, ms since the epoch (0: none yet). */
  lastTransitionEpochMs: number;
  /** The master this instance last heard from (or its own address while master), if known. */
  masterAddress?: string;
  counters: VrrpCounters;
}

export interface VrrpScriptSnapshot {
  name: string;
  /** The script's last verdict: keepalived's GOOD (1) or BAD (0). */
  good: boolean;
}

/** The VRRP socket(s) of one interface, summed over the sockets open on it. */
export interface VrrpSocketSnapshot {
  interface: string;
  /** Passed the kernel filter and read. */
  packetsReceived: number;
  /** Accepted by the kernel for sending. */
  packetsSent: number;
  /** Passed the filter but found the receive buffer full: dropped by the kernel. */
  receiveBufferDrops: number;
  /** Longer than any advert, dropped unread. */
  oversizedReceived: number;
  readErrors: number;
  /** Read, but not even an IPv4 header with a VRID. */
  undecodable: number;
  /** Read, but for a VRID no instance on the socket has. */
  unknownVrid: number;
  /** Of packetsReceived, from the preferred senders (master followed, unicast peers): the priority lane. */
  priorityLaneReceived: number;
  /** Of receiveBufferDrops, the priority lane's (junk cannot fill it; this should stay 0). */
  priorityLaneBufferDrops: number;
}

export interface VrrpMetricsSource {
  instances(): VrrpInstanceSnapshot[];
  scripts(): VrrpScriptSnapshot[];
  sockets?(): VrrpSocketSnapshot[];
}

export interface CheckerSnapshot {
  /** TCP_CHECK, HTTP_GET, … */
  type: string;
  up: boolean;
}

export interface RealServerSnapshot {
  address: string;
  port: number;
  weight: number;
  up: boolean;
  checkers: CheckerSnapshot[];
}

export interface VirtualServerSnapshot {
  /** The virtual server's key (src/config/keys.ts: `ADDR:PORT/PROTO`, `fwmark:N/IPv4`, `group:NAME/PROTO`), a stable label value. */
  key: string;
  quorumUp: boolean;
  realServers: RealServerSnapshot[];
}

/** Whether the checker keeps its schedule (from its last snapshot; all workers together). */
export interface CheckerScheduleSnapshot {
  /** Checks launched more than 200 ms after they were due. */
  behindSchedule: number;
  /** Failing verdicts not counted because the checker was starved when it took them. */
  verdictsDeferred: number;
  /** Worst launch lateness over the last 10–20 s, ms. */
  latenessMs: number;
}

export interface HealthMetricsSource {
  virtualServers(): VirtualServerSnapshot[];
  checkerSchedule?(): CheckerScheduleSnapshot | undefined;
}

/** One announced route of one virtual server (announce_route): held in the kernel now or not. */
export interface AnnouncedRouteSnapshot {
  virtualServer: string;
  /** `VIP/32` or `VIP/128`. */
  prefix: string;
  table: number;
  announced: boolean;
}

/** announce_route: absent when no virtual server announces a route. */
export interface AnnounceMetricsSource {
  announcedRoutes(): AnnouncedRouteSnapshot[];
  /** Routes added or deleted, and route operations the kernel refused, since start. */
  announceCounters(): { changes: number; errors: number };
}

// The IPVS room produces these (src/ipvs/types.ts); the exporter only reads them.
export type { IpvsBackendStatus, IpvsCounters, IpvsServiceStats } from '../ipvs/types.js';

/** Read from the kernel at scrape time; absent under --vrrp-only or without IPVS. */
export interface IpvsMetricsSource {
  stats(): Promise<IpvsServiceStats[]>;
  /** Every destination of the kernel's table with its connection gauges (node_ipvs_backend_*). */
  backends?(): Promise<IpvsBackendStatus[]>;
}

/** The IPVS connection sync daemons tslvsd drives (lvs_sync_daemon). */
export interface SyncDaemonSnapshot {
  interface: string;
  syncId: number;
  vrrpInstance?: string;
  /** master / backup (the named instance's state) or both (no instance named). */
  role: 'master' | 'backup' | 'both';
  /** The daemons running now. */
  running: Array<'master' | 'backup'>;
  switches: number;
  errors: number;
  /** Wall-clock ms of the last start or stop of a daemon (0: none). */
  lastChangeEpochMs: number;
  /** The returning director's preemption hold-off: active now, or how the last one ended. */
  preemptionHold?: { active: boolean; connections: number; heldMs?: number; reason?: string };
}

/** Absent when the configuration has no lvs_sync_daemon (or another process mode drives it). */
export interface SyncMetricsSource {
  syncDaemons(): SyncDaemonSnapshot | undefined;
}

/** The daemon's own facts. */
export interface DaemonMetricsSource {
  /** The initial load counts as the first successful one. */
  configStatus(): { lastAttemptSuccessful: boolean; lastSuccessEpochMs: number };
}

/** keepalived's ipaddresstos(): `ADDR`, with `/PREFIX` only when the prefix is not the full length. */
export function keepalivedIpAddress(address: string, prefixLength: number): string {
  const full = address.includes(':') ? 128 : 32;
  return prefixLength === full ? address : `${address}/${prefixLength}`;
}
