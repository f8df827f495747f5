import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createDaemonMetrics, type MetricsSources } from '../../src/metrics/registry.js';
import { parseMetricsListen, startMetricsServer } from '../../src/metrics/server.js';
import { zeroVrrpCounters, type VrrpInstanceSnapshot } from '../../src/metrics/sources.js';

function instance(over: Partial<VrrpInstanceSnapshot> = {}): VrrpInstanceSnapshot {
  return {
    name: 'VI_1',
    interface: 'eth0',
    vrid: 51,
    state: 'MASTER',
    basePriority: 150,
    effectivePriority: 140,
    vips: ['10.0.0.100/24', '10.0.0.101/24'],
    lastTransitionEpochMs: 1_700_000_000_500,
    counters: { ...zeroVrrpCounters(), advertSent: 42, advertRcvd: 7, becomeMaster: 1, authFailure: 3, sendErrors: 2, checksumErr: 5, versionErr: 6, garpSent: 10, naSent: 15, naErrors: 1, advertLate: 3, masterDownDeferred: 4 },
    ...over,
  };
}

function sources(): MetricsSources {
  return {
    vrrp: {
      instances: () => [instance(), instance({ name: 'VI_2', vrid: 52, state: 'BACKUP', vips: [] })],
      scripts: () => [
        { name: 'chk_nginx', good: true },
        { name: 'chk_db', good: false },
      ],
      sockets: () => [
        { interface: 'eth0', packetsReceived: 1000, packetsSent: 40, receiveBufferDrops: 300, oversizedReceived: 1, readErrors: 0, undecodable: 2, unknownVrid: 3, priorityLaneReceived: 30, priorityLaneBufferDrops: 0 },
      ],
    },
    health: {
      virtualServers: () => [
        {
          key: '10.0.0.100:80/TCP',
          quorumUp: true,
          realServers: [
            { address: '192.168.1.10', port: 80, weight: 1, up: true, checkers: [{ type: 'HTTP_GET', up: true }] },
            { address: '192.168.1.11', port: 80, weight: 1, up: false, checkers: [{ type: 'TCP_CHECK', up: false }] },
          ],
        },
      ],
    },
    ipvs: {
      stats: async () => [
        {
          service: '10.0.0.100:80/TCP',
          counters: { connections: 10, packetsIn: 100, packetsOut: 90, bytesIn: 5000, bytesOut: 9000 },
          destinations: [
            { destination: '192.168.1.10:80', counters: { connections: 10, packetsIn: 100, packetsOut: 90, bytesIn: 5000, bytesOut: 9000 } },
          ],
        },
      ],
    },
    daemon: { configStatus: () => ({ lastAttemptSuccessful: false, lastSuccessEpochMs: 1_700_000_100_000 }) },
  };
}

async function exposition(s: MetricsSources = sources()): Promise<string> {
  const m = createDaemonMetrics(s);
  m.observeCheckDuration('HTTP_GET', 0.02);
  return m.registry.metrics();
}

