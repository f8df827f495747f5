/**
 * Benchmark: build 1,000 services × 10 destinations from an empty table through IpvsClient and read it back,
 * next to `ipvsadm -R` of the same table (and `ipvsadm -Sn` to read it back) in the same kernel. Runs inside
 * the VM (the host kernel may have no IPVS):
 *
 *   npm run bench:ipvs          (= bash scripts/vm/run.sh node --import tsx bench/ipvs-build.ts)
 *
 * Each side runs BENCH_RUNS times (default 3, alternating); medians are reported. Every build is checked
 * with ipvsadm (11,000 rules) so a fast wrong answer cannot win. Times are wall clock under qemu's software
 * emulation, so only the ratio carries over to real hardware.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { IpvsClient } from '../src/ipvs/ipvsClient.js';
import type { DestinationSpec, ServiceSpec } from '../src/ipvs/types.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const DESTS = Number(process.env.BENCH_DESTS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Entry {
  spec: ServiceSpec;
  destinations: DestinationSpec[];
}

function table(): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const address = `10.80.${Math.floor(i / 250)}.${1 + (i % 250)}`;
    const destinations: DestinationSpec[] = [];
    for (let j = 0; j < DESTS; j++) {
      destinations.push({ address: `10.81.${j}.${1 + (i % 250)}`, port: 8080, forwarding: 'nat', weight: 1 + j, upperThreshold: 0, lowerThreshold: 0 });
    }
    out.push({ spec: { key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address, port: 80 }, scheduler: 'wlc', onePacket: false, schedulerFlags: 0 }, destinations });
  }
  return out;
}

function ipvsadmRules(entries: Entry[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    const k = e.spec.key;
    if (k.kind !== 'address') continue;
    lines.push(`-A -t ${k.address}:${k.port} -s ${e.spec.scheduler}`);
    for (const d of e.destinations) lines.push(`-a -t ${k.address}:${k.port} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return `${lines.join('\n')}\n`;
}

function ipvsadm(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ipvsadm', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin?.end(input ?? '');
  });
}

function ruleCount(): number {
  return execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').filter((l) => l.trim()).length;
}

async function clientRun(ipvs: IpvsClient, entries: Entry[]): Promise<{ build: number; read: number }> {
  await ipvs.flush();
  const t0 = performance.now();
  // Every service in flight at once; within a service, its destinations after it. The transport pipelines.
  await Promise.all(
    entries.map(async (e) => {
      await ipvs.addService(e.spec);
      await Promise.all(e.destinations.map((d) => ipvs.addDestination(e.spec.key, d)));
    }),
  );
  const t1 = performance.now();
  const back = await ipvs.listTable();
  const t2 = performance.now();
  const dests = back.reduce((n, s) => n + s.destinations.length, 0);
  if (back.length !== SERVICES || dests !== SERVICES * DESTS) throw new Error(`client read back ${back.length} services, ${dests} destinations`);
  const rules = ruleCount();
  if (rules !== SERVICES * (DESTS + 1)) throw new Error(`ipvsadm sees ${rules} rules after the client's build`);
  return { build: t1 - t0, read: t2 - t1 };
}

async function ipvsadmRun(rules: string): Promise<{ build: number; read: number }> {
  await ipvsadm(['-C']);
  const t0 = performance.now();
  await ipvsadm(['-R'], rules);
  const t1 = performance.now();
  const saved = await ipvsadm(['-Sn']);
  const t2 = performance.now();
  const n = saved.split('\n').filter((l) => l.trim()).length;
  if (n !== SERVICES * (DESTS + 1)) throw new Error(`ipvsadm -R built ${n} rules`);
  return { build: t1 - t0, read: t2 - t1 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number): string => `${x.toFixed(0)} ms`.padStart(10);

async function main(): Promise<void> {
  if (!existsSync('/proc/net/ip_vs')) {
    console.error('bench/ipvs-build: this kernel has no IPVS; run it in the VM: npm run bench:ipvs');
    process.exitCode = 2;
    return;
  }
  const entries = table();
  const rules = ipvsadmRules(entries);
  const ipvs = await IpvsClient.open();
  const client: Array<{ build: number; read: number }> = [];
  const tool: Array<{ build: number; read: number }> = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      client.push(await clientRun(ipvs, entries));
      tool.push(await ipvsadmRun(rules));
    }
  } finally {
    await ipvs.flush();
    ipvs.close();
  }
  const c = { build: median(client.map((x) => x.build)), read: median(client.map((x) => x.read)) };
  const t = { build: median(tool.map((x) => x.build)), read: median(tool.map((x) => x.read)) };
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  console.log(`IPVS build: ${SERVICES} services × ${DESTS} destinations from empty, kernel ${kernel} (qemu TCG), median of ${RUNS}`);
  console.log(`${''.padEnd(28)}${'build'.padStart(10)}${'read back'.padStart(10)}${'total'.padStart(10)}`);
  console.log(`${'tslvsd IpvsClient'.padEnd(28)}${ms(c.build)}${ms(c.read)}${ms(c.build + c.read)}`);
  console.log(`${'ipvsadm -R / -Sn'.padEnd(28)}${ms(t.build)}${ms(t.read)}${ms(t.build + t.read)}`);
  console.log(`ratio client/ipvsadm: build ${(c.build / t.build).toFixed(2)}, read back ${(c.read / t.read).toFixed(2)}, total ${((c.build + c.read) / (t.build + t.read)).toFixed(2)}`);
  console.log(JSON.stringify({ bench: 'ipvs-build', kernel, services: SERVICES, destinations: DESTS, runs: RUNS, client, ipvsadm: tool }));
}

await main();
