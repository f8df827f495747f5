/**
 * Benchmark, run as root inside the IPVS VM:
 *   bash scripts/vm/run.sh node --import tsx test/ipvs/bench/readBack.mts
 * Loads 1,000 services × 10 destinations with `ipvsadm -R`, then alternates, ROUNDS times each (default 5,
 * TSLVSD_BENCH_ROUNDS): `ipvsadm -Ln` (the yardstick), IpvsClient.listTable() with counters,
 * listTable({ withStats: false }), an idle IpvsService.syncNow() (full read) and an idle periodic sync
 * (partial read, default budget), both of which must find 0 operations. Prints medians and one JSON line.
 * Emulated CPU (qemu TCG): only ratios to ipvsadm carry over.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { IpvsClient } from '../../../src/ipvs/ipvsClient.js';
import { GenericNetlinkTransport } from '../../../src/ipvs/netlinkTransport.js';
import { IpvsService, type IpvsSyncEvent } from '../../../src/ipvs/ipvsService.js';
import type { IpvsPlan } from '../../../src/ipvs/fromConfig.js';
import { FakeClock } from '../../../src/util/clock.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const DESTS = Number(process.env.BENCH_DESTS ?? 10);
const ROUNDS = Number(process.env.TSLVSD_BENCH_ROUNDS ?? process.env.BENCH_ROUNDS ?? 5);

const plan: IpvsPlan = { virtualServers: [], flushAtStart: false, flushOnStop: false, warnings: [] };
const rules: string[] = [];
for (let i = 0; i < SERVICES; i++) {
  const address = `10.${100 + Math.floor(i / 250)}.${i % 250}.1`;
  rules.push(`-A -t ${address}:80 -s wlc`);
  const realServers = Array.from({ length: DESTS }, (_, j) => {
    const rs = { address: `192.168.${j}.${(i % 250) + 1}`, port: 80, forwarding: 'dr' as const, weight: 1 + j, upperThreshold: 0, lowerThreshold: 0 };
    rules.push(`-a -t ${address}:80 -r ${rs.address}:${rs.port} -g -w ${rs.weight}`);
    return { key: `${rs.address}:80`, destination: rs, inhibitOnFailure: false, initiallyInTable: true, initialWeight: rs.weight };
  });
  plan.virtualServers.push({
    virtualServer: `${address}:80/TCP`,
    services: [{ key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address, port: 80 }, scheduler: 'wlc', onePacket: false, schedulerFlags: 0 }],
    realServers,
  });
}

const ipvsadm = (args: string[], input?: string): string => execFileSync('ipvsadm', args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
execFileSync('ip', ['link', 'set', 'lo', 'up']);
ipvsadm(['-C']);
ipvsadm(['-R'], `${rules.join('\n')}\n`);

const transport = await GenericNetlinkTransport.open();
const client = new IpvsClient(transport);
// A fake clock fires the periodic sync on demand; the 'synced' event says when it is done.
const clock = new FakeClock(0);
let onSynced: ((e: IpvsSyncEvent) => void) | undefined;
const service = new IpvsService(client, { clock, resyncIntervalMs: 10_000, onEvent: (e) => e.kind === 'synced' && onSynced?.(e) });
const periodicSync = (): Promise<IpvsSyncEvent> =>
  new Promise((resolve) => {
    onSynced = resolve;
    clock.advance(10_000);
  });
const first = await service.start(plan);
if (first.operations !== 0) throw new Error(`start on the table ipvsadm built asked for ${first.operations} operations`);

const time = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};
const series = {
  ipvsadmList: [] as number[],
  readWithStats: [] as number[],
  readSettings: [] as number[],
  idleSync: [] as number[],
  idlePeriodicSync: [] as number[],
};
let periodicLists = 0;
for (let r = 0; r < ROUNDS; r++) {
  series.ipvsadmList.push(await time(() => ipvsadm(['-Ln'])));
  series.readWithStats.push(
    await time(async () => {
      const t = await client.listTable();
      const n = t.reduce((k, s) => k + s.destinations.length, 0);
      if (t.length !== SERVICES || n !== SERVICES * DESTS || t[0].stats === undefined) throw new Error(`read ${t.length}/${n}`);
    }),
  );
  series.readSettings.push(await time(() => client.listTable({ withStats: false })));
  series.idleSync.push(
    await time(async () => {
      const rep = await service.syncNow();
      if (rep.operations !== 0) throw new Error(`idle sync found ${rep.operations} operations`);
    }),
  );
  series.idlePeriodicSync.push(
    await time(async () => {
      const e = await periodicSync();
      if (e.kind !== 'synced' || e.read !== 'partial' || e.operations !== 0) throw new Error(`periodic sync: ${JSON.stringify(e)}`);
      periodicLists = e.destinationLists;
    }),
  );
}
// How many datagrams the kernel used (it sizes dump datagrams by our reads; recent kernels pack DONE too).
let before = transport.counters.datagramsReceived;
await client.listServices();
const serviceListDatagrams = transport.counters.datagramsReceived - before;
before = transport.counters.datagramsReceived;
await client.listTable();
const readBackDatagrams = transport.counters.datagramsReceived - before;
await service.stop();
client.close();
const left = ipvsadm(['-Sn']).trim();
if (left !== '') throw new Error('stop left entries behind');

const median = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
const m = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, median(v)])) as Record<keyof typeof series, number>;
const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim();
console.log(`read back ${SERVICES} × ${DESTS}, median of ${ROUNDS}: ipvsadm -Ln ${m.ipvsadmList} ms; listTable ${m.readWithStats} ms (${(m.readWithStats / m.ipvsadmList).toFixed(2)}×); without stats ${m.readSettings} ms (${(m.readSettings / m.ipvsadmList).toFixed(2)}×); idle full sync ${m.idleSync} ms; idle periodic sync ${m.idlePeriodicSync} ms (${periodicLists} destination lists)`);
console.log(`datagrams: service list ${serviceListDatagrams}, whole read-back ${readBackDatagrams} (${SERVICES + 1} dumps)`);
console.log(JSON.stringify({ bench: 'ipvs-read-back', services: SERVICES, destinations: DESTS, serviceListDatagrams, readBackDatagrams, medians: m, series: Object.fromEntries(Object.entries(series).map(([k, v]) => [k, v.map(Math.round)])), guestLoad: load }));
