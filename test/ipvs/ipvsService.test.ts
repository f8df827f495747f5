import { describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { ipvsPlanFromConfig, type IpvsPlan } from '../../src/ipvs/fromConfig.js';
import { IpvsService, type IpvsSyncEvent } from '../../src/ipvs/ipvsService.js';
import type { ServiceSpec } from '../../src/ipvs/types.js';
import { FakeClock } from '../../src/util/clock.js';
import { FakeIpvsKernel } from './fakeKernel.js';
import { model } from '../config/helpers.js';

const CONF = `
virtual_server 10.0.0.1 80 {
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 10.1.0.1 80 {
    weight 3
  }
  real_server 10.1.0.2 80 {
    weight 1
    inhibit_on_failure
  }
}
virtual_server 10.0.0.2 443 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.1.0.3 443 {
  }
}
`;

const foreign: ServiceSpec = { key: { kind: 'address', family: 'ipv4', protocol: 'udp', address: '192.168.5.5', port: 53 }, scheduler: 'sh', onePacket: false, schedulerFlags: 0 };

/** Lets the promise chains started by fired timers run to completion. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function rig(opts: { keepOnStop?: boolean; plan?: IpvsPlan; destinationReadBudget?: number } = {}) {
  const kernel = new FakeIpvsKernel();
  const client = new IpvsClient(kernel);
  const clock = new FakeClock(0);
  const events: IpvsSyncEvent[] = [];
  const svc = new IpvsService(client, {
    clock,
    resyncIntervalMs: 5000,
    keepOnStop: opts.keepOnStop,
    destinationReadBudget: opts.destinationReadBudget,
    onEvent: (e) => events.push(e),
  });
  const plan = opts.plan ?? ipvsPlanFromConfig(model(CONF));
  const view = () =>
    kernel.table
      .map((s) => `${s.key.kind === 'address' ? `${s.key.address}:${s.key.port}` : s.key.fwmark} ${s.scheduler} [${s.destinations.map((d) => `${d.address}:${d.weight}`).join(' ')}]`)
      .sort();
  return { kernel, client, clock, events, svc, plan, view };
}

describe('IpvsService', () => {
  it('start builds the table, leaves a foreign service alone, and adopts instead of duplicating on restart', async () => {
    const { kernel, client, svc, plan, view } = rig();
    await client.addService(foreign);
    const report = await svc.start(plan);
    expect(report).toMatchObject({ operations: 5, applied: 5, failed: 0 });
    expect(view()).toEqual(['10.0.0.1:80 wrr [10.1.0.1:3 10.1.0.2:1]', '10.0.0.2:443 rr [10.1.0.3:1]', '192.168.5.5:53 sh []']);
    await svc.stop();
    expect(view()).toEqual(['192.168.5.5:53 sh []']);

    // a second daemon start over an existing table: nothing but the missing destination is written
    const again = rig();
    again.kernel.table = structuredClone(kernel.table);
    await again.svc.start(plan);
    again.kernel.log.length = 0;
    await again.client.deleteDestination({ kind: 'address', family: 'ipv4', protocol: 'tcp', address: '10.0.0.1', port: 80 }, { address: '10.1.0.2', port: 80 });
    const r = await again.svc.syncNow();
    expect(r).toMatchObject({ operations: 1, applied: 1 });
    expect(again.kernel.log.filter((l) => !l.startsWith('GET'))).toEqual(['DEL_DEST', 'NEW_DEST']);
  });

  it('health changes are coalesced into one sync: inhibited → weight 0, dead → removed', async () => {
    const { kernel, clock, svc, plan, view } = rig();
    await svc.start(plan);
    kernel.log.length = 0;
    svc.setDestinationHealth('10.0.0.1:80/TCP', '10.1.0.1:80', { inTable: false, weight: 0 });
    svc.setDestinationHealth('10.0.0.1:80/TCP', '10.1.0.2:80', { inTable: true, weight: 0 });
    svc.onRealServerChange({ virtualServer: '10.0.0.2:443/TCP', realServer: '10.1.0.3:443', inTable: true, weight: 1 });
    expect(kernel.log).toEqual([]);
    clock.advance(0);
    await settle();
    expect(view()).toEqual(['10.0.0.1:80 wrr [10.1.0.2:0]', '10.0.0.2:443 rr [10.1.0.3:1]']);
    expect(kernel.log.filter((l) => l === 'GET_SERVICE(dump)')).toHaveLength(1);
    expect(kernel.log.filter((l) => !l.startsWith('GET'))).toEqual(['SET_DEST', 'DEL_DEST']);
  });

  it('a change that arrives while syncs run back to back is applied then, not left for the periodic sync', async () => {
    const { kernel, clock, svc, plan, view } = rig();
    await svc.start(plan);
    const vs1 = '10.0.0.1:80/TCP';
    const vs2 = '10.0.0.2:443/TCP';
    const out = { inTable: false, weight: 0 };
    // Health events keep coming while the syncs they cause are under way (50 victims returning in the VM
    // bench): each pass's read of the service list lets the next one in — more than the three passes one
    // sync makes.
    const pending: Array<[string, string, { inTable: boolean; weight: number }]> = [
      [vs2, '10.1.0.3:443', out],
      [vs1, '10.1.0.1:80', { inTable: true, weight: 3 }],
      [vs1, '10.1.0.2:80', { inTable: true, weight: 0 }],
      [vs2, '10.1.0.3:443', { inTable: true, weight: 1 }],
      [vs1, '10.1.0.1:80', out],
      [vs2, '10.1.0.3:443', out],
    ];
    const request = kernel.request.bind(kernel);
    kernel.request = async (message, options) => {
      const reply = await request(message, options);
      const next = kernel.log.at(-1) === 'GET_SERVICE(dump)' ? pending.shift() : undefined;
      if (next) {
        svc.setDestinationHealth(...next);
        clock.advance(0);
      }
      return reply;
    };
    svc.setDestinationHealth(vs1, '10.1.0.1:80', out);
    clock.advance(0);
    await settle();
    expect(pending).toEqual([]);
    // No periodic sync has run (the clock stands before its 5 s): the changes' own syncs applied the last.
    expect(view()).toEqual(['10.0.0.1:80 wrr [10.1.0.2:0]', '10.0.0.2:443 rr []']);
    expect(svc.counters.driftRepairs).toBe(0);
  });

  it('repairs drift at the periodic sync: ipvsadm -C, a hand-edited weight, a hand-added destination', async () => {
    const { kernel, client, clock, svc, plan, view, events } = rig();
    await svc.start(plan);
    const healthy = view();
    await client.flush();
    await client.addService(foreign);
    clock.advance(5000);
    await settle();
    expect(view()).toEqual([...healthy, '192.168.5.5:53 sh []'].sort());
    const key = { kind: 'address' as const, family: 'ipv4' as const, protocol: 'tcp' as const, address: '10.0.0.2', port: 443 };
    await client.updateDestination(key, { address: '10.1.0.3', port: 443, forwarding: 'nat', weight: 50, upperThreshold: 0, lowerThreshold: 0 });
    await client.addDestination(key, { address: '10.1.0.99', port: 443, forwarding: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    clock.advance(5000);
    await settle();
    expect(view()).toEqual([...healthy, '192.168.5.5:53 sh []'].sort());
    expect(svc.counters.driftRepairs).toBe(2);
    expect(events.filter((e) => e.kind === 'drift-repaired')).toHaveLength(2);
    kernel.log.length = 0;
    clock.advance(5000);
    await settle();
    expect(kernel.log.filter((l) => !l.startsWith('GET'))).toEqual([]);
    await svc.stop();
  });

  it('tolerates EEXIST / ENOENT / ESRCH races and resyncs; counts real failures', async () => {
    const { kernel, svc, plan, view } = rig();
    kernel.failNext('NEW_SERVICE', 17);
    kernel.failNext('NEW_DEST', 17);
    const r = await svc.start(plan);
    // EEXIST on the service, EEXIST on its first destination, ESRCH on its second (service not there)
    expect(svc.counters.operationsTolerated).toBe(3);
    expect(r.failed).toBe(0);
    expect(view()).toEqual(['10.0.0.1:80 wrr [10.1.0.1:3 10.1.0.2:1]', '10.0.0.2:443 rr [10.1.0.3:1]']);
    kernel.failNext('SET_DEST', 1);
    svc.setDestinationHealth('10.0.0.1:80/TCP', '10.1.0.1:80', { inTable: true, weight: 9 });
    await svc.syncNow();
    expect(svc.counters.operationsFailed).toBe(1);
    await svc.syncNow();
    expect(view()[0]).toBe('10.0.0.1:80 wrr [10.1.0.1:9 10.1.0.2:1]');
    kernel.failNext('GET_SERVICE', 105);
    await svc.syncNow();
    expect(svc.counters.syncFailures).toBe(1);
    await svc.stop();
  });

  it('reload removes services dropped from the config and keeps the rest', async () => {
    const { svc, plan, view } = rig();
    await svc.start(plan);
    const smaller = { ...plan, virtualServers: plan.virtualServers.slice(1) };
    await svc.reload(smaller);
    expect(view()).toEqual(['10.0.0.2:443 rr [10.1.0.3:1]']);
    await svc.stop();
    expect(view()).toEqual([]);
  });

  it('keepOnStop leaves the table; lvs_flush / lvs_flush_onstop flush everything; lvs_timeouts are set', async () => {
    const keep = rig({ keepOnStop: true });
    await keep.svc.start(keep.plan);
    await keep.svc.stop();
    expect(keep.view()).toHaveLength(2);

    const f = rig();
    await f.client.addService(foreign);
    await f.svc.start({ ...f.plan, flushAtStart: true, flushOnStop: true, timeouts: { tcp: 60, tcpFin: 0, udp: 5 } });
    expect(f.view()).toHaveLength(2);
    expect(f.kernel.timeouts).toEqual({ tcp: 60, tcpFin: 120, udp: 5 });
    await f.client.addService(foreign);
    await f.svc.stop();
    expect(f.view()).toEqual([]);
  });

  it('stats sums kernel counters per configured virtual server, as the last sync read them: a scrape reads nothing', async () => {
    const { kernel, svc, plan, clock } = rig();
    await svc.start(plan);
    // The start's sync read the table before it built it: the first periodic sync reads what it built.
    clock.advance(5000);
    await settle();
    const counters = (connections: number) => ({ connections, packetsIn: 6, packetsOut: 7, bytesIn: 8, bytesOut: 9, connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 0 });
    kernel.table[0].stats = counters(5);
    kernel.table[0].destinations[0].stats = counters(3);
    const requests = kernel.log.length;
    const before = await svc.stats();
    expect(kernel.log.length).toBe(requests);
    expect(before.map((x) => x.service)).toEqual(['10.0.0.1:80/TCP', '10.0.0.2:443/TCP']);
    expect(before[0].destinations.map((d) => d.destination)).toEqual(['10.1.0.1:80', '10.1.0.2:80']);
    expect(before[0].counters.connections).toBe(0);
    // The periodic sync (every 5 s in this rig) reads the service list with its counters, and this
    // service's destinations in its rotation.
    clock.advance(5000);
    await settle();
    const after = await svc.stats();
    expect(after[0].counters.connections).toBe(5);
    expect(after[0].destinations[0].counters.connections).toBe(3);
    await svc.stop();
  });

  describe('partial reads (change and periodic syncs on a large table)', () => {
    const CONF3 = `${CONF}
virtual_server 10.0.0.3 25 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.1.0.4 25 {
  }
}
`;
    const key = (address: string, port: number) => ({ kind: 'address' as const, family: 'ipv4' as const, protocol: 'tcp' as const, address, port });
    const stray = (port: number) => ({ address: '10.9.9.9', port, forwarding: 'nat' as const, weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    const dumps = (log: string[]) => ({ services: log.filter((l) => l === 'GET_SERVICE(dump)').length, dests: log.filter((l) => l === 'GET_DEST(dump)').length });

    it('a periodic sync reads the service list and `budget` destination lists; hand-added destinations go within the rotation', async () => {
      const { kernel, client, clock, svc, view } = rig({ plan: ipvsPlanFromConfig(model(CONF3)), destinationReadBudget: 1 });
      await svc.start(ipvsPlanFromConfig(model(CONF3)));
      const healthy = view();
      expect(healthy).toHaveLength(3);
      await client.addDestination(key('10.0.0.1', 80), stray(80));
      await client.addDestination(key('10.0.0.2', 443), stray(443));
      await client.addDestination(key('10.0.0.3', 25), stray(25));
      const reads: Array<{ services: number; dests: number }> = [];
      const strays: number[] = [];
      for (let period = 0; period < 3; period++) {
        kernel.log.length = 0;
        clock.advance(5000);
        await settle();
        reads.push(dumps(kernel.log));
        strays.push(view().filter((v) => v.includes('10.9.9.9')).length);
      }
      // one service list and one destination list per period; one stray removed per period
      expect(reads).toEqual([{ services: 1, dests: 1 }, { services: 1, dests: 1 }, { services: 1, dests: 1 }]);
      expect(strays).toEqual([2, 1, 0]);
      expect(view()).toEqual(healthy);
      expect(svc.counters.partialReads).toBe(3);
      await svc.stop();
    });

    it('service-level drift (ipvsadm -C, an edited scheduler) is repaired at the next period whatever the budget', async () => {
      const { kernel, client, clock, svc, view } = rig({ plan: ipvsPlanFromConfig(model(CONF3)), destinationReadBudget: 0 });
      await svc.start(ipvsPlanFromConfig(model(CONF3)));
      const healthy = view();
      await client.flush();
      kernel.log.length = 0;
      clock.advance(5000);
      await settle();
      expect(view()).toEqual(healthy);
      expect(dumps(kernel.log)).toEqual({ services: 1, dests: 0 });
      await client.updateService({ key: key('10.0.0.2', 443), scheduler: 'wlc', onePacket: false, schedulerFlags: 0 });
      await client.deleteDestination(key('10.0.0.2', 443), { address: '10.1.0.3', port: 443 });
      kernel.log.length = 0;
      clock.advance(5000);
      await settle();
      expect(view()).toEqual(healthy);
      // the changed service is read in full (its missing destination comes back), the others not at all
      expect(dumps(kernel.log)).toEqual({ services: 1, dests: 1 });
      await svc.stop();
      expect(view()).toEqual([]);
    });

    it('a health change reads only the destinations of the virtual servers it concerns', async () => {
      const { kernel, clock, svc, view } = rig({ plan: ipvsPlanFromConfig(model(CONF3)), destinationReadBudget: 0 });
      await svc.start(ipvsPlanFromConfig(model(CONF3)));
      kernel.log.length = 0;
      svc.setDestinationHealth('10.0.0.3:25/TCP', '10.1.0.4:25', { inTable: false, weight: 0 });
      clock.advance(0);
      await settle();
      expect(view()).toContain('10.0.0.3:25 rr []');
      expect(dumps(kernel.log)).toEqual({ services: 1, dests: 1 });
      expect(kernel.log.filter((l) => !l.startsWith('GET'))).toEqual(['DEL_DEST']);
      // the start found an empty table (no destination list to read), then this one
      expect(svc.counters.destinationListsRead).toBe(1);
      await svc.stop();
    });

    it('a change sync that fails is not lost: the next sync reads everything and applies it', async () => {
      const { kernel, clock, svc, view } = rig({ plan: ipvsPlanFromConfig(model(CONF3)), destinationReadBudget: 0 });
      await svc.start(ipvsPlanFromConfig(model(CONF3)));
      kernel.failNext('GET_SERVICE', 105); // ENOBUFS on the service list
      svc.setDestinationHealth('10.0.0.3:25/TCP', '10.1.0.4:25', { inTable: false, weight: 0 });
      clock.advance(0);
      await settle();
      expect(svc.counters.syncFailures).toBe(1);
      expect(view()).toContain('10.0.0.3:25 rr [10.1.0.4:1]');
      clock.advance(5000);
      await settle();
      expect(view()).toContain('10.0.0.3:25 rr []');
      expect(svc.counters.fullReads).toBe(2);
      await svc.stop();
    });
  });
});
