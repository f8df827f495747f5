import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { registerNodeExporterIpvs } from './nodeExporterIpvs.js';
import { CountedHistogram } from './countedHistogram.js';
import {
  VRRP_STATE_VALUES,
  type IpvsBackendStatus,
  type VrrpInstanceSnapshot,
  type DaemonMetricsSource,
  type AnnounceMetricsSource,
  type HealthMetricsSource,
  type IpvsCounters,
  type IpvsMetricsSource,
  type IpvsServiceStats,
  type SyncMetricsSource,
  type VrrpCounters,
  type VrrpMetricsSource,
  type VrrpSocketSnapshot,
} from './sources.js';

/**
 * The Prometheus registry. Series named `keepalived_*` are those of the widely used keepalived exporter
 * (mehdy/keepalived-exporter, same names, labels and state numbering) so existing Grafana dashboards work
 * unchanged; `tslvsd_*` are this daemon's own. Every value is read from the sources at scrape time through
 * collect callbacks: nothing is pushed from the cores.
 */
export interface MetricsSources {
  vrrp?: VrrpMetricsSource;
  health?: HealthMetricsSource;
  ipvs?: IpvsMetricsSource;
  sync?: SyncMetricsSource;
  announce?: AnnounceMetricsSource;
  daemon?: DaemonMetricsSource;
}

export interface DaemonMetrics {
  registry: Registry;
  /** Called by the health-check edge for the probes it learnt of: `count` of them took `seconds`. */
  observeCheckDuration(checkerType: string, seconds: number, count?: number): void;
  /** Replace a source (after a reload, or when a part starts late). */
  setSources(sources: MetricsSources): void;
}

const VRRP_LABELS = ['iname', 'intf', 'vrid'] as const;

/** Exporter metric name → which keepalived counter it shows. */
const VRRP_COUNTER_SERIES: ReadonlyArray<[string, keyof VrrpCounters, string]> = [
  ['keepalived_advertisements_received_total', 'advertRcvd', 'Advertisements received'],
  ['keepalived_advertisements_sent_total', 'advertSent', 'Advertisements sent'],
  ['keepalived_become_master_total', 'becomeMaster', 'Became master'],
  ['keepalived_release_master_total', 'releaseMaster', 'Released master'],
  ['keepalived_packet_length_errors_total', 'packetLenErr', 'Packet length errors'],
  ['keepalived_advertisements_interval_errors_total', 'advertIntervalErr', 'Advertisement interval errors'],
  ['keepalived_ip_ttl_errors_total', 'ipTtlErr', 'TTL errors'],
  ['keepalived_invalid_type_received_total', 'invalidTypeRcvd', 'Invalid type errors'],
  ['keepalived_address_list_errors_total', 'addrListErr', 'Address list errors'],
  ['keepalived_authentication_invalid_total', 'invalidAuthType', 'Authentication invalid'],
  ['keepalived_authentication_mismatch_total', 'authTypeMismatch', 'Authentication mismatch'],
  ['keepalived_authentication_failure_total', 'authFailure', 'Authentication failure'],
  ['keepalived_priority_zero_received_total', 'priZeroRcvd', 'Priority zero received'],
  ['keepalived_priority_zero_sent_total', 'priZeroSent', 'Priority zero sent'],
];

/**
 * tslvsd's own per-instance VRRP counters, named in the exporter's style (words, `_errors_total`, the same
 * labels) but `tslvsd_` because the exporter has no such series. (Packets for other VRIDs never reach an
 * instance: the socket series count them.)
 */
