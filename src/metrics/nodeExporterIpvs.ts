import { Gauge, type Registry } from 'prom-client';
import type { IpvsBackendStatus } from './sources.js';

/**
 * node_exporter's IPVS backend gauges (collector/ipvs_linux.go), same names, labels and label values, so
 * dashboards and alerts written for node_exporter read tslvsd's table unchanged: `local_address`
 * (empty for a fwmark service), `local_port` (0 for fwmark), `remote_address`, `remote_port`, `proto` (TCP,
 * UDP, FWM — /proc/net/ip_vs's words), `local_mark` (the fwmark as /proc/net/ip_vs prints it, `%08X`; empty
 * otherwise). Destinations with the same labels are summed, as node_exporter does.
 */
export const NODE_IPVS_LABELS = ['local_address', 'local_port', 'remote_address', 'remote_port', 'proto', 'local_mark'] as const;
export type NodeIpvsLabels = Record<(typeof NODE_IPVS_LABELS)[number], string>;

export interface NodeIpvsBackend {
  labels: NodeIpvsLabels;
  active: number;
  inactive: number;
  weight: number;
}

/** The label values node_exporter gives one kernel destination. */
export function nodeIpvsLabels(backend: IpvsBackendStatus): NodeIpvsLabels {
  const s = backend.service;
  const remote = { remote_address: backend.address, remote_port: String(backend.port) };
  if (s.kind === 'fwmark') {
    return { local_address: '', local_port: '0', ...remote, proto: 'FWM', local_mark: s.fwmark.toString(16).toUpperCase().padStart(8, '0') };
  }
  return { local_address: s.address, local_port: String(s.port), ...remote, proto: s.protocol.toUpperCase(), local_mark: '' };
}

/** Backends grouped by their labels, active/inactive/weight summed. */
export function nodeIpvsBackends(backends: readonly IpvsBackendStatus[]): NodeIpvsBackend[] {
  const byKey = new Map<string, NodeIpvsBackend>();
  for (const b of backends) {
    const labels = nodeIpvsLabels(b);
    const key = NODE_IPVS_LABELS.map((l) => labels[l]).join('\u0000');
    const sum = byKey.get(key) ?? { labels, active: 0, inactive: 0, weight: 0 };
    sum.active += b.activeConnections;
    sum.inactive += b.inactiveConnections;
    sum.weight += b.weight;
    byKey.set(key, sum);
  }
  return [...byKey.values()];
}

const SERIES: ReadonlyArray<[string, 'active' | 'inactive' | 'weight', string]> = [
  ['node_ipvs_backend_connections_active', 'active', 'The current active connections by local and remote address.'],
  ['node_ipvs_backend_connections_inactive', 'inactive', 'The current inactive connections by local and remote address.'],
  ['node_ipvs_backend_weight', 'weight', 'The current backend weight by local and remote address.'],
];

export function registerNodeExporterIpvs(registry: Registry, backends: () => Promise<IpvsBackendStatus[]>): void {
  for (const [name, field, help] of SERIES) {
    new Gauge({
      name,
      help,
      labelNames: [...NODE_IPVS_LABELS],
      registers: [registry],
      async collect() {
        const list = nodeIpvsBackends(await backends());
        this.reset();
        for (const b of list) this.set(b.labels, b[field]);
      },
    });
  }
}