describe('metrics exposition', () => {
  it('shows the keepalived exporter series with its labels and state numbering', async () => {
    const text = await exposition();
    expect(text).toContain('keepalived_up 1');
    expect(text).toContain('keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="10.0.0.100/24"} 2');
    expect(text).toContain('keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="10.0.0.101/24"} 2');
    expect(text).toContain('keepalived_vrrp_state{iname="VI_2",intf="eth0",vrid="52",ip_address=""} 1');
    expect(text).toContain('keepalived_advertisements_sent_total{iname="VI_1",intf="eth0",vrid="51"} 42');
    expect(text).toContain('keepalived_advertisements_received_total{iname="VI_1",intf="eth0",vrid="51"} 7');
    expect(text).toContain('keepalived_authentication_failure_total{iname="VI_1",intf="eth0",vrid="51"} 3');
    expect(text).toContain('keepalived_priority_zero_sent_total{iname="VI_2",intf="eth0",vrid="52"} 0');
    expect(text).toContain('# TYPE keepalived_become_master_total counter');
    expect(text).toContain('keepalived_script_status{name="chk_nginx"} 1');
    expect(text).toContain('keepalived_script_status{name="chk_db"} 0');
    for (const name of [
      'keepalived_release_master_total',
      'keepalived_packet_length_errors_total',
      'keepalived_advertisements_interval_errors_total',
      'keepalived_ip_ttl_errors_total',
      'keepalived_invalid_type_received_total',
      'keepalived_address_list_errors_total',
      'keepalived_authentication_invalid_total',
      'keepalived_authentication_mismatch_total',
      'keepalived_priority_zero_received_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}\\{iname="VI_1",intf="eth0",vrid="51"\\} 0$`, 'm'));
    }
  });

  it("shows tslvsd's own series: priorities, transitions, checks, quorum, IPVS, reload", async () => {
    const text = await exposition();
    expect(text).toContain('tslvsd_vrrp_priority{iname="VI_1",intf="eth0",vrid="51"} 140');
    expect(text).toContain('tslvsd_vrrp_base_priority{iname="VI_1",intf="eth0",vrid="51"} 150');
    expect(text).toContain('tslvsd_vrrp_last_transition_timestamp_seconds{iname="VI_1",intf="eth0",vrid="51"} 1700000000.5');
    expect(text).toContain('tslvsd_real_server_up{virtual_server="10.0.0.100:80/TCP",real_server="192.168.1.11:80"} 0');
    expect(text).toContain('tslvsd_real_server_up{virtual_server="10.0.0.100:80/TCP",real_server="192.168.1.10:80"} 1');
    expect(text).toContain('tslvsd_checker_up{virtual_server="10.0.0.100:80/TCP",real_server="192.168.1.10:80",checker="HTTP_GET",index="0"} 1');
    expect(text).toContain('tslvsd_virtual_server_quorum_up{virtual_server="10.0.0.100:80/TCP"} 1');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="0.025",checker="HTTP_GET"} 1');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="0.01",checker="HTTP_GET"} 0');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="+Inf",checker="HTTP_GET"} 1');
    expect(text).toContain('tslvsd_check_duration_seconds_count{checker="HTTP_GET"} 1');
    expect(text).toContain('tslvsd_ipvs_service_connections_total{service="10.0.0.100:80/TCP"} 10');
    expect(text).toContain('tslvsd_ipvs_destination_bytes_total{service="10.0.0.100:80/TCP",destination="192.168.1.10:80",direction="out"} 9000');
    expect(text).toContain('tslvsd_vrrp_advertisement_send_errors_total{iname="VI_1",intf="eth0",vrid="51"} 2');
    expect(text).toContain('tslvsd_vrrp_checksum_errors_total{iname="VI_1",intf="eth0",vrid="51"} 5');
    expect(text).toContain('tslvsd_vrrp_advertisements_late_total{iname="VI_1",intf="eth0",vrid="51"} 3');
    expect(text).toContain('tslvsd_vrrp_master_down_deferred_total{iname="VI_1",intf="eth0",vrid="51"} 4');
    expect(text).toContain('tslvsd_vrrp_version_errors_total{iname="VI_1",intf="eth0",vrid="51"} 6');
    expect(text).toContain('tslvsd_vrrp_unicast_source_errors_total{iname="VI_2",intf="eth0",vrid="52"} 0');
    expect(text).toContain('tslvsd_vrrp_other_protocol_received_total{iname="VI_2",intf="eth0",vrid="52"} 0');
    expect(text).toContain('tslvsd_vrrp_own_packets_received_total{iname="VI_2",intf="eth0",vrid="52"} 0');
    expect(text).toContain('tslvsd_vrrp_gratuitous_arp_sent_total{iname="VI_1",intf="eth0",vrid="51"} 10');
    expect(text).toContain('tslvsd_vrrp_gratuitous_arp_send_errors_total{iname="VI_1",intf="eth0",vrid="51"} 0');
    expect(text).toContain('tslvsd_vrrp_neighbour_advertisement_sent_total{iname="VI_1",intf="eth0",vrid="51"} 15');
    expect(text).toContain('tslvsd_vrrp_neighbour_advertisement_send_errors_total{iname="VI_1",intf="eth0",vrid="51"} 1');
    expect(text).toContain('# TYPE tslvsd_vrrp_neighbour_advertisement_sent_total counter');
    expect(text).toContain('tslvsd_vrrp_socket_packets_received_total{intf="eth0"} 1000');
    expect(text).toContain('tslvsd_vrrp_socket_packets_sent_total{intf="eth0"} 40');
    expect(text).toContain('tslvsd_vrrp_socket_receive_buffer_drops_total{intf="eth0"} 300');
    expect(text).toContain('tslvsd_vrrp_socket_oversized_received_total{intf="eth0"} 1');
    expect(text).toContain('tslvsd_vrrp_socket_read_errors_total{intf="eth0"} 0');
    expect(text).toContain('tslvsd_vrrp_socket_undecodable_total{intf="eth0"} 2');
    expect(text).toContain('tslvsd_vrrp_socket_unknown_vrid_total{intf="eth0"} 3');
    expect(text).toContain('tslvsd_vrrp_socket_priority_lane_packets_received_total{intf="eth0"} 30');
    expect(text).toContain('tslvsd_vrrp_socket_priority_lane_receive_buffer_drops_total{intf="eth0"} 0');
    expect(text).toContain('# TYPE tslvsd_vrrp_socket_receive_buffer_drops_total counter');
    expect(text).toContain('tslvsd_config_last_reload_successful 0');
    expect(text).toContain('tslvsd_config_last_reload_success_timestamp_seconds 1700000100');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('a checker behind schedule shows in its own series', async () => {
    const base = sources();
    const m = createDaemonMetrics({
      ...base,
      health: { ...base.health!, checkerSchedule: () => ({ behindSchedule: 7011, verdictsDeferred: 3, latenessMs: 1597 }) },
    }, { processMetrics: false });
    const text = await m.registry.metrics();
    expect(text).toContain('tslvsd_checker_behind_schedule_total 7011');
    expect(text).toContain('tslvsd_checker_verdicts_deferred_total 3');
    expect(text).toContain('tslvsd_checker_schedule_lateness_seconds 1.597');
    // Without a health part (or before its first snapshot): zeros, not missing series.
    expect(await createDaemonMetrics({}, { processMetrics: false }).registry.metrics()).toContain('tslvsd_checker_behind_schedule_total 0');
  });

  it('reads values at scrape time: a state change shows in the next scrape', async () => {
    let state: VrrpInstanceSnapshot['state'] = 'BACKUP';
    const m = createDaemonMetrics({ vrrp: { instances: () => [instance({ state, vips: ['10.0.0.100'] })], scripts: () => [] } });
    expect(await m.registry.metrics()).toContain('ip_address="10.0.0.100"} 1');
    state = 'FAULT';
    expect(await m.registry.metrics()).toContain('ip_address="10.0.0.100"} 3');
  });

  it('survives a failing IPVS read and bad counter values: counted, not thrown', async () => {
    const m = createDaemonMetrics({
      vrrp: { instances: () => [instance({ counters: { ...zeroVrrpCounters(), advertSent: NaN, advertRcvd: -5 } })], scripts: () => [] },
      ipvs: { stats: async () => Promise.reject(new Error('EPROTONOSUPPORT')) },
    });
    const text = await m.registry.metrics();
    expect(text).toContain('tslvsd_ipvs_scrape_errors_total 1');
    expect(text).toContain('keepalived_advertisements_sent_total{iname="VI_1",intf="eth0",vrid="51"} 0');
    expect(text).not.toContain('tslvsd_ipvs_service_connections_total{');
  });

  it('promtool check metrics finds nothing to complain about', async () => {
    const text = await exposition();
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (result.error) throw result.error;
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('shows announce_route: one gauge per virtual server and prefix, the change and error counters', async () => {
    const text = await exposition({
      ...sources(),
      announce: {
        announcedRoutes: () => [
          { virtualServer: '10.0.0.100:80/TCP', prefix: '10.0.0.100/32', table: 248, announced: true },
          { virtualServer: '[2001:db8::1]:80/TCP', prefix: '2001:db8::1/128', table: 248, announced: false },
        ],
        announceCounters: () => ({ changes: 3, errors: 1 }),
      },
    });
    expect(text).toContain('tslvsd_announced_route{virtual_server="10.0.0.100:80/TCP",prefix="10.0.0.100/32"} 1');
    expect(text).toContain('tslvsd_announced_route{virtual_server="[2001:db8::1]:80/TCP",prefix="2001:db8::1/128"} 0');
    expect(text).toContain('tslvsd_announce_route_changes_total 3');
    expect(text).toContain('tslvsd_announce_route_errors_total 1');
    expect(await exposition()).not.toMatch(/^tslvsd_announced_route\{/m);
  });

  it('promtool does complain about a broken exposition (the check can fail)', () => {
    const result = spawnSync('promtool', ['check', 'metrics'], { input: '# TYPE foo counter\nfoo 1\n', encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/_total/);
  });
});

describe('metrics listener', () => {
  it('parses HOST:PORT, [V6]:PORT and off; rejects the rest', () => {
    expect(parseMetricsListen('127.0.0.1:9165')).toEqual({ host: '127.0.0.1', port: 9165 });
    expect(parseMetricsListen('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
    expect(parseMetricsListen('off')).toBeUndefined();
    for (const bad of ['9165', '127.0.0.1', '127.0.0.1:99999', ':80', 'a b:1', '']) expect(() => parseMetricsListen(bad)).toThrow(/--metrics-listen/);
  });

  it('serves /metrics over HTTP and 404 elsewhere', async () => {
    const m = createDaemonMetrics(sources(), { processMetrics: false });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, m.registry);
    try {
      const base = `http://127.0.0.1:${server.address.port}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('keepalived_up 1');
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('check duration histogram', () => {
  it('counts observations in bulk: cumulative buckets, sum and count per checker type', async () => {
    const m = createDaemonMetrics({}, { processMetrics: false });
    m.observeCheckDuration('TCP_CHECK', 0.002, 5);
    m.observeCheckDuration('TCP_CHECK', 0.3, 2);
    m.observeCheckDuration('TCP_CHECK', 20, 1);
    m.observeCheckDuration('HTTP_GET', Number.NaN, 3);
    m.observeCheckDuration('HTTP_GET', 0.01);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE tslvsd_check_duration_seconds histogram');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="0.001",checker="TCP_CHECK"} 0');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="0.005",checker="TCP_CHECK"} 5');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="0.25",checker="TCP_CHECK"} 5');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="0.5",checker="TCP_CHECK"} 7');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="10",checker="TCP_CHECK"} 7');
    expect(text).toContain('tslvsd_check_duration_seconds_bucket{le="+Inf",checker="TCP_CHECK"} 8');
    expect(text).toContain('tslvsd_check_duration_seconds_sum{checker="TCP_CHECK"} 20.61');
    expect(text).toContain('tslvsd_check_duration_seconds_count{checker="TCP_CHECK"} 8');
    expect(text).toContain('tslvsd_check_duration_seconds_count{checker="HTTP_GET"} 1');
  });
});
