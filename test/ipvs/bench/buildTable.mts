/**
 * Benchmark, run as root inside the IPVS VM:
 *   bash scripts/vm/run.sh node --import tsx test/ipvs/bench/buildTable.mts
 * Builds 1,000 services x 10 destinations from an empty table through tslvsd's real path (IpvsService:
 * reconcile + client + netlink transport), reads it back (listTable), and times `ipvsadm -R` of the same table
 * (as written by `ipvsadm -Sn`), in the same VM. Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { IpvsClient } from '../../../src/ipvs/ipvsClient.js';
import { IpvsService } from '../../../src/ipvs/ipvsService.js';
import type { IpvsPlan } from '../../../src/ipvs/fromConfig.js';
import { SystemClock } from '../../../src/util/clock.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const DESTS = Number(process.env.BENCH_DESTS ?? 10);

const plan: IpvsPlan = { virtualServers: [], flushAtStart: false, flushOnStop: false, warnings: [] };
for (let i = 0; i < SERVICES; i++) {
  const address = `10.${100 + Math.floor(i / 250)}.${i % 250}.1`;
  plan.virtualServers.push({
    virtualServer: `${address}:80/TCP`,
    services: [{ key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address, port: 80 }, scheduler: 'wlc', onePacket: false, schedulerFlags: 0 }],
    realServers: Array.from({ length: DESTS }, (_, j) => ({
      key: `192.168.${j}.${(i % 250) + 1}:80`,
      destination: { address: `192.168.${j}.${(i % 250) + 1}`, port: 80 + Math.floor(i / 250), forwarding: 'dr' as const, weight: 1 + j, upperThreshold: 0, lowerThreshold: 0 },
      inhibitOnFailure: false,
      initiallyInTable: true,
      initialWeight: 1 + j,
    })),
  });
}

const ipvsadm = (args: string[], input?: string): string => execFileSync('ipvsadm', args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
// Without any route the kernel calls every destination "not unicast" (EINVAL): bring up lo first.
execFileSync('ip', ['link', 'set', 'lo', 'up']);
ipvsadm(['-C']);
const client = await IpvsClient.open();
const service = new IpvsService(client, { clock: new SystemClock(), resyncIntervalMs: 0 });

let t0 = performance.now();
const report = await service.start(plan);
const buildMs = performance.now() - t0;
t0 = performance.now();
const table = await client.listTable();
const readMs = performance.now() - t0;
const destCount = table.reduce((n, s) => n + s.destinations.length, 0);
t0 = performance.now();
const again = await service.syncNow();
const idleSyncMs = performance.now() - t0;

const saved = ipvsadm(['-Sn']);
await service.stop();
client.close();
ipvsadm(['-C']);
t0 = performance.now();
ipvsadm(['-R'], saved);
const ipvsadmRestoreMs = performance.now() - t0;
t0 = performance.now();
ipvsadm(['-Ln']);
const ipvsadmListMs = performance.now() - t0;
ipvsadm(['-C']);

console.log(
  JSON.stringify({
    services: table.length,
    destinations: destCount,
    operations: report.operations,
    failed: report.failed,
    idleSyncOperations: again.operations,
    tslvsdBuildMs: Math.round(buildMs),
    tslvsdReadMs: Math.round(readMs),
    tslvsdIdleSyncMs: Math.round(idleSyncMs),
    ipvsadmRestoreMs: Math.round(ipvsadmRestoreMs),
    ipvsadmListMs: Math.round(ipvsadmListMs),
    buildRatio: Number((buildMs / ipvsadmRestoreMs).toFixed(2)),
  }),
);
