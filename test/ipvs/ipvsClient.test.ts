import { describe, expect, it } from 'vitest';
import { IpvsRequest } from '../../src/ipvs/codec/requests.js';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { IpvsExistsError, IpvsKernelError, IpvsNoEntryError, IpvsNoServiceError } from '../../src/ipvs/errors.js';
import type { NetlinkTransport } from '../../src/ipvs/netlinkTransport.js';
import type { DestinationSpec, ServiceSpec } from '../../src/ipvs/types.js';
import { FakeIpvsKernel } from './fakeKernel.js';

const web: ServiceSpec = {
  key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  scheduler: 'wlc',
  persistence: { timeoutSeconds: 300, prefixLength: 24 },
  onePacket: false,
  schedulerFlags: 0,
};
const v6mark: ServiceSpec = { key: { kind: 'fwmark', family: 'ipv6', fwmark: 3 }, scheduler: 'mh', onePacket: false, schedulerFlags: 0x18 };
const rs = (address: string, weight = 1, forwarding: DestinationSpec['forwarding'] = 'nat'): DestinationSpec => ({
  address,
  port: 80,
  forwarding,
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
});

describe('IpvsClient over the fake kernel', () => {
  it('adds services and destinations and reads them back with listTable (1 + N dumps, no per-object gets)', async () => {
    const k = new FakeIpvsKernel();
    const c = new IpvsClient(k);
    await c.addService(web);
    await c.addService(v6mark);
    await c.addDestination(web.key, rs('10.1.0.1', 3));
    await c.addDestination(web.key, rs('10.1.0.2', 0, 'dr'));
    await c.addDestination(v6mark.key, { ...rs('fd00::9', 2, 'tunnel'), port: 0, tunnel: { type: 'gue', port: 6080, flags: 1 } });
    k.log.length = 0;
    const table = await c.listTable();
    expect(k.log).toEqual(['GET_SERVICE(dump)', 'GET_DEST(dump)', 'GET_DEST(dump)']);
    expect(table).toHaveLength(2);
    const w = table.find((s) => s.key.kind === 'address')!;
    expect(w).toMatchObject({ scheduler: 'wlc', persistence: { timeoutSeconds: 300, prefixLength: 24 } });
    expect(w.destinations.map((d) => [d.address, d.weight, d.forwarding])).toEqual([
      ['10.1.0.1', 3, 'nat'],
      ['10.1.0.2', 0, 'dr'],
    ]);
    const m = table.find((s) => s.key.kind === 'fwmark')!;
    expect(m).toMatchObject({ scheduler: 'mh', schedulerFlags: 0x18 });
    expect(m.destinations[0]).toMatchObject({ address: 'fd00::9', family: 'ipv6', tunnel: { type: 'gue', port: 6080, flags: 1 } });
  });

  it('listTable({ withStats: false }) skips decoding counters; by default they are there', async () => {
    const k = new FakeIpvsKernel();
    const c = new IpvsClient(k);
    await c.addService(web);
    await c.addDestination(web.key, rs('10.1.0.1'));
    k.table[0].stats = { connections: 3, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, connectionsPerSecond: 0, packetsInPerSecond: 0, packetsOutPerSecond: 0, bytesInPerSecond: 0, bytesOutPerSecond: 0 };
    const lean = await c.listTable({ withStats: false });
    expect(lean[0].stats).toBeUndefined();
    expect(lean[0].destinations[0].stats).toBeUndefined();
    expect(lean[0].destinations[0].weight).toBe(1);
    expect((await c.listTable())[0].stats?.connections).toBe(3);
  });

  it('maps EEXIST, ESRCH and ENOENT to typed errors', async () => {
    const k = new FakeIpvsKernel();
    const c = new IpvsClient(k);
    await c.addService(web);
    await expect(c.addService(web)).rejects.toBeInstanceOf(IpvsExistsError);
    await expect(c.deleteService(v6mark.key)).rejects.toBeInstanceOf(IpvsNoServiceError);
    await expect(c.addDestination(v6mark.key, rs('fd00::1'))).rejects.toBeInstanceOf(IpvsNoServiceError);
    await expect(c.deleteDestination(web.key, { address: '10.9.9.9', port: 80 })).rejects.toBeInstanceOf(IpvsNoEntryError);
    await expect(c.addService({ ...v6mark, scheduler: 'nosuch' })).rejects.toBeInstanceOf(IpvsNoEntryError);
    k.failNext('FLUSH', 1);
    const err = await c.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsKernelError);
    expect((err as IpvsKernelError).code).toBe('EPERM');
  });

  it('update, delete, getService, flush, info and timeouts', async () => {
    const k = new FakeIpvsKernel();
    const c = new IpvsClient(k);
    await c.addService(web);
    await c.addDestination(web.key, rs('10.1.0.1'));
    await c.updateService({ ...web, scheduler: 'rr', persistence: undefined });
    await c.updateDestination(web.key, rs('10.1.0.1', 9));
    expect(await c.getService(web.key)).toMatchObject({ scheduler: 'rr' });
    expect((await c.getService(web.key))?.persistence).toBeUndefined();
    expect((await c.listDestinations(web.key))[0].weight).toBe(9);
    expect(await c.getService(v6mark.key)).toBeUndefined();
    await c.deleteDestination(web.key, { address: '10.1.0.1', port: 80 });
    expect(await c.listDestinations(web.key)).toEqual([]);
    await c.flush();
    expect(await c.listServices()).toEqual([]);
    expect(await c.info()).toEqual({ version: '1.2.1', versionCode: 0x010201, connectionTableSize: 4096 });
    await c.setTimeouts({ tcp: 7200, tcpFin: 0, udp: 60 });
    expect(await c.getTimeouts()).toEqual({ tcp: 7200, tcpFin: 120, udp: 60 });
    await c.zero();
    expect(k.log).toContain('ZERO');
  });

  it('skips and counts dump entries it cannot decode instead of failing the whole listing', async () => {
    const k = new FakeIpvsKernel();
    const c0 = new IpvsClient(k);
    await c0.addService(web);
    const [good] = await k.request(IpvsRequest.getServices(k.familyId), { dump: true });
    const broken = Buffer.from(good);
    broken.writeUInt16LE(0xffff, 20); // nested SERVICE attribute length past the end
    const garbled: NetlinkTransport = {
      familyId: k.familyId,
      request: async () => [good, broken, Buffer.alloc(3)],
      close: () => undefined,
    };
    const c = new IpvsClient(garbled);
    const list = await c.listServices();
    expect(list).toHaveLength(1);
    expect(c.counters.malformedEntries).toBe(2);
  });
});