const TSLVSD_VRRP_COUNTER_SERIES: ReadonlyArray<[string, keyof VrrpCounters, string]> = [
  ['tslvsd_vrrp_advertisement_send_errors_total', 'sendErrors', 'Advertisement copies the kernel refused to send'],
  ['tslvsd_vrrp_advertisements_late_total', 'advertLate', 'Periodic advertisements sent half an advert_int or more after their time'],
  ['tslvsd_vrrp_master_down_deferred_total', 'masterDownDeferred', 'Master-down timers that fired late (the process was held) and listened once more before taking over'],
  ['tslvsd_vrrp_checksum_errors_total', 'checksumErr', 'Packets dropped for a bad VRRP checksum'],
  ['tslvsd_vrrp_version_errors_total', 'versionErr', 'Packets dropped for another VRRP version'],
  ['tslvsd_vrrp_unicast_source_errors_total', 'unicastSrcErr', 'Packets dropped because the sender is not a unicast peer'],
  ['tslvsd_vrrp_other_protocol_received_total', 'otherProtocolRcvd', 'Packets received that were not IP protocol 112'],
  ['tslvsd_vrrp_own_packets_received_total', 'ownPacketsRcvd', 'Our own adverts received back, ignored'],
  ['tslvsd_vrrp_gratuitous_arp_sent_total', 'garpSent', 'Gratuitous ARP frames sent for IPv4 VIPs'],
  ['tslvsd_vrrp_gratuitous_arp_send_errors_total', 'garpErrors', 'Gratuitous ARP frames the kernel refused to send'],
  ['tslvsd_vrrp_neighbour_advertisement_sent_total', 'naSent', 'Unsolicited neighbour advertisements sent for IPv6 VIPs'],
  ['tslvsd_vrrp_neighbour_advertisement_send_errors_total', 'naErrors', 'Unsolicited neighbour advertisements the kernel refused to send'],
];

/** Socket counters per interface (all sockets on it summed). */
const VRRP_SOCKET_SERIES: ReadonlyArray<[string, keyof Omit<VrrpSocketSnapshot, 'interface'>, string]> = [
  ['tslvsd_vrrp_socket_packets_received_total', 'packetsReceived', 'VRRP packets that passed the kernel filter and were read'],
  ['tslvsd_vrrp_socket_packets_sent_total', 'packetsSent', 'VRRP packets the kernel accepted for sending'],
  ['tslvsd_vrrp_socket_receive_buffer_drops_total', 'receiveBufferDrops', 'VRRP packets dropped by the kernel because the receive buffer was full'],
  ['tslvsd_vrrp_socket_oversized_received_total', 'oversizedReceived', 'Packets longer than any VRRP advert, dropped unread'],
  ['tslvsd_vrrp_socket_read_errors_total', 'readErrors', 'Failed reads of the VRRP socket'],
  ['tslvsd_vrrp_socket_undecodable_total', 'undecodable', 'Packets read that carry no IPv4 header with a VRID'],
  ['tslvsd_vrrp_socket_unknown_vrid_total', 'unknownVrid', 'Packets read for a VRID no instance on the socket has'],
  ['tslvsd_vrrp_socket_priority_lane_packets_received_total', 'priorityLaneReceived', 'VRRP packets read from the preferred senders (master followed, unicast peers)'],
  ['tslvsd_vrrp_socket_priority_lane_receive_buffer_drops_total', 'priorityLaneBufferDrops', 'Packets from the preferred senders dropped by the kernel because their receive buffer was full'],
];

/** IPVS stats are read once per scrape however many series show them. */
const IPVS_CACHE_MS = 1000;

