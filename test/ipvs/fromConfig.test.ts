/** Config text → real compiler → IPVS plan → desired table. */
import { describe, expect, it } from 'vitest';
import { desiredTable } from '../../src/ipvs/desiredTable.js';
import { ipvsPlanFromConfig } from '../../src/ipvs/fromConfig.js';
import { model } from '../config/helpers.js';

const CONF = `
global_defs {
  lvs_timeouts tcp 7200 udp 60
  lvs_flush
}
virtual_server_group web6 {
  fd00::10-12 443
  fwmark 9
}
virtual_server 10.0.0.1 80 {
  lb_algo wlc
  lb_kind DR
  protocol TCP
  persistence_timeout 300
  persistence_granularity 255.255.255.0
  sorry_server 10.9.0.1 80
  real_server 10.1.0.1 80 {
    weight 3
    uthreshold 100
    lthreshold 10
  }
  real_server 10.1.0.2 80 {
    weight 2
    inhibit_on_failure
  }
}
virtual_server fwmark 5 {
  lb_algo sh
  lb_kind TUN
  sh-port
  sh-fallback
  protocol TCP
  real_server 10.1.0.3 0 {
    weight 1
  }
}
virtual_server 10.0.0.53 53 {
  lb_algo rr
  lb_kind NAT
  protocol UDP
  ops
  real_server 10.1.0.4 53 {
    alpha
  }
}
virtual_server group web6 {
  lb_algo mh
  lb_kind DR
  protocol TCP
  persistence_timeout 60
  persistence_granularity 64
  real_server fd00::20 443 {
  }
}
`;

describe('ipvsPlanFromConfig', () => {
  const plan = ipvsPlanFromConfig(model(CONF));

  it('turns global lvs_* into start/stop settings', () => {
    expect(plan.timeouts).toEqual({ tcp: 7200, tcpFin: 0, udp: 60 });
    expect(plan.flushAtStart).toBe(true);
    expect(plan.flushOnStop).toBe(false);
  });

  it('maps scheduler, persistence granularity, flags, ops and keys the virtual servers like the health side', () => {
    expect(plan.virtualServers.map((v) => v.virtualServer)).toEqual(['10.0.0.1:80/TCP', 'fwmark:5/IPv4', '10.0.0.53:53/UDP', 'group:web6/TCP']);
    const [web, mark, dns] = plan.virtualServers;
    expect(web.services).toEqual([
      { key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'wlc', onePacket: false, schedulerFlags: 0, persistence: { timeoutSeconds: 300, prefixLength: 24 } },
    ]);
    expect(mark.services[0]).toMatchObject({ key: { kind: 'fwmark', family: 'ipv4', fwmark: 5 }, scheduler: 'sh', schedulerFlags: 0x18 });
    expect(dns.services[0]).toMatchObject({ scheduler: 'rr', onePacket: true });
    expect(web.realServers.map((r) => [r.key, r.destination.forwarding, r.destination.weight, r.destination.upperThreshold, r.destination.lowerThreshold, r.inhibitOnFailure])).toEqual([
      ['10.1.0.1:80', 'dr', 3, 100, 10, false],
      ['10.1.0.2:80', 'dr', 2, 0, 0, true],
    ]);
    expect(web.sorryServer).toMatchObject({ key: '10.9.0.1:80', destination: { address: '10.9.0.1', port: 80, weight: 1 } });
    expect(mark.realServers[0].destination).toMatchObject({ forwarding: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: 0 } });
    expect(dns.realServers[0]).toMatchObject({ initiallyInTable: false });
  });

  it('expands a virtual_server_group: an IPv6 range and a fwmark, each with the same destinations', () => {
    const g = plan.virtualServers[3];
    expect(g.services.map((s) => s.key)).toEqual([
      { kind: 'address', family: 'ipv6', protocol: 'tcp', address: 'fd00::10', port: 443 },
      { kind: 'address', family: 'ipv6', protocol: 'tcp', address: 'fd00::11', port: 443 },
      { kind: 'address', family: 'ipv6', protocol: 'tcp', address: 'fd00::12', port: 443 },
      { kind: 'fwmark', family: 'ipv6', fwmark: 9 },
    ]);
    for (const s of g.services) expect(s.persistence).toEqual({ timeoutSeconds: 60, prefixLength: 64 });
    const desired = desiredTable(plan, () => undefined).filter((d) => g.services.includes(d.spec));
    expect(desired).toHaveLength(4);
    for (const d of desired) expect(d.destinations.map((x) => x.address)).toEqual(['fd00::20']);
  });
});

describe('desiredTable', () => {
  const plan = ipvsPlanFromConfig(model(CONF));
  const webOf = (view: Parameters<typeof desiredTable>[1]) => desiredTable(plan, view)[0].destinations.map((d) => `${d.address}:${d.weight}`);

  it('before any health report: configured weights, alpha servers out, sorry server out', () => {
    expect(webOf(() => undefined)).toEqual(['10.1.0.1:3', '10.1.0.2:2']);
    expect(desiredTable(plan, () => undefined)[2].destinations).toEqual([]);
  });

  it('applies the health side decisions: out, inhibited (weight 0), dynamic weight, sorry server in', () => {
    const decisions: Record<string, { inTable: boolean; weight: number }> = {
      '10.1.0.1:80': { inTable: false, weight: 0 },
      '10.1.0.2:80': { inTable: true, weight: 0 },
      '10.9.0.1:80': { inTable: true, weight: 1 },
    };
    expect(webOf((vs, rs) => (vs === '10.0.0.1:80/TCP' ? decisions[rs] : undefined))).toEqual(['10.1.0.2:0', '10.9.0.1:1']);
    expect(webOf((_vs, rs) => (rs === '10.1.0.1:80' ? { inTable: true, weight: 42 } : undefined))).toEqual(['10.1.0.1:42', '10.1.0.2:2']);
  });
});
