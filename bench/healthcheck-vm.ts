/**
 * Health checks side by side: Debian's keepalived 2.2.7 (`keepalived --check`) and `tslvsd --check-only`
 * read the same generated keepalived.conf — N real servers with TCP_CHECK at delay_loop 1 on 127.x
 * addresses, answered by one loopback listener — and program the kernel's IPVS table. Needs IPVS, hence
 * the project VM:
 *
 *   bash scripts/vm/run.sh node --import tsx bench/healthcheck-vm.ts [--servers 500,1000,2000] [--seconds 20]
 *        [--victims 50] [--directors keepalived,tslvsd,bundle]   (npm run bench:healthcheck-vm)
 *
 * Per director and N: time until the table holds all N destinations; checks per second achieved (connections
 * accepted by the listener); CPU of the daemon's process tree (threads and children, from /proc); RSS of
 * the tree at the end of the measured run (sum of VmRSS) and its peak (sum of VmHWM); detection latency (the victims' listener stops → each victim gone from /proc/net/ip_vs,
 * looked at every 100 ms, then confirmed by `ipvsadm -Ln`) and recovery latency (listener back → each victim
 * back). Ends with a side-by-side table and the ratios. keepalived runs as `keepalived -n -l -D -G --check`;
 * tslvsd as compiled JavaScript (see TSLVSD_ENTRY), as `npm ci` installs it, and ("bundle") as the Debian
 * package runs it: the esbuild bundle (built here by scripts/bundle.mjs) under the daemon's node flags (bench/helpers/daemonNodeFlags.ts).
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import { loadavg } from 'node:os';
import { buildBenchConfig } from './healthcheck-vm-config.js';
import { daemonNodeFlags } from './helpers/daemonNodeFlags.js';
import { cpuBetween, threadCpuSeconds, treeCpuSeconds, treeRssBytes } from './healthcheck-vm-proc.js';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '500,1000,2000' },
    seconds: { type: 'string', default: '20' },
    victims: { type: 'string', default: '50' },
    directors: { type: 'string', default: 'keepalived,tslvsd,bundle' },
    port: { type: 'string', default: '18080' },
    'connect-timeout': { type: 'string', default: '2' },
  },
});
const SERVER_COUNTS = values.servers.split(',').map(Number);
const SECONDS = Number(values.seconds);
const VICTIMS = Number(values.victims);
const PORT = Number(values.port);
const VICTIM_PORT = PORT + 1;
const CONNECT_TIMEOUT_S = Number(values['connect-timeout']);
type Director = 'keepalived' | 'tslvsd' | 'bundle';
const DIRECTORS = values.directors.split(',') as Director[];
const WORK = '/tmp/hcbench-vm';
const CHECKOUT = new URL('..', import.meta.url).pathname;

/** tslvsd is started as installed: `node bin/tslvsd.js --check-only …` (compiled JavaScript from dist/, no tsx). */
const TSLVSD_ENTRY = [`${CHECKOUT}bin/tslvsd.js`, '--config-id', 'hcbench'];
/** The bundle, as the package's unit runs it (its #! flags, scripts/package-deb.sh). */
const BUNDLE_DIR = `${WORK}/bundle`;
const BUNDLE_ENTRY = [...daemonNodeFlags(), `${BUNDLE_DIR}/tslvsd.mjs`, '--config-id', 'hcbench'];
/** Extra node options for tslvsd, space-separated (e.g. `--cpu-prof --cpu-prof-dir=DIR`: not allowed in NODE_OPTIONS). */
const TSLVSD_NODE_ARGS = (process.env.TSLVSD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

// Accepts on 0.0.0.0 (every 127.x reaches it), counts and closes: a select loop in Python, far cheaper per
// connection than a Node server on the emulated core, so the listener is not what limits the checks. The
// victims' port has its own socket, closed and reopened on command; `count` answers the total accepted.
const LISTENER = `
import os, select, socket, sys
port, victim_port = int(sys.argv[1]), int(sys.argv[2])
def listen(p):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', p))
    s.listen(4096)
    s.setblocking(False)
    return s
def say(*words):
    os.write(1, (' '.join(str(w) for w in words) + '\\n').encode())
main, victim, accepted, pending = listen(port), listen(victim_port), 0, b''
say('ready')
while True:
    readable, _, _ = select.select([0, main] + ([victim] if victim else []), [], [])
    for r in readable:
        if r == 0:
            data = os.read(0, 4096)
            if not data:
                sys.exit(0)
            pending += data
            while b'\\n' in pending:
                line, pending = pending.split(b'\\n', 1)
                cmd = line.decode().strip()
                if cmd == 'stop':
                    victim.close(); victim = None; say('stopped')
                elif cmd == 'start':
                    victim = listen(victim_port); say('started')
                elif cmd == 'count':
                    say('count', accepted)
            continue
        if r is not main and r is not victim:
            continue  # the victims' socket, closed by a command read in this same round
        while True:
            try:
                conn, _ = r.accept()
            except (BlockingIOError, InterruptedError):
                break
            conn.close()
            accepted += 1
`;

class Listener {
  private readonly lines: string[] = [];
  private readonly waiters: Array<(l: string) => void> = [];
  readonly child: ChildProcess;
  constructor() {
    this.child = spawn('python3', ['-c', LISTENER, String(PORT), String(VICTIM_PORT)], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l); else this.lines.push(l);
    });
  }
  next(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }
  ask(cmd: string): Promise<string> {
    this.child.stdin!.write(`${cmd}\n`);
    return this.next();
  }
  async count(): Promise<number> {
    return Number((await this.ask('count')).split(' ')[1]);
  }
}