export function createDaemonMetrics(initial: MetricsSources = {}, options: { processMetrics?: boolean; version?: string } = {}): DaemonMetrics {
  let sources = initial;
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // prom-client also exports these three as gauges named *_total, which promtool rightly flags; the same
    // numbers remain available as nodejs_active_{handles,requests,resources} (per type).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }

  new Gauge({
    name: 'keepalived_up',
    help: 'Status of Keepalived service',
    registers: [registry],
    collect() {
      this.set(1);
    },
  });

  new Gauge({
    name: 'keepalived_vrrp_state',
    help: 'State of vrrp',
    labelNames: [...VRRP_LABELS, 'ip_address'],
    registers: [registry],
    collect() {
      this.reset();
      for (const inst of sources.vrrp?.instances() ?? []) {
        const vrid = String(inst.vrid);
        const value = VRRP_STATE_VALUES[inst.state];
        // One series per VIP, as the exporter; an instance without VIPs still shows, with ip_address="".
        const vips = exporterVips(inst).filter((v) => !v.excluded);
        if (vips.length === 0) this.set({ iname: inst.name, intf: inst.interface, vrid, ip_address: '' }, value);
        for (const v of vips) this.set({ iname: inst.name, intf: v.intf, vrid, ip_address: v.ipAddress }, value);
      }
    },
  });

  new Gauge({
    name: 'keepalived_vrrp_excluded_state',
    help: 'State of vrrp with excluded VIP',
    labelNames: [...VRRP_LABELS, 'ip_address'],
    registers: [registry],
    collect() {
      this.reset();
      for (const inst of sources.vrrp?.instances() ?? []) {
        for (const v of exporterVips(inst).filter((e) => e.excluded)) {
          this.set({ iname: inst.name, intf: v.intf, vrid: String(inst.vrid), ip_address: v.ipAddress }, VRRP_STATE_VALUES[inst.state]);
        }
      }
    },
  });

  new Gauge({
    name: 'tslvsd_build_info',
    help: 'tslvsd build: version, Node.js version, V8 version, platform; always 1',
    labelNames: ['version', 'node_version', 'v8_version', 'platform', 'arch'],
    registers: [registry],
    collect() {
      this.set({ version: options.version ?? 'unknown', node_version: process.versions.node, v8_version: process.versions.v8, platform: process.platform, arch: process.arch }, 1);
    },
  });

  for (const [name, field, help] of [...VRRP_COUNTER_SERIES, ...TSLVSD_VRRP_COUNTER_SERIES]) {
    new Counter({
      name,
      help,
      labelNames: [...VRRP_LABELS],
      registers: [registry],
      collect() {
        // The counters live in the VRRP core; here they are only copied. reset+inc keeps the type a counter.
        this.reset();
        for (const inst of sources.vrrp?.instances() ?? []) {
          this.inc({ iname: inst.name, intf: inst.interface, vrid: String(inst.vrid) }, counterValue(inst.counters[field]));
        }
      },
    });
  }

  for (const [name, field, help] of VRRP_SOCKET_SERIES) {
    new Counter({
      name,
      help,
      labelNames: ['intf'],
      registers: [registry],
      collect() {
        this.reset();
        for (const socket of sources.vrrp?.sockets?.() ?? []) this.inc({ intf: socket.interface }, counterValue(socket[field]));
      },
    });
  }

  new Gauge({
    name: 'keepalived_script_status',
    help: 'Tracker Script Status',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const script of sources.vrrp?.scripts() ?? []) this.set({ name: script.name }, script.good ? 1 : 0);
    },
  });

  vrrpGauge(registry, 'tslvsd_vrrp_priority', 'Effective VRRP priority (base priority adjusted by tracking weights)', () => sources, (i) => i.effectivePriority);
  vrrpGauge(registry, 'tslvsd_vrrp_base_priority', 'Configured VRRP priority', () => sources, (i) => i.basePriority);
  vrrpGauge(
    registry,
    'tslvsd_vrrp_last_transition_timestamp_seconds',
    'Time of the last VRRP state change, seconds since the epoch (0: none yet)',
    () => sources,
    (i) => i.lastTransitionEpochMs / 1000,
  );

  new Gauge({
    name: 'tslvsd_real_server_up',
    help: 'Real server alive (all its checkers up) 1, else 0',
    labelNames: ['virtual_server', 'real_server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of sources.health?.virtualServers() ?? []) {
        for (const rs of vs.realServers) this.set({ virtual_server: vs.key, real_server: `${rs.address}:${rs.port}` }, rs.up ? 1 : 0);
      }
    },
  });

  new Gauge({
    name: 'tslvsd_checker_up',
    help: 'One checker of a real server: up 1, down 0',
    labelNames: ['virtual_server', 'real_server', 'checker', 'index'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of sources.health?.virtualServers() ?? []) {
        for (const rs of vs.realServers) {
          rs.checkers.forEach((checker, index) =>
            this.set(
              { virtual_server: vs.key, real_server: `${rs.address}:${rs.port}`, checker: checker.type, index: String(index) },
              checker.up ? 1 : 0,
            ),
          );
        }
      }
    },
  });

  new Gauge({
    name: 'tslvsd_virtual_server_quorum_up',
    help: 'Virtual server quorum met 1, lost 0',
    labelNames: ['virtual_server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of sources.health?.virtualServers() ?? []) this.set({ virtual_server: vs.key }, vs.quorumUp ? 1 : 0);
    },
  });

  new Gauge({
    name: 'tslvsd_announced_route',
    help: 'announce_route: the virtual server\'s route is held in the announce table 1, withdrawn 0',
    labelNames: ['virtual_server', 'prefix'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of sources.announce?.announcedRoutes() ?? []) this.set({ virtual_server: r.virtualServer, prefix: r.prefix }, r.announced ? 1 : 0);
    },
  });
  new Counter({
    name: 'tslvsd_announce_route_changes_total',
    help: 'announce_route: routes added to or deleted from the announce table',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counterValue(sources.announce?.announceCounters().changes ?? 0));
    },
  });
  new Counter({
    name: 'tslvsd_announce_route_errors_total',
    help: 'announce_route: route operations the kernel refused (retried at the next quorum snapshot)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counterValue(sources.announce?.announceCounters().errors ?? 0));
    },
  });

  const schedule = (): ReturnType<NonNullable<HealthMetricsSource['checkerSchedule']>> => sources.health?.checkerSchedule?.();
  new Counter({
    name: 'tslvsd_checker_behind_schedule_total',
    help: 'Health checks launched more than 200 ms after they were due (the checker cannot keep up)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counterValue(schedule()?.behindSchedule ?? 0));
    },
  });
  new Counter({
    name: 'tslvsd_checker_verdicts_deferred_total',
    help: 'Failing check verdicts not counted because the checker was starved when it took them (re-measured)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counterValue(schedule()?.verdictsDeferred ?? 0));
    },
  });
  new Gauge({
    name: 'tslvsd_checker_schedule_lateness_seconds',
    help: 'Worst lateness of a health check launch over the last 10-20 s',
    registers: [registry],
    collect() {
      this.set((schedule()?.latenessMs ?? 0) / 1000);
    },
  });

  const checkDuration = new CountedHistogram(
    'tslvsd_check_duration_seconds',
    'Duration of one health check probe',
    'checker',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );

  const ipvsScrapeErrors = new Counter({
    name: 'tslvsd_ipvs_scrape_errors_total',
    help: 'Reads of the kernel IPVS statistics that failed at scrape time',
    registers: [registry],
    // Waits for this scrape's (shared) read, so a failure shows in the scrape that hit it.
    async collect() {
      await ipvsStats();
    },
  });
  let ipvsCache: { at: number; value: Promise<IpvsServiceStats[]> } | undefined;
  const ipvsStats = (): Promise<IpvsServiceStats[]> => {
    const source = sources.ipvs;
    if (!source) return Promise.resolve([]);
    const now = Date.now();
    if (!ipvsCache || now - ipvsCache.at > IPVS_CACHE_MS) {
      ipvsCache = {
        at: now,
        value: source.stats().catch(() => {
          ipvsScrapeErrors.inc();
          return [];
        }),
      };
    }
    return ipvsCache.value;
  };
  ipvsCounterSeries(registry, 'service', ipvsStats);
  ipvsCounterSeries(registry, 'destination', ipvsStats);

  let backendCache: { at: number; value: Promise<IpvsBackendStatus[]> } | undefined;
  const ipvsBackends = (): Promise<IpvsBackendStatus[]> => {
    const source = sources.ipvs;
    if (!source?.backends) return Promise.resolve([]);
    const now = Date.now();
    if (!backendCache || now - backendCache.at > IPVS_CACHE_MS) {
      backendCache = {
        at: now,
        value: source.backends().catch(() => {
          ipvsScrapeErrors.inc();
          return [];
        }),
      };
    }
    return backendCache.value;
  };
  registerNodeExporterIpvs(registry, ipvsBackends);

  new Gauge({
    name: 'tslvsd_ipvs_sync_daemon_running',
    help: 'IPVS connection sync daemon of this state (master, backup) running, 1 or 0; absent without lvs_sync_daemon',
    labelNames: ['state', 'interface', 'syncid'],
    registers: [registry],
    collect() {
      this.reset();
      const sync = sources.sync?.syncDaemons();
      if (!sync) return;
      for (const state of ['master', 'backup'] as const) {
        this.set({ state, interface: sync.interface, syncid: String(sync.syncId) }, sync.running.includes(state) ? 1 : 0);
      }
    },
  });
  for (const [name, field, help] of [
    ['tslvsd_ipvs_sync_daemon_switches_total', 'switches', 'Sync daemon role changes driven by VRRP transitions of the named instance'],
    ['tslvsd_ipvs_sync_daemon_errors_total', 'errors', 'Sync daemon start/stop requests the kernel refused'],
  ] as const) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const sync = sources.sync?.syncDaemons();
        if (sync) this.inc(counterValue(sync[field]));
      },
    });
  }

  new Gauge({
    name: 'tslvsd_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful',
    registers: [registry],
    collect() {
      this.set(sources.daemon?.configStatus().lastAttemptSuccessful === false ? 0 : 1);
    },
  });
  new Gauge({
    name: 'tslvsd_config_last_reload_success_timestamp_seconds',
    help: 'Time of the last successful configuration load or reload, seconds since the epoch',
    registers: [registry],
    collect() {
      const status = sources.daemon?.configStatus();
      if (status) this.set(status.lastSuccessEpochMs / 1000);
    },
  });

  return {
    registry,
    observeCheckDuration(checkerType, seconds, count = 1) {
      checkDuration.observe(checkerType, seconds, count);
    },
    setSources(next) {
      sources = next;
      ipvsCache = undefined;
      backendCache = undefined;
    },
  };
}

