import { describe, expect, it } from 'vitest';
import { nodeIpvsBackends, nodeIpvsLabels } from '../../src/metrics/nodeExporterIpvs.js';
import { createDaemonMetrics } from '../../src/metrics/registry.js';
import { keepalivedIpAddress, zeroVrrpCounters, type IpvsBackendStatus, type VrrpInstanceSnapshot } from '../../src/metrics/sources.js';

function instance(over: Partial<VrrpInstanceSnapshot> = {}): VrrpInstanceSnapshot {
  return {
    name: 'VI_1',
    interface: 'eth0',
    vrid: 51,
    state: 'MASTER',
    basePriority: 150,
    effectivePriority: 150,
    vips: [],
    lastTransitionEpochMs: 0,
    counters: zeroVrrpCounters(),
    ...over,
  };
}

describe('keepalived exporter label values as keepalived 2.2.7 writes them', () => {
  it('ipaddresstos(): no prefix when it is the full length', () => {
    expect(keepalivedIpAddress('10.0.0.100', 32)).toBe('10.0.0.100');
    expect(keepalivedIpAddress('10.0.0.100', 24)).toBe('10.0.0.100/24');
    expect(keepalivedIpAddress('2001:db8::1', 128)).toBe('2001:db8::1');
    expect(keepalivedIpAddress('2001:db8::1', 64)).toBe('2001:db8::1/64');
  });

  it('keepalived_vrrp_state per VIP on its device; excluded VIPs in keepalived_vrrp_excluded_state', async () => {
    const inst = instance({
      vips: ['10.0.0.100/32', '10.0.0.101/24', '192.168.5.1/32'],
      vipLabels: [
        { ipAddress: '10.0.0.100', intf: 'eth0', excluded: false },
        { ipAddress: '10.0.0.101/24', intf: 'eth1', excluded: false },
        { ipAddress: '192.168.5.1', intf: 'eth0', excluded: true },
      ],
    });
    const m = createDaemonMetrics({ vrrp: { instances: () => [inst, instance({ name: 'VI_2', vrid: 52, state: 'BACKUP' })], scripts: () => [] } }, { processMetrics: false });
    const text = await m.registry.metrics();
    expect(text).toContain('keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="10.0.0.100"} 2');
    expect(text).toContain('keepalived_vrrp_state{iname="VI_1",intf="eth1",vrid="51",ip_address="10.0.0.101/24"} 2');
    expect(text).not.toMatch(/keepalived_vrrp_state\{[^}]*192\.168\.5\.1/);
    expect(text).toContain('keepalived_vrrp_excluded_state{iname="VI_1",intf="eth0",vrid="51",ip_address="192.168.5.1"} 2');
    // An instance without VIPs still has its state series, ip_address="" (the exporter's fallback).
    expect(text).toContain('keepalived_vrrp_state{iname="VI_2",intf="eth0",vrid="52",ip_address=""} 1');
  });
});

describe('tslvsd_build_info', () => {
  it('is 1 with version and node_version labels', async () => {
    const m = createDaemonMetrics({}, { processMetrics: false, version: '9.8.7' });
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE tslvsd_build_info gauge');
    expect(text).toMatch(new RegExp(`tslvsd_build_info\\{version="9\\.8\\.7",node_version="${process.versions.node.replace(/\./g, '\\.')}",v8_version="[^"]+",platform="linux",arch="[^"]+"\\} 1\\n`));
  });
});

describe('node_exporter IPVS backend gauges (collector/ipvs_linux.go)', () => {
  const tcp: IpvsBackendStatus = {
    service: { kind: 'address', family: 'ipv4', protocol: 'tcp', address: '10.0.0.100', port: 80 },
    address: '192.168.1.10',
    port: 8080,
    activeConnections: 3,
    inactiveConnections: 5,
    weight: 2,
  };
  const fwm: IpvsBackendStatus = { service: { kind: 'fwmark', family: 'ipv4', fwmark: 100 }, address: '192.168.1.11', port: 0, activeConnections: 1, inactiveConnections: 0, weight: 1 };

  it('labels: local_address, local_port, remote_address, remote_port, proto, local_mark', () => {
    expect(nodeIpvsLabels(tcp)).toEqual({ local_address: '10.0.0.100', local_port: '80', remote_address: '192.168.1.10', remote_port: '8080', proto: 'TCP', local_mark: '' });
    // /proc/net/ip_vs prints a fwmark service as `FWM  %08X`; procfs keeps that field as local_mark.
    expect(nodeIpvsLabels(fwm)).toEqual({ local_address: '', local_port: '0', remote_address: '192.168.1.11', remote_port: '0', proto: 'FWM', local_mark: '00000064' });
  });

  it('sums destinations with the same labels', () => {
    const [sum] = nodeIpvsBackends([tcp, { ...tcp, activeConnections: 1, inactiveConnections: 1, weight: 1 }]);
    expect(sum).toMatchObject({ active: 4, inactive: 6, weight: 3 });
  });

  it('exported beside tslvsd_ipvs_* from the IPVS source', async () => {
    const m = createDaemonMetrics({ ipvs: { stats: async () => [], backends: async () => [tcp, fwm] } }, { processMetrics: false });
    const text = await m.registry.metrics();
    const labels = 'local_address="10.0.0.100",local_port="80",remote_address="192.168.1.10",remote_port="8080",proto="TCP",local_mark=""';
    expect(text).toContain(`node_ipvs_backend_connections_active{${labels}} 3`);
    expect(text).toContain(`node_ipvs_backend_connections_inactive{${labels}} 5`);
    expect(text).toContain(`node_ipvs_backend_weight{${labels}} 2`);
    expect(text).toContain('node_ipvs_backend_weight{local_address="",local_port="0",remote_address="192.168.1.11",remote_port="0",proto="FWM",local_mark="00000064"} 1');
    expect(text).toContain('# TYPE node_ipvs_backend_connections_active gauge');
  });
});
