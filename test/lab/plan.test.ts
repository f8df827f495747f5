import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { MemoryFileSource } from '../../src/config/fileSource.js';
import { loadConfig } from '../../src/config/load.js';
import { crashOutageBoundMs, DEFAULT_TIMINGS, gracefulOutageBoundMs, keepalivedConf, removalBoundMs } from '../../lab/config/keepalived-conf.js';
import { planLab, type LabStep } from '../../lab/topology/plan.js';

const ipLines = (steps: LabStep[], netns?: string): string[] =>
  steps.flatMap((s) => (s.kind === 'ip' && s.netns === netns ? s.lines : []));
const sysctls = (steps: LabStep[], netns: string): string[] =>
  steps.flatMap((s) => (s.kind === 'sysctl' && s.netns === netns ? s.settings.map(([k, v]) => `${k}=${v}`) : []));

describe('lab plan', () => {
  it('NAT: real servers on a private net routed via the gateway VIP; directors forward', () => {
    const p = planLab('nat', 't');
    expect(p.gatewayVip).toBe('10.20.0.254');
    expect(ipLines(p.steps, 't-rs1')).toContain('route add default via 10.20.0.254');
    expect(sysctls(p.steps, 't-primary')).toContain('net.ipv4.ip_forward=1');
    expect(ipLines(p.steps, 't-sw')).toContain('link add br1 type bridge mcast_snooping 0 forward_delay 0');
    // no VIP on the real servers in NAT
    expect(ipLines(p.steps, 't-rs1').some((l) => l.includes('10.10.0.100'))).toBe(false);
  });

  it('DR: VIP on the real servers\' lo, which never answer ARP for it', () => {
    const p = planLab('dr', 't');
    expect(p.gatewayVip).toBeUndefined();
    expect(ipLines(p.steps, 't-rs2')).toContain('addr add 10.10.0.100/32 dev lo');
    expect(sysctls(p.steps, 't-rs2')).toEqual(expect.arrayContaining(['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']));
  });

  it('TUN: VIP on tunl0, rp_filter off', () => {
    const p = planLab('tun', 't');
    expect(ipLines(p.steps, 't-rs1')).toEqual(expect.arrayContaining(['link set tunl0 up', 'addr add 10.10.0.100/32 dev tunl0']));
    expect(sysctls(p.steps, 't-rs1')).toEqual(expect.arrayContaining(['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.tunl0.rp_filter=0']));
  });

  it('namespaces are created before anything is put in them', () => {
    const p = planLab('dr', 'x');
    const first = p.steps[0];
    expect(first?.kind === 'ip' && first.netns).toBeUndefined();
    expect(first?.kind === 'ip' && first.lines).toEqual(Object.values(p.netns).map((n) => `netns add ${n}`));
  });
});

describe('keepalived.conf template', () => {
  it('primary and backup differ only in state, priority and router_id', () => {
    const p = planLab('nat', 't');
    const a = keepalivedConf(p, 'primary');
    const b = keepalivedConf(p, 'backup');
    expect(a).toMatch(/state MASTER\n\s+interface eth0\n\s+virtual_router_id 51\n\s+priority 150/);
    expect(b).toMatch(/state BACKUP[\s\S]*priority 100/);
    expect(a).toContain('10.20.0.254/24 dev eth1');
    expect(a).toContain('lb_kind NAT');
    const strip = (conf: string, role: string, state: string, prio: number): string =>
      conf.replaceAll(`state ${state}`, '').replaceAll(`priority ${prio}`, '').replaceAll(role, '');
    expect(strip(a, 'primary', 'MASTER', 150)).toBe(strip(b, 'backup', 'BACKUP', 100));
  });

  it('inhibit_on_failure only on rs2; TCP_CHECK timings from the lab timings', () => {
    const c = keepalivedConf(planLab('dr', 't'), 'primary', { ...DEFAULT_TIMINGS, connectTimeout: 2 });
    expect(c.match(/inhibit_on_failure/g)).toHaveLength(1);
    expect(c).toMatch(/real_server 10\.10\.0\.12 80 \{\n\s+weight 1\n\s+inhibit_on_failure/);
    expect(c.match(/connect_timeout 2/g)).toHaveLength(2);
    expect(c).toContain('lb_kind DR');
  });

  it('with sync: lvs_sync_daemon on the LAN driven by VI_LAB and an echo service; tslvsd compiles it without a word', () => {
    const c = keepalivedConf(planLab('dr', 't'), 'backup', DEFAULT_TIMINGS, { echoPort: 7 });
    expect(c).toMatch(/global_defs \{\n\s+router_id lab_backup\n\s+lvs_sync_daemon eth0 VI_LAB\n\}/);
    expect(c).toMatch(/virtual_server 10\.10\.0\.100 7 \{[\s\S]*real_server 10\.10\.0\.11 7 \{/);
    const r = loadConfig('/lab.conf', { files: new MemoryFileSource({ '/lab.conf': c }), configId: 'x' });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(r.model?.global.lvsSyncDaemon).toMatchObject({ interface: 'eth0', vrrpInstance: 'VI_LAB', syncId: 51 });
    expect(keepalivedConf(planLab('dr', 't'), 'backup')).not.toContain('lvs_sync_daemon');
  });

  it('bounds follow the formulas of the issues', () => {
    expect(crashOutageBoundMs(DEFAULT_TIMINGS)).toBeCloseTo((3 + 156 / 256 + 1) * 1000);
    expect(gracefulOutageBoundMs()).toBeCloseTo((156 / 256 + 1) * 1000);
    expect(removalBoundMs(DEFAULT_TIMINGS)).toBe(3000);
  });
});