/** `ADDR:PORT → weight` of the destinations `ipvsadm -Ln [-t SERVICE]` shows (the final judge). */
async function ipvsadmDestinations(service?: string): Promise<Map<string, number>> {
  const args = service ? ['-Ln', '-t', service] : ['-Ln'];
  const { stdout } = await run('ipvsadm', args, { maxBuffer: 64 * 2 ** 20 });
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^\s+->\s+(\d[\d.]*:\d+)\s+\S+\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** `7F010001:46A1` → `127.1.0.1:18081`. */
function fromHex(hostPort: string): string {
  const [host, port] = hostPort.split(':') as [string, string];
  const octets = [0, 2, 4, 6].map((i) => parseInt(host.slice(i, i + 2), 16));
  return `${octets.join('.')}:${parseInt(port, 16)}`;
}

/**
 * The same table read from /proc/net/ip_vs (what ipvsadm -Ln prints, in hex): a file read instead of a
 * process spawn per look, which on the emulated core is the difference between ~0.1 s and several
 * seconds between looks. `service` limits the answer to one TCP service's destinations.
 */
function destinations(service?: string): Map<string, number> {
  const out = new Map<string, number>();
  let current = '';
  for (const line of readFileSync('/proc/net/ip_vs', 'utf8').split('\n')) {
    const svc = /^(?:TCP|UDP|SCTP)\s+([0-9A-F]{8}:[0-9A-F]{4})\s/.exec(line);
    if (svc) { current = fromHex(svc[1]!); continue; }
    const dest = /^\s+->\s+([0-9A-F]{8}:[0-9A-F]{4})\s+\S+\s+(\d+)/.exec(line);
    if (dest && (!service || current === service)) out.set(fromHex(dest[1]!), Number(dest[2]));
  }
  return out;
}

/** The daemon under test, in its own process group; output kept for a post-mortem. */
class Daemon {
  readonly child: ChildProcess;
  readonly tail: string[] = [];
  exited: number | string | null = null;
  constructor(director: Director, configFile: string) {
    const tslvsdArgs = ['--check-only', '--config', configFile, '--metrics-listen', 'off', '--log-level', 'warn'];
    const [cmd, args] = director === 'keepalived'
      ? ['keepalived', ['-n', '-l', '-D', '-G', '--check', '-f', configFile, '-p', `${WORK}/keepalived.pid`, '-c', `${WORK}/checkers.pid`]] as const
      : [process.execPath, [...TSLVSD_NODE_ARGS, ...(director === 'bundle' ? BUNDLE_ENTRY : TSLVSD_ENTRY), ...tslvsdArgs]] as const;
    this.child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: s }).on('line', (l) => { this.tail.push(l); if (this.tail.length > 30) this.tail.shift(); });
    }
    this.child.on('exit', (code, signal) => { this.exited = code ?? signal; });
  }
  get pid(): number { return this.child.pid!; }
  /** SIGTERM (graceful: the daemon removes its IPVS entries), then SIGKILL to the whole group after 30 s. */
  async stop(): Promise<void> {
    if (this.exited === null) this.child.kill('SIGTERM');
    for (let i = 0; i < 300 && this.exited === null; i++) await sleep(100);
    try { process.kill(-this.pid, 'SIGKILL'); } catch { /* group already gone */ }
  }
}

