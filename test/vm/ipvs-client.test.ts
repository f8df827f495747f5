/**
 * Every IpvsClient operation against the real kernel, judged by ipvsadm (an independent reader of the table):
 * services (TCP/UDP/SCTP/fwmark, IPv4/IPv6, persistence, one-packet, scheduler flags, persistence engine),
 * destinations (NAT/DR/TUN with tunnel types, weights, thresholds), update, delete, flush, zero, timeouts,
 * statistics with real traffic, and the typed errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { IpvsExistsError, IpvsNoEntryError, IpvsNoServiceError } from '../../src/ipvs/errors.js';
import type { ServiceSpec } from '../../src/ipvs/types.js';
import { hasIpvs, ipvsadm, listedStats, listedThresholds, listedTimeouts, restoreRules, savedRules } from './helpers/kernel.js';
import { startTrafficLab, type TrafficLab } from './helpers/lab.js';
import { dest, flags, fwmark, ipvsadmDestRule, ipvsadmServiceRule, service, tcp4, tcp6, udp4 } from './helpers/specs.js';

describe.skipIf(!hasIpvs)('IpvsClient on the real kernel', () => {
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

  it('info() reads what ipvsadm reads', async () => {
    const info = await ipvs.info();
    const header = /IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(await ipvsadm('-Ln'));
    expect(info.version).toBe(header?.[1]);
    expect(info.connectionTableSize).toBe(Number(header?.[2]));
    expect(info.versionCode).toBe(0x010201);
  });

  it('adds services of every kind exactly as ipvsadm would, and reads them back', async () => {
    const specs: ServiceSpec[] = [
      service(tcp4('10.96.0.1', 80), 'wlc', { persistence: { timeoutSeconds: 300, prefixLength: 24 } }),
      service(udp4('10.96.0.2', 53), 'rr', { onePacket: true }),
      service({ kind: 'address', family: 'ipv4', protocol: 'sctp', address: '10.96.0.3', port: 3868 }, 'sh', { schedulerFlags: flags('sh-fallback', 'sh-port') }),
      service(fwmark(7), 'mh', { schedulerFlags: flags('mh-fallback'), persistence: { timeoutSeconds: 60, prefixLength: 32 } }),
      service(tcp6('2001:db8::1', 443), 'wrr', { persistence: { timeoutSeconds: 120, prefixLength: 64 } }),
      service({ kind: 'address', family: 'ipv6', protocol: 'udp', address: '2001:db8::2', port: 53 }, 'lc', { onePacket: true }),
      service(fwmark(9, 'ipv6'), 'sed'),
      service(udp4('10.96.0.5', 5060), 'rr', { persistence: { timeoutSeconds: 60, prefixLength: 32 }, persistenceEngine: 'sip' }),
    ];
    for (const s of specs) await ipvs.addService(s);
    const byClient = await savedRules();
    await ipvsadm('-C');
    await restoreRules(specs.map(ipvsadmServiceRule));
    expect(byClient).toEqual(await savedRules());
    expect(byClient).toContain('-A -t 10.96.0.1:80 -s wlc -p 300 -M 255.255.255.0');
    expect(byClient).toContain('-A -u 10.96.0.2:53 -s rr -o');
    expect(byClient).toHaveLength(specs.length);

    const listed = await ipvs.listServices();
    expect(listed).toHaveLength(specs.length);
    for (const s of specs) {
      const got = listed.find((l) => JSON.stringify(l.key) === JSON.stringify(s.key));
      expect(got, JSON.stringify(s.key)).toMatchObject(s);
      expect(await ipvs.getService(s.key)).toMatchObject({ key: s.key, scheduler: s.scheduler });
    }
  });

  it('adds destinations of every forwarding method exactly as ipvsadm would, and reads them back', async () => {
    const key = tcp4('10.96.0.1', 80);
    const key6 = tcp6('2001:db8::1', 80);
    const dests = [
      dest('10.96.1.1', 8080, 'nat', { weight: 3, upperThreshold: 100, lowerThreshold: 10 }),
      dest('10.96.1.2', 80, 'dr', { weight: 0 }),
      dest('10.96.1.3', 80, 'tunnel', { weight: 2, tunnel: { type: 'ipip', port: 0, flags: 0 } }),
      dest('10.96.1.4', 80, 'tunnel', { weight: 5, tunnel: { type: 'gue', port: 6080, flags: 1 } }),
      dest('10.96.1.5', 80, 'tunnel', { weight: 7, tunnel: { type: 'gre', port: 0, flags: 0 } }),
      // Remote checksum offload exists for GUE only (ipvsadm refuses it for GRE).
      dest('10.96.1.6', 80, 'tunnel', { weight: 1, tunnel: { type: 'gue', port: 6081, flags: 2 } }),
    ];
    const dests6 = [dest('2001:db8:1::1', 8080, 'nat', { weight: 4 }), dest('2001:db8:1::2', 80, 'dr'), dest('2001:db8:1::3', 80, 'tunnel', { tunnel: { type: 'ipip', port: 0, flags: 0 } })];
    await ipvs.addService(service(key, 'wrr'));
    await ipvs.addService(service(key6, 'rr'));
    for (const d of dests) await ipvs.addDestination(key, d);
    for (const d of dests6) await ipvs.addDestination(key6, d);
    const byClient = await savedRules();
    const thresholds = await listedThresholds();
    await ipvsadm('-C');
    await restoreRules([ipvsadmServiceRule(service(key, 'wrr')), ipvsadmServiceRule(service(key6, 'rr')), ...dests.map((d) => ipvsadmDestRule(key, d)), ...dests6.map((d) => ipvsadmDestRule(key6, d))]);
    expect(byClient).toEqual(await savedRules());
    expect(byClient).toContain('-a -t 10.96.0.1:80 -r 10.96.1.4:80 -i -w 5 --tun-type gue --tun-port 6080 --tun-csum');
    expect(thresholds.get('TCP 10.96.0.1:80 -> 10.96.1.1:8080')).toEqual([100, 10]);

    await ipvsadm('-C');
    await ipvs.addService(service(key, 'wrr'));
    for (const d of dests) await ipvs.addDestination(key, d);
    const listed = await ipvs.listDestinations(key);
    expect(listed).toHaveLength(dests.length);
    for (const d of dests) expect(listed.find((l) => l.address === d.address)).toMatchObject(d);
  });

  it('updates a service in place, keeping its destinations', async () => {
    const key = tcp4('10.96.0.1', 80);
    await ipvs.addService(service(key, 'wlc', { persistence: { timeoutSeconds: 300, prefixLength: 32 } }));
    await ipvs.addDestination(key, dest('10.96.1.1', 80, 'dr'));
    await ipvs.updateService(service(key, 'sh', { schedulerFlags: flags('sh-port') }));
    expect(await savedRules()).toEqual(['-A -t 10.96.0.1:80 -s sh -b sh-port', '-a -t 10.96.0.1:80 -r 10.96.1.1:80 -g -w 1']);
    await expect(ipvs.updateService(service(tcp4('10.96.0.9', 80), 'rr'))).rejects.toBeInstanceOf(IpvsNoServiceError);
  });

  it('updates a destination: weight, thresholds, forwarding method', async () => {
    const key = tcp4('10.96.0.1', 80);
    await ipvs.addService(service(key, 'wrr'));
    await ipvs.addDestination(key, dest('10.96.1.1', 80, 'nat', { weight: 5 }));
    await ipvs.updateDestination(key, dest('10.96.1.1', 80, 'nat', { weight: 0, upperThreshold: 50, lowerThreshold: 5 }));
    expect(await savedRules()).toContain('-a -t 10.96.0.1:80 -r 10.96.1.1:80 -m -w 0');
    expect((await listedThresholds()).get('TCP 10.96.0.1:80 -> 10.96.1.1:80')).toEqual([50, 5]);
    await ipvs.updateDestination(key, dest('10.96.1.1', 80, 'dr', { weight: 2 }));
    expect(await savedRules()).toContain('-a -t 10.96.0.1:80 -r 10.96.1.1:80 -g -w 2');
    await expect(ipvs.updateDestination(key, dest('10.96.1.9', 80, 'dr'))).rejects.toBeInstanceOf(IpvsNoEntryError);
  });

  it('deletes destinations and services, with typed errors for what is not there', async () => {
    const key = tcp4('10.96.0.1', 80);
    await ipvs.addService(service(key, 'rr'));
    await ipvs.addService(service(fwmark(3), 'rr'));
    await ipvs.addDestination(key, dest('10.96.1.1', 80, 'dr'));
    await ipvs.addDestination(key, dest('10.96.1.2', 80, 'dr'));
    await ipvs.deleteDestination(key, { address: '10.96.1.1', port: 80 });
    expect(await savedRules()).toEqual(['-A -f 3 -s rr', '-A -t 10.96.0.1:80 -s rr', '-a -t 10.96.0.1:80 -r 10.96.1.2:80 -g -w 1']);
    await expect(ipvs.deleteDestination(key, { address: '10.96.1.1', port: 80 })).rejects.toBeInstanceOf(IpvsNoEntryError);
    await ipvs.deleteService(key);
    expect(await savedRules()).toEqual(['-A -f 3 -s rr']);
    await expect(ipvs.deleteService(key)).rejects.toBeInstanceOf(IpvsNoServiceError);
    await expect(ipvs.addDestination(key, dest('10.96.1.1', 80, 'dr'))).rejects.toBeInstanceOf(IpvsNoServiceError);
    expect(await ipvs.getService(key)).toBeUndefined();
  });

  it('refuses duplicates and unknown schedulers with typed errors, leaving the table as it was', async () => {
    const key = tcp4('10.96.0.1', 80);
    await ipvs.addService(service(key, 'rr'));
    await ipvs.addDestination(key, dest('10.96.1.1', 80, 'dr'));
    await expect(ipvs.addService(service(key, 'wlc'))).rejects.toBeInstanceOf(IpvsExistsError);
    await expect(ipvs.addDestination(key, dest('10.96.1.1', 80, 'nat'))).rejects.toBeInstanceOf(IpvsExistsError);
    await expect(ipvs.addService(service(tcp4('10.96.0.2', 80), 'nosuchsched'))).rejects.toBeInstanceOf(IpvsNoEntryError);
    // Longer than IP_VS_SCHEDNAME_MAXLEN (16 with the NUL): the kernel's attribute policy refuses it.
    await expect(ipvs.addService(service(tcp4('10.96.0.2', 80), 'no-such-scheduler'))).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await savedRules()).toEqual(['-A -t 10.96.0.1:80 -s rr', '-a -t 10.96.0.1:80 -r 10.96.1.1:80 -g -w 1']);
  });

  it('flushes the whole table', async () => {
    await restoreRules(['-A -t 10.96.0.1:80 -s rr', '-a -t 10.96.0.1:80 -r 10.96.1.1:80 -g', '-A -f 5 -6 -s lc']);
    expect(await savedRules()).toHaveLength(3);
    await ipvs.flush();
    expect(await savedRules()).toEqual([]);
    expect(await ipvs.listTable()).toEqual([]);
  });

  it('sets and reads the timeouts (lvs_timeouts), 0 leaving one unchanged', async () => {
    const before = await listedTimeouts();
    try {
      await ipvs.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
      expect(await listedTimeouts()).toEqual([901, 121, 301]);
      expect(await ipvs.getTimeouts()).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
      await ipvs.setTimeouts({ tcp: 0, tcpFin: 60, udp: 0 });
      expect(await listedTimeouts()).toEqual([901, 60, 301]);
    } finally {
      await ipvsadm('--set', ...before.map(String));
    }
  });

  describe('with traffic', () => {
    let lab: TrafficLab;
    beforeAll(() => {
      lab = startTrafficLab('tv-cli', 95);
    });
    afterAll(() => lab?.close());

    it('reports the same counters as ipvsadm, per service and per destination, IPv4 and IPv6', async () => {
      const k4 = tcp4(lab.vip4, 80);
      const k6 = tcp6(lab.vip6, 80);
      await ipvs.addService(service(k4, 'rr'));
      await ipvs.addService(service(k6, 'rr'));
      await ipvs.addDestination(k4, dest(lab.realServer4, 80, 'nat'));
      await ipvs.addDestination(k6, dest(lab.realServer6, 80, 'nat'));
      for (let i = 0; i < 3; i++) {
        expect(lab.get(lab.vip4)).toBe(200);
        expect(lab.get(lab.vip6)).toBe(200);
      }
      // The kernel publishes counters from its 2-second estimator tick.
      await new Promise((r) => setTimeout(r, 2500));
      const table = await ipvs.listTable();
      const listed = await listedStats();
      const s4 = table.find((s) => s.key.kind === 'address' && s.key.family === 'ipv4');
      const s6 = table.find((s) => s.key.kind === 'address' && s.key.family === 'ipv6');
      expect(s4?.stats?.connections).toBe(3);
      expect(s6?.stats?.connections).toBe(3);
      const judge4 = listed.get(`TCP ${lab.vip4}:80`);
      const judge6 = listed.get(`TCP [${lab.vip6}]:80`);
      expect(s4?.stats).toMatchObject(judge4 ?? {});
      expect(s6?.stats).toMatchObject(judge6 ?? {});
      expect(s4?.destinations[0]?.stats).toMatchObject(listed.get(`TCP ${lab.vip4}:80 -> ${lab.realServer4}:80`) ?? {});
      expect(s4?.stats?.bytesIn).toBeGreaterThan(0);
      expect(s4?.destinations[0]?.inactiveConnections).toBeGreaterThan(0);
    });

    it('zeroes the counters of one service, then of all', async () => {
      const k4 = tcp4(lab.vip4, 80);
      const k6 = tcp6(lab.vip6, 80);
      await ipvs.addService(service(k4, 'rr'));
      await ipvs.addService(service(k6, 'rr'));
      await ipvs.addDestination(k4, dest(lab.realServer4, 80, 'nat'));
      await ipvs.addDestination(k6, dest(lab.realServer6, 80, 'nat'));
      expect(lab.get(lab.vip4)).toBe(200);
      expect(lab.get(lab.vip6)).toBe(200);
      await new Promise((r) => setTimeout(r, 2500));
      expect((await listedStats()).get(`TCP ${lab.vip4}:80`)?.connections).toBe(1);
      await ipvs.zero(k4);
      let listed = await listedStats();
      expect(listed.get(`TCP ${lab.vip4}:80`)?.connections).toBe(0);
      expect(listed.get(`TCP [${lab.vip6}]:80`)?.connections).toBe(1);
      await ipvs.zero();
      listed = await listedStats();
      expect(listed.get(`TCP [${lab.vip6}]:80`)?.connections).toBe(0);
    });
  });
});
