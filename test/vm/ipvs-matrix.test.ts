/**
 * Every scheduler the kernel offers × NAT/DR/TUN × TCP/UDP/fwmark × IPv4/IPv6, written through IpvsClient and
 * compared with the same table written by `ipvsadm -R`; then persistence (timeouts, granularity, the
 * kernel's persistence templates with real traffic).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import type { DestinationSpec, IpFamily, ServiceKey, ServiceSpec } from '../../src/ipvs/types.js';
import { hasIpvs, ipvsadm, kernelSchedulers, restoreRules, savedRules } from './helpers/kernel.js';
import { startTrafficLab, type TrafficLab } from './helpers/lab.js';
import { dest, fwmark, ipvsadmDestRule, ipvsadmServiceRule, service, tcp4 } from './helpers/specs.js';

const FORWARDING = ['nat', 'dr', 'tunnel'] as const;
const KINDS = ['tcp', 'udp', 'fwmark'] as const;
const FAMILIES: IpFamily[] = ['ipv4', 'ipv6'];

interface Case {
  spec: ServiceSpec;
  destination: DestinationSpec;
}

/** 18 services for one scheduler, each with one destination of the given method. */
function casesFor(scheduler: string): Case[] {
  const cases: Case[] = [];
  let n = 0;
  for (const family of FAMILIES) {
    for (const kind of KINDS) {
      for (const forwarding of FORWARDING) {
        n++;
        const vip = family === 'ipv4' ? `10.94.0.${n}` : `2001:db8:94::${n}`;
        const rip = family === 'ipv4' ? `10.94.1.${n}` : `2001:db8:94:1::${n}`;
        const key: ServiceKey = kind === 'fwmark' ? fwmark(100 + n, family) : { kind: 'address', family, protocol: kind, address: vip, port: 80 };
        // DR and TUN keep the service's port (ipvsadm forces it too); fwmark services have port 0 destinations
        // unless NAT.
        const port = forwarding === 'nat' ? 8080 : kind === 'fwmark' ? 0 : 80;
        const tunnel = forwarding === 'tunnel' ? { type: 'ipip' as const, port: 0, flags: 0 } : undefined;
        cases.push({ spec: service(key, scheduler), destination: dest(rip, port, forwarding, { weight: n, ...(tunnel ? { tunnel } : {}) }) });
      }
    }
  }
  return cases;
}

describe.skipIf(!hasIpvs)('every scheduler × forwarding × protocol × family', () => {
  let ipvs: IpvsClient;
  beforeAll(async () => {
    ipvs = await IpvsClient.open();
  });
  afterAll(async () => {
    await ipvsadm('-C');
    ipvs?.close();
  });
  beforeEach(async () => {
    await ipvsadm('-C');
  });

  const schedulers = hasIpvs ? kernelSchedulers() : [];
  it('the kernel offers the schedulers Debian builds', () => {
    expect(schedulers).toEqual(['dh', 'fo', 'lblc', 'lblcr', 'lc', 'mh', 'nq', 'ovf', 'rr', 'sed', 'sh', 'wlc', 'wrr']);
  });

  it.each(schedulers)('%s: 18 services written by the client equal the same table written by ipvsadm', async (scheduler) => {
    const cases = casesFor(scheduler);
    for (const c of cases) {
      await ipvs.addService(c.spec);
      await ipvs.addDestination(c.spec.key, c.destination);
    }
    const byClient = await savedRules();
    const readBack = await ipvs.listTable();
    await ipvsadm('-C');
    await restoreRules(cases.flatMap((c) => [ipvsadmServiceRule(c.spec), ipvsadmDestRule(c.spec.key, c.destination)]));
    const byIpvsadm = await savedRules();
    expect(byClient).toHaveLength(36);
    expect(byClient).toEqual(byIpvsadm);

    expect(readBack).toHaveLength(18);
    for (const c of cases) {
      const s = readBack.find((r) => JSON.stringify(r.key) === JSON.stringify(c.spec.key));
      expect(s, JSON.stringify(c.spec.key)).toMatchObject(c.spec);
      expect(s?.destinations).toHaveLength(1);
      expect(s?.destinations[0]).toMatchObject(c.destination);
    }
  });

  it('persistence: timeout and granularity for IPv4 and IPv6, as ipvsadm writes them', async () => {
    const specs: ServiceSpec[] = [
      service(tcp4('10.94.2.1', 80), 'rr', { persistence: { timeoutSeconds: 1, prefixLength: 32 } }),
      service(tcp4('10.94.2.2', 80), 'wlc', { persistence: { timeoutSeconds: 300, prefixLength: 24 } }),
      service(tcp4('10.94.2.3', 80), 'wlc', { persistence: { timeoutSeconds: 86400, prefixLength: 16 } }),
      service(tcp4('10.94.2.4', 0), 'rr', { persistence: { timeoutSeconds: 360, prefixLength: 32 } }),
      service({ kind: 'address', family: 'ipv6', protocol: 'tcp', address: '2001:db8:94:2::1', port: 443 }, 'sh', { persistence: { timeoutSeconds: 600, prefixLength: 128 } }),
      service({ kind: 'address', family: 'ipv6', protocol: 'udp', address: '2001:db8:94:2::2', port: 53 }, 'rr', { persistence: { timeoutSeconds: 60, prefixLength: 48 } }),
      service(fwmark(42, 'ipv6'), 'lc', { persistence: { timeoutSeconds: 120, prefixLength: 64 } }),
    ];
    for (const s of specs) await ipvs.addService(s);
    const byClient = await savedRules();
    const listed = await ipvs.listServices();
    await ipvsadm('-C');
    await restoreRules(specs.map(ipvsadmServiceRule));
    expect(byClient).toEqual(await savedRules());
    expect(byClient).toContain('-A -t 10.94.2.2:80 -s wlc -p 300 -M 255.255.255.0');
    for (const s of specs) expect(listed.find((l) => JSON.stringify(l.key) === JSON.stringify(s.key))?.persistence).toEqual(s.persistence);
  });

  describe('persistence with traffic', () => {
    let lab: TrafficLab;
    beforeAll(() => {
      lab = startTrafficLab('tv-mx', 93);
    });
    afterAll(() => lab?.close());

    it('a persistent service makes the kernel keep a template per client network, seen by both readers', async () => {
      const key = tcp4(lab.vip4, 80);
      await ipvs.addService(service(key, 'rr', { persistence: { timeoutSeconds: 300, prefixLength: 24 } }));
      await ipvs.addDestination(key, dest(lab.realServer4, 80, 'nat'));
      expect(lab.get(lab.vip4)).toBe(200);
      expect(lab.get(lab.vip4)).toBe(200);
      const [d] = await ipvs.listDestinations(key);
      expect(d?.persistentConnections).toBe(1);
      const judge = await ipvsadm('-Ln', '--persistent-conn');
      expect(judge).toMatch(new RegExp(`->\\s+${lab.realServer4.replace(/\./g, '\\.')}:80\\s+1\\s+1\\s+`));
      // The template: client network /24 with port 0, to the chosen real server.
      expect(await ipvsadm('-Lnc')).toMatch(new RegExp(`TCP\\s+\\S+\\s+\\S+\\s+10\\.93\\.0\\.0:0\\s+${lab.vip4.replace(/\./g, '\\.')}:80\\s+${lab.realServer4.replace(/\./g, '\\.')}:80`));
    });
  });
});