interface Result {
  director: Director;
  servers: number;
  tableFullS: number;
  checksPerS: number;
  cpuPct: number;
  listenerCpuPct: number;
  machineBusyPct: number;
  peakRssMiB: number;
  /** Sum of VmRSS at the end of the measured run. */
  rssMiB: number;
  missingDuringRun: number;
  detect: number[];
  recover: number[];
  detected: number;
  recovered: number;
}

/** Busy and total jiffies of the whole (single-core) VM, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

/** Polls the victims' service until `done` holds for every victim; returns each victim's latency (ms). */
async function watchVictims(service: string, victims: string[], done: (d: Map<string, number>, v: string) => boolean, since: number, timeoutMs: number): Promise<number[]> {
  // Looks every 100 ms; a look itself takes a few ms, so a latency is known to ~0.1 s.
  const at = new Map<string, number>();
  while (at.size < victims.length && performance.now() - since < timeoutMs) {
    const d = destinations(service);
    const now = performance.now();
    for (const v of victims) if (!at.has(v) && done(d, v)) at.set(v, now - since);
    await sleep(100);
  }
  return [...at.values()].sort((a, b) => a - b);
}

async function measure(director: Director, servers: number, listener: Listener): Promise<Result> {
  await run('ipvsadm', ['-C']);
  const layout = buildBenchConfig({ servers, victims: VICTIMS, port: PORT, victimPort: VICTIM_PORT, perVirtualServer: 100, connectTimeoutS: CONNECT_TIMEOUT_S });
  const configFile = `${WORK}/hc-${servers}.conf`;
  writeFileSync(configFile, layout.text);
  console.log(`\n== ${director}, ${servers} real servers (${Math.ceil(servers / 100)} virtual servers), load ${loadavg()[0]!.toFixed(1)}`);

  const t0 = performance.now();
  const daemon = new Daemon(director, configFile);
  try {
    let inTable = 0;
    while (inTable < servers) {
      if (daemon.exited !== null) throw new Error(`${director} exited (${daemon.exited}):\n${daemon.tail.join('\n')}`);
      if (performance.now() - t0 > 180_000) throw new Error(`${director}: only ${inTable}/${servers} in the table after 180 s:\n${daemon.tail.join('\n')}`);
      await sleep(500);
      inTable = destinations().size;
    }
    const tableFullS = (performance.now() - t0) / 1000;
    // Settle: the checks must be running (every real server checked once since the table filled — a Node
    // daemon under emulation may still be loading its checker worker), then 10 s more; at most 120 s.
    const settleFrom = await listener.count();
    const settleStart = performance.now();
    while ((await listener.count()) - settleFrom < servers && performance.now() - settleStart < 110_000) await sleep(500);
    console.log(`table full (${servers} destinations) after ${tableFullS.toFixed(1)} s; checks running after ${((performance.now() - settleStart) / 1000).toFixed(1)} s more; settling 10 s`);
    await sleep(10_000);

    const cpu0 = treeCpuSeconds(daemon.pid);
    const threads0 = threadCpuSeconds(daemon.pid);
    const listenerCpu0 = treeCpuSeconds(listener.child.pid!);
    const machine0 = machineJiffies();
    const n0 = await listener.count();
    const w0 = performance.now();
    await sleep(SECONDS * 1000);
    const n1 = await listener.count();
    const cpu1 = treeCpuSeconds(daemon.pid);
    const threads1 = threadCpuSeconds(daemon.pid);
    const listenerCpu1 = treeCpuSeconds(listener.child.pid!);
    const machine1 = machineJiffies();
    const wall = (performance.now() - w0) / 1000;
    const peakRssMiB = treeRssBytes(daemon.pid, 'VmHWM') / 2 ** 20;
    const rssMiB = treeRssBytes(daemon.pid, 'VmRSS') / 2 ** 20;
    const busiest = [...threads1].map(([t, s]) => [t, ((s - (threads0.get(t) ?? 0)) / wall) * 100] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
    console.log(`busiest threads of the daemon's main process: ${busiest.map(([t, p]) => `${t} ${p.toFixed(1)} %`).join(', ')}`);
    const missingDuringRun = servers - (await ipvsadmDestinations()).size;
    const checksPerS = (n1 - n0) / wall;
    const cpuPct = (cpuBetween(cpu0, cpu1) / wall) * 100;
    const listenerCpuPct = (cpuBetween(listenerCpu0, listenerCpu1) / wall) * 100;
    const machineBusyPct = ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100;
    console.log(`checks/s ${checksPerS.toFixed(0)} (asked ${servers}), CPU ${cpuPct.toFixed(1)} % of the VM's core over ${cpu1.size} process(es), RSS ${rssMiB.toFixed(1)} MiB (peak ${peakRssMiB.toFixed(1)}), missing from table ${missingDuringRun}; listener CPU ${listenerCpuPct.toFixed(1)} %, whole VM busy ${machineBusyPct.toFixed(0)} %`);

    await listener.ask('stop');
    const stopAt = performance.now();
    const detect = await watchVictims(layout.victimService, layout.victims, (d, v) => !d.has(v), stopAt, 60_000);
    const ipvsadmSeesVictims = await ipvsadmDestinations(layout.victimService);
    const stillListed = layout.victims.filter((v) => ipvsadmSeesVictims.has(v)).length;
    console.log(`detection: ${detect.length}/${layout.victims.length} gone (ipvsadm -Ln then lists ${stillListed}), p50 ${pct(detect, 50).toFixed(0)} ms, max ${(detect.at(-1) ?? NaN).toFixed(0)} ms`);
    await listener.ask('start');
    const startAt = performance.now();
    const recover = await watchVictims(layout.victimService, layout.victims, (d, v) => d.has(v), startAt, 60_000);
    const ipvsadmSeesBack = await ipvsadmDestinations(layout.victimService);
    console.log(`recovery: ${recover.length}/${layout.victims.length} back (ipvsadm -Ln then lists ${layout.victims.filter((v) => ipvsadmSeesBack.has(v)).length}), p50 ${pct(recover, 50).toFixed(0)} ms, max ${(recover.at(-1) ?? NaN).toFixed(0)} ms`);
    // What the daemon itself said (tslvsd runs at --log-level warn: worker restarts, behind-schedule lines).
    if (director !== 'keepalived') for (const l of daemon.tail.slice(-8)) console.log(`  ${director}: ${l.slice(0, 400)}`);
    return { director, servers, tableFullS, checksPerS, cpuPct, listenerCpuPct, machineBusyPct, peakRssMiB, rssMiB, missingDuringRun, detect, recover, detected: detect.length, recovered: recover.length };
  } finally {
    await daemon.stop();
    await run('ipvsadm', ['-C']);
  }
}

function table(results: Result[]): string {
  const rows: string[] = [];
  const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
  for (const servers of SERVER_COUNTS) {
    const k = results.find((r) => r.servers === servers && r.director === 'keepalived');
    const t = results.find((r) => r.servers === servers && r.director === 'tslvsd');
    const b = results.find((r) => r.servers === servers && r.director === 'bundle');
    const line = (name: string, get: (r: Result) => number, digits = 0): string => {
      const kv = k ? get(k) : NaN;
      const tv = t ? get(t) : NaN;
      const bv = b ? get(b) : NaN;
      return `| ${servers.toLocaleString('en-US')} | ${name} | ${f(kv, digits)} | ${f(tv, digits)} | ${f(tv / kv, 2)} | ${f(bv, digits)} | ${f(bv / kv, 2)} |`;
    };
    rows.push(
      line(`checks per second (asked ${servers.toLocaleString('en-US')})`, (r) => r.checksPerS),
      line('CPU, % of the VM core (process tree)', (r) => r.cpuPct, 1),
      line('CPU of the listener, %', (r) => r.listenerCpuPct, 1),
      line('whole VM busy, %', (r) => r.machineBusyPct),
      line('real servers missing from the table in steady state', (r) => r.missingDuringRun),
      line('RSS at the end of the measured run, MiB (sum of VmRSS)', (r) => r.rssMiB, 1),
      line('peak RSS, MiB (sum of VmHWM)', (r) => r.peakRssMiB, 1),
      line('table full after start, s', (r) => r.tableFullS, 1),
      line(`detection p50, ms (${VICTIMS} victims)`, (r) => pct(r.detect, 50)),
      line('detection max, ms', (r) => (r.detected === VICTIMS ? r.detect.at(-1)! : NaN)),
      line('recovery p50, ms', (r) => pct(r.recover, 50)),
      line('recovery max, ms', (r) => (r.recovered === VICTIMS ? r.recover.at(-1)! : NaN)),
    );
  }
  return [
    '| real servers | figure | keepalived 2.2.7 | tslvsd (dist/) | / keepalived | tslvsd (bundle) | / keepalived |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync('/proc/net/ip_vs')) {
    console.error('healthcheck-vm: this kernel has no IPVS; run it in the VM: bash scripts/vm/run.sh node --import tsx bench/healthcheck-vm.ts');
    process.exit(2);
  }
  mkdirSync(WORK, { recursive: true });
  if (DIRECTORS.includes('bundle')) {
    const bundled = spawnSync(process.execPath, [`${CHECKOUT}scripts/bundle.mjs`, '--outdir', BUNDLE_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (bundled.status !== 0) throw new Error('scripts/bundle.mjs failed');
  }
  const version = await run('keepalived', ['--version']).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  const kv = `${version.stdout}${version.stderr}`;
  console.log(`healthcheck-vm: ${SERVER_COUNTS.join(', ')} real servers, TCP_CHECK delay_loop 1, connect_timeout ${CONNECT_TIMEOUT_S}, retry 1, delay_before_retry 1; ${VICTIMS} victims; ${SECONDS} s measured; node ${process.version}; ${kv.split('\n')[0] ?? ''}; tslvsd via bin/tslvsd.js (dist/) and the bundle`);
  const listener = new Listener();
  const results: Result[] = [];
  try {
    await listener.next(); // ready
    for (const servers of SERVER_COUNTS) {
      for (const director of DIRECTORS) {
        try {
          results.push(await measure(director, servers, listener));
        } catch (err) {
          console.log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
          process.exitCode = 1;
        }
      }
    }
  } finally {
    listener.child.kill();
  }
  const bad = results.filter((r) => r.detected < VICTIMS || r.recovered < VICTIMS || r.missingDuringRun !== 0);
  for (const r of bad) console.log(`WARNING ${r.director} ${r.servers}: detected ${r.detected}/${VICTIMS}, recovered ${r.recovered}/${VICTIMS}, missing during the run ${r.missingDuringRun}`);
  console.log(`\n${table(results)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
