import { describe, expect, it } from 'vitest';
import {
  destinationIdentity,
  reconcile,
  serviceIdentity,
  teardown,
  type DesiredService,
  type IpvsOperation,
  type KernelService,
} from '../../src/ipvs/reconciler.js';
import type { DestinationEntry, DestinationSpec, ServiceKey, ServiceSpec } from '../../src/ipvs/types.js';

const key = (address: string, port = 80, protocol: 'tcp' | 'udp' | 'sctp' = 'tcp'): ServiceKey => ({
  kind: 'address',
  family: address.includes(':') ? 'ipv6' : 'ipv4',
  protocol,
  address,
  port,
});
const svc = (k: ServiceKey, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({ key: k, scheduler: 'wlc', onePacket: false, schedulerFlags: 0, ...extra });
const dst = (address: string, extra: Partial<DestinationSpec> = {}): DestinationSpec => ({
  address,
  port: 80,
  forwarding: 'dr',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});
const entry = (d: DestinationSpec): DestinationEntry => ({
  ...d,
  family: d.address.includes(':') ? 'ipv6' : 'ipv4',
  activeConnections: 4,
  inactiveConnections: 2,
  persistentConnections: 0,
});
/** A kernel holding these services (it cannot hold the same destination twice: the first one stays). */
const kernelOf = (desired: DesiredService[]): KernelService[] =>
  desired.map((d) => ({
    ...structuredClone(d.spec),
    destinations: d.destinations
      .filter((x, i) => d.destinations.findIndex((y) => destinationIdentity(y) === destinationIdentity(x)) === i)
      .map((x) => entry(structuredClone(x))),
  }));

/** What the kernel would hold after the operations (the reconciler's ops applied in order). */
function apply(kernel: KernelService[], ops: IpvsOperation[]): KernelService[] {
  let t = structuredClone(kernel);
  const find = (k: ServiceKey) => t.find((s) => serviceIdentity(s.key) === serviceIdentity(k));
  for (const o of ops) {
    switch (o.op) {
      case 'add-service':
        if (find(o.spec.key)) throw new Error('EEXIST');
        t.push({ ...structuredClone(o.spec), destinations: [] });
        break;
      case 'update-service': {
        const s = find(o.spec.key)!;
        const dests = s.destinations;
        Object.keys(s).forEach((k) => delete (s as unknown as Record<string, unknown>)[k]);
        Object.assign(s, structuredClone(o.spec), { destinations: dests });
        break;
      }
      case 'delete-service':
        t = t.filter((s) => serviceIdentity(s.key) !== serviceIdentity(o.key));
        break;
      case 'add-destination': {
        const s = find(o.service)!;
        if (s.destinations.some((d) => destinationIdentity(d) === destinationIdentity(o.destination))) throw new Error('EEXIST');
        s.destinations.push(entry(structuredClone(o.destination)));
        break;
      }
      case 'update-destination': {
        const s = find(o.service)!;
        const i = s.destinations.findIndex((d) => destinationIdentity(d) === destinationIdentity(o.destination));
        if (i < 0) throw new Error('ENOENT');
        s.destinations[i] = entry(structuredClone(o.destination));
        break;
      }
      case 'delete-destination': {
        const s = find(o.service)!;
        const before = s.destinations.length;
        s.destinations = s.destinations.filter((d) => destinationIdentity(d) !== destinationIdentity(o.destination));
        if (s.destinations.length === before) throw new Error('ENOENT');
        break;
      }
    }
  }
  return t;
}

const opNames = (ops: IpvsOperation[]): string[] =>
  ops.map((o) => {
    if (o.op === 'add-service' || o.op === 'update-service') return `${o.op} ${serviceIdentity(o.spec.key)}`;
    if (o.op === 'delete-service') return `${o.op} ${serviceIdentity(o.key)}`;
    return `${o.op} ${serviceIdentity(o.service)} ${destinationIdentity(o.destination)}`;
  });

const web: DesiredService = { spec: svc(key('10.0.0.1')), destinations: [dst('10.1.0.1'), dst('10.1.0.2', { weight: 2 })] };
const dns: DesiredService = { spec: svc(key('10.0.0.53', 53, 'udp'), { scheduler: 'rr', onePacket: true }), destinations: [dst('10.1.0.3', { port: 53, forwarding: 'nat' })] };
const foreign: KernelService = { ...svc(key('192.168.9.9', 22), { scheduler: 'sh' }), destinations: [entry(dst('10.9.9.9', { port: 22 }))] };

describe('reconcile', () => {
  it('from an empty kernel: each service added, then its destinations, in config order', () => {
    const ops = reconcile({ desired: [web, dns], kernel: [] });
    expect(opNames(ops)).toEqual([
      'add-service tcp/ipv4/10.0.0.1/80',
      'add-destination tcp/ipv4/10.0.0.1/80 10.1.0.1/80',
      'add-destination tcp/ipv4/10.0.0.1/80 10.1.0.2/80',
      'add-service udp/ipv4/10.0.0.53/53',
      'add-destination udp/ipv4/10.0.0.53/53 10.1.0.3/53',
    ]);
  });

  it('is idempotent: nothing to do once applied, and nothing when the kernel already matches (adopt at start)', () => {
    const after = apply([], reconcile({ desired: [web, dns], kernel: [] }));
    expect(reconcile({ desired: [web, dns], kernel: after })).toEqual([]);
    expect(reconcile({ desired: [web, dns], kernel: kernelOf([web, dns]), owned: [] })).toEqual([]);
  });

  it('never touches a foreign service, whatever it contains, even when owned lists others', () => {
    const ops = reconcile({ desired: [web], kernel: [foreign], owned: [web.spec.key] });
    expect(ops.every((o) => JSON.stringify(o).includes('192.168.9.9') === false)).toBe(true);
    expect(apply([foreign], ops).find((s) => serviceIdentity(s.key) === serviceIdentity(foreign.key))).toEqual(foreign);
    expect(teardown([web.spec.key], [foreign, ...kernelOf([web])])).toEqual([{ op: 'delete-service', key: web.spec.key }]);
  });

  it('after ipvsadm -C (empty kernel) rebuilds exactly what a fresh start would', () => {
    expect(reconcile({ desired: [web, dns], kernel: [], owned: [web.spec.key, dns.spec.key] })).toEqual(reconcile({ desired: [web, dns], kernel: [] }));
  });

  it('repairs a destination deleted, re-weighted or added by hand, keeping the others', () => {
    const k = kernelOf([web]);
    k[0].destinations = [entry(dst('10.1.0.2', { weight: 7 })), entry(dst('10.1.0.99'))];
    const ops = reconcile({ desired: [web], kernel: k });
    expect(opNames(ops)).toEqual([
      'add-destination tcp/ipv4/10.0.0.1/80 10.1.0.1/80',
      'update-destination tcp/ipv4/10.0.0.1/80 10.1.0.2/80',
      'delete-destination tcp/ipv4/10.0.0.1/80 10.1.0.99/80',
    ]);
    expect(reconcile({ desired: [web], kernel: apply(k, ops) })).toEqual([]);
  });

  it('updates a service in place (SET_SERVICE) for each kind of setting, never delete+add', () => {
    const variants: Partial<ServiceSpec>[] = [
      { scheduler: 'rr' },
      { onePacket: true },
      { schedulerFlags: 0x08 },
      { persistence: { timeoutSeconds: 300, prefixLength: 32 } },
      { persistenceEngine: 'sip' },
    ];
    for (const v of variants) {
      const k = kernelOf([web]);
      const want = { ...web, spec: svc(web.spec.key, v) };
      expect(opNames(reconcile({ desired: [want], kernel: k })), JSON.stringify(v)).toEqual(['update-service tcp/ipv4/10.0.0.1/80']);
    }
    const persistent = { ...web, spec: svc(web.spec.key, { persistence: { timeoutSeconds: 300, prefixLength: 24 } }) };
    const k = kernelOf([persistent]);
    for (const p of [{ timeoutSeconds: 60, prefixLength: 24 }, { timeoutSeconds: 300, prefixLength: 16 }, undefined]) {
      const want = { ...web, spec: svc(web.spec.key, { persistence: p }) };
      expect(opNames(reconcile({ desired: [want], kernel: k }))).toEqual(['update-service tcp/ipv4/10.0.0.1/80']);
    }
  });

  it('updates a destination for each kind of setting: weight, thresholds, method, tunnel details', () => {
    const base = { spec: web.spec, destinations: [dst('10.1.0.1', { forwarding: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: 0 } })] };
    const k = kernelOf([base]);
    const variants: Partial<DestinationSpec>[] = [
      { weight: 0 },
      { upperThreshold: 10 },
      { lowerThreshold: 5 },
      { forwarding: 'nat', tunnel: undefined },
      { tunnel: { type: 'gue', port: 6080, flags: 0 } },
      { tunnel: { type: 'ipip', port: 0, flags: 1 } },
    ];
    for (const v of variants) {
      const want = { spec: web.spec, destinations: [{ ...base.destinations[0], ...v }] };
      expect(opNames(reconcile({ desired: [want], kernel: k })), JSON.stringify(v)).toEqual(['update-destination tcp/ipv4/10.0.0.1/80 10.1.0.1/80']);
    }
  });

  it('ignores connection counters and stats, and a destination the kernel made "local"', () => {
    const k = kernelOf([web]);
    k[0].stats = { connections: 9, packetsIn: 1, packetsOut: 1, bytesIn: 1, bytesOut: 1, connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 0 };
    k[0].destinations[0].forwarding = 'local';
    k[0].destinations[0].activeConnections = 1000;
    expect(reconcile({ desired: [web], kernel: k })).toEqual([]);
  });

  it('deletes an owned service dropped from the config, first; an owned one already gone is no op', () => {
    const ops = reconcile({ desired: [web], kernel: kernelOf([dns, web]), owned: [web.spec.key, dns.spec.key, key('10.0.0.77')] });
    expect(opNames(ops)).toEqual(['delete-service udp/ipv4/10.0.0.53/53']);
  });

  it('matches addresses however they are spelled (IPv6 case and zero compression)', () => {
    const v6: DesiredService = { spec: svc(key('2001:DB8:0:0::1', 443)), destinations: [dst('FD00:0::2', { port: 443 })] };
    const k: KernelService[] = [{ ...svc(key('2001:db8::1', 443)), destinations: [entry(dst('fd00::2', { port: 443 }))] }];
    expect(reconcile({ desired: [v6], kernel: k })).toEqual([]);
  });

  it('fwmark services are keyed by family + mark', () => {
    const m4: DesiredService = { spec: svc({ kind: 'fwmark', family: 'ipv4', fwmark: 5 }), destinations: [dst('10.1.0.1', { port: 0 })] };
    const m6: DesiredService = { spec: svc({ kind: 'fwmark', family: 'ipv6', fwmark: 5 }), destinations: [dst('fd00::1', { port: 0 })] };
    expect(opNames(reconcile({ desired: [m4, m6], kernel: kernelOf([m4]) }))).toEqual(['add-service fwmark/ipv6/5', 'add-destination fwmark/ipv6/5 fd00::1/0']);
  });

  it('a destination listed twice is added once (first wins)', () => {
    const dup: DesiredService = { spec: web.spec, destinations: [dst('10.1.0.1', { weight: 5 }), dst('10.1.0.1', { weight: 9 })] };
    const ops = reconcile({ desired: [dup], kernel: [] });
    expect(ops.filter((o) => o.op === 'add-destination')).toEqual([{ op: 'add-destination', service: web.spec.key, destination: dup.destinations[0] }]);
  });

  it('teardown deletes only owned services still present', () => {
    expect(opNames(teardown([web.spec.key, dns.spec.key, web.spec.key], [foreign, ...kernelOf([web])]))).toEqual(['delete-service tcp/ipv4/10.0.0.1/80']);
    expect(teardown([], kernelOf([web]))).toEqual([]);
  });

  it('random tables: applying the ops yields the desired services, foreign ones intact, then nothing to do', () => {
    let seed = 99;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const scheds = ['rr', 'wrr', 'wlc', 'sh', 'mh'];
    const randomDests = (): DestinationSpec[] =>
      Array.from({ length: rnd(5) }, () => dst(`10.2.0.${rnd(8)}`, { weight: rnd(4), forwarding: (['nat', 'dr', 'tunnel'] as const)[rnd(3)], upperThreshold: rnd(2) * 100 }));
    const randomService = (i: number): DesiredService => ({
      spec: svc(key(`10.0.1.${i}`), { scheduler: scheds[rnd(scheds.length)], persistence: rnd(2) ? { timeoutSeconds: 60 + rnd(3), prefixLength: 24 + rnd(9) } : undefined }),
      destinations: randomDests(),
    });
    for (let round = 0; round < 300; round++) {
      const desired = Array.from({ length: rnd(6) }, (_, i) => randomService(i));
      const previously = Array.from({ length: rnd(6) }, (_, i) => randomService(i));
      const foreigners: KernelService[] = rnd(2) ? [foreign] : [];
      const kernel = [...kernelOf(previously), ...foreigners];
      const owned = previously.map((p) => p.spec.key);
      const ops = reconcile({ desired, kernel, owned });
      const after = apply(kernel, ops);
      expect(reconcile({ desired, kernel: after, owned })).toEqual([]);
      for (const f of foreigners) expect(after).toContainEqual(f);
      const ours = after.filter((s) => serviceIdentity(s.key) !== serviceIdentity(foreign.key));
      const uniq = (ds: DestinationSpec[]): string[] => [...new Set(ds.map(destinationIdentity))].sort();
      expect(ours.map((s) => serviceIdentity(s.key)).sort()).toEqual(desired.map((d) => serviceIdentity(d.spec.key)).sort());
      for (const d of desired) {
        const s = ours.find((x) => serviceIdentity(x.key) === serviceIdentity(d.spec.key))!;
        expect(s.destinations.map(destinationIdentity).sort()).toEqual(uniq(d.destinations));
      }
    }
  });
});