function vrrpGauge(
  registry: Registry,
  name: string,
  help: string,
  sources: () => MetricsSources,
  value: (inst: ReturnType<VrrpMetricsSource['instances']>[number]) => number,
): void {
  new Gauge({
    name,
    help,
    labelNames: [...VRRP_LABELS],
    registers: [registry],
    collect() {
      this.reset();
      for (const inst of sources().vrrp?.instances() ?? []) {
        this.set({ iname: inst.name, intf: inst.interface, vrid: String(inst.vrid) }, value(inst));
      }
    },
  });
}

/** The exporter's VIP labels; from `vips` on the instance's interface when the source has no detail. */
function exporterVips(inst: VrrpInstanceSnapshot): Array<{ ipAddress: string; intf: string; excluded: boolean }> {
  return inst.vipLabels ?? inst.vips.map((ipAddress) => ({ ipAddress, intf: inst.interface, excluded: false }));
}

/** connections, packets and bytes of IPVS services or destinations, as counters read from the kernel. */
function ipvsCounterSeries(registry: Registry, level: 'service' | 'destination', stats: () => Promise<IpvsServiceStats[]>): void {
  const labelNames = level === 'service' ? ['service'] : ['service', 'destination'];
  const each = (list: IpvsServiceStats[], visit: (labels: Record<string, string>, counters: IpvsCounters) => void): void => {
    for (const svc of list) {
      if (level === 'service') visit({ service: svc.service }, svc.counters);
      else for (const dest of svc.destinations) visit({ service: svc.service, destination: dest.destination }, dest.counters);
    }
  };
  new Counter({
    name: `tslvsd_ipvs_${level}_connections_total`,
    help: `Connections scheduled by the kernel, per IPVS ${level}`,
    labelNames,
    registers: [registry],
    async collect() {
      const list = await stats();
      this.reset();
      each(list, (labels, c) => this.inc(labels, counterValue(c.connections)));
    },
  });
  for (const unit of ['packets', 'bytes'] as const) {
    new Counter({
      name: `tslvsd_ipvs_${level}_${unit}_total`,
      help: `${unit === 'packets' ? 'Packets' : 'Bytes'} forwarded by the kernel, per IPVS ${level} and direction`,
      labelNames: [...labelNames, 'direction'],
      registers: [registry],
      async collect() {
        const list = await stats();
        this.reset();
        each(list, (labels, c) => {
          this.inc({ ...labels, direction: 'in' }, counterValue(unit === 'packets' ? c.packetsIn : c.bytesIn));
          this.inc({ ...labels, direction: 'out' }, counterValue(unit === 'packets' ? c.packetsOut : c.bytesOut));
        });
      },
    });
  }
}

/** prom-client throws on a negative or NaN increment; a bad value from a source must not break the scrape. */
function counterValue(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
