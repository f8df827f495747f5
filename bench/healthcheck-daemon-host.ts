/**
 * CPU per check of the daemon's health-check composition on the host, where there is no IPVS: the same
 * generated keepalived.conf as bench/healthcheck-vm.ts (N TCP_CHECKs at delay_loop 1 on 127.x, one loopback
 * listener), compiled by the config compiler and run by the daemon's own HealthPart + HealthCheckService
 * (checker worker) + metrics registry, with the IPVS part replaced by a count of the decisions it would get.
 * What the VM bench's tslvsd runs, minus IPVS and start-up, measured with this process's CPU time.
 *
 *   npx tsx bench/healthcheck-daemon-host.ts [--servers 1000,2000,4000] [--seconds 15] [--port 18090]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfigFile } from '../src/config/compileFile.js';
import { HealthPart } from '../src/daemon/healthPart.js';
import { HealthCheckService } from '../src/healthcheck/service.js';
import { planFromConfig } from '../src/healthcheck/fromConfig.js';
import { readTlsMaterial } from '../src/healthcheck/tlsFiles.js';
import { hostScriptIdentity } from '../src/scripts/hostIdentity.js';
import { createDaemonMetrics } from '../src/metrics/registry.js';
import { SystemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { buildBenchConfig } from './healthcheck-vm-config.js';
import { LoopbackListener } from './helpers/loopbackChecks.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '1000,2000,4000' },
    seconds: { type: 'string', default: '15' },
    port: { type: 'string', default: '18090' },
  },
});
const SECONDS = Number(values.seconds);
const PORT = Number(values.port);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const listenerCpuUs = async (l: LoopbackListener): Promise<number> => Number((await l.ask('cpu')).split(' ')[1]);

async function measure(servers: number, listener: LoopbackListener): Promise<void> {
  const dir = '/tmp/hcbench-host';
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/hc-${servers}.conf`;
  writeFileSync(file, buildBenchConfig({ servers, victims: 0, port: PORT, victimPort: PORT + 1, perVirtualServer: 100, connectTimeoutS: 2 }).text);
  const loaded = loadConfigFile(file, { configId: 'hcbench', strict: false });
  if (!loaded.model) throw new Error(`${file}: ${loaded.errorCount} error(s)`);
  const metrics = createDaemonMetrics({}, { processMetrics: false });
  let decisions = 0;
  const clock = new SystemClock();
  const service = new HealthCheckService({ onTrouble: (m) => console.error(m) });
  const probes = async (): Promise<number> => (await service.snapshotView(10_000))?.counters.probes ?? NaN;
  const part = new HealthPart({
    runner: service,
    plan: (m) => planFromConfig(m, hostScriptIdentity, readTlsMaterial(m.ssl)),
    onRealServerChange: () => { decisions++; },
    observeCheckDuration: (type, seconds, count) => metrics.observeCheckDuration(type, seconds, count),
    clock,
    logger: silentLogger(),
  });
  await part.start(loaded.model);
  await sleep(8_000); // warmup 1 s, the worker's start, the first snapshots
  const cpu0 = process.cpuUsage();
  const l0 = await listenerCpuUs(listener);
  const t0 = performance.now();
  const n0 = await probes();
  await sleep(SECONDS * 1000);
  const n1 = await probes();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const l1 = await listenerCpuUs(listener);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const done = n1 - n0;
  const up = [...service.known.values()].reduce((n, vs) => n + [...vs.values()].filter((d) => d.alive && !d.sorryServer).length, 0);
  console.log(
    `${servers} checks, load ${loadavg()[0]!.toFixed(1)}: ${(done / wall).toFixed(0)} checks/s (asked ${servers}), CPU ${((cpuS / wall) * 100).toFixed(1)} % ` +
    `(user ${(cpu.user / 1e6).toFixed(2)} s, sys ${(cpu.system / 1e6).toFixed(2)} s), ${((cpuS / done) * 1e6).toFixed(1)} µs per check; ` +
    `listener ${(((l1 - l0) / 1e6 / wall) * 100).toFixed(1)} %; up ${up}/${servers}; ${decisions} IPVS decisions`,
  );
  await part.stop();
}

async function main(): Promise<void> {
  const listener = new LoopbackListener(PORT, PORT + 1);
  await listener.next();
  try {
    for (const n of values.servers.split(',').map(Number)) await measure(n, listener);
  } finally {
    listener.kill();
  }
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
