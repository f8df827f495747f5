/**
 * Start-up benchmark (root; issue 16): from exec to READY=1 on the sd_notify socket and to the first VRRP
 * advert on the wire, tslvsd — both as `npm ci` installs it (bin/tslvsd.js over tsc's dist/) and as the
 * Debian package runs it (the esbuild bundle, built here by scripts/bundle.mjs into a temporary directory,
 * with the package's `#!/usr/bin/node --optimize-for-size`) — against
 * Debian's keepalived 2.2.7, on the same config: the seed config etc/tslvsd.conf.example, VRRP side only
 * (`--vrrp-only` / keepalived `--vrrp`: this host's kernel has no IPVS). The daemon runs in one namespace
 * of a veth pair, tcpdump in the other sees the adverts; a python3 AF_UNIX datagram socket stands in for
 * systemd's notify socket. keepalived sends READY=1 only under systemd as pid 1, so its "Startup complete"
 * console line (logged where it would notify) stands in. All times are wall-clock ms (the exec, the
 * datagram or line, tcpdump's -tt stamp). RSS is the daemon's process tree (VmRSS of the process and its
 * descendants) when its first advert is seen.
 * Also `--version` and `-t` of tslvsd, in-process wall time of a spawn.
 *
 *   npm run bench:startup -- [--runs 5]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sleep, waitFor } from '../test/ns/helpers/exec.js';
import { createVethLab, destroyLab, labPrefix, type LabHost } from '../test/ns/helpers/netns.js';
import { daemonNodeFlags } from './helpers/daemonNodeFlags.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(option('runs', '5'));
const PREFIX = labPrefix('bs');
const ROOT = path.resolve('.');
const BIN = path.join(ROOT, 'bin/tslvsd.js');
const CONFIG = path.join(ROOT, 'etc/tslvsd.conf.example');

/** python3 binds the notify socket and prints each datagram with its arrival time (epoch ms). */
const LISTENER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps([0, "LISTENING"]), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps([time.time() * 1000, data.decode("utf-8", "replace")]), flush=True)
`;

interface Stamped {
  at: number;
  text: string;
}

function lines(child: ChildProcess, stream: 'stdout' | 'stderr', sink: (line: string) => void): void {
  createInterface({ input: child[stream]! }).on('line', sink);
}

async function notifyListener(socketPath: string): Promise<{ messages: Stamped[]; child: ChildProcess }> {
  const child = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: Stamped[] = [];
  let listening = false;
  lines(child, 'stdout', (line) => {
    const [at, text] = JSON.parse(line) as [number, string];
    if (text === 'LISTENING') listening = true;
    else messages.push({ at, text });
  });
  await waitFor(() => listening, { timeoutMs: 10_000 });
  return { messages, child };
}

/** tcpdump in the peer namespace: every VRRP packet with its capture time (epoch ms). */
async function advertCapture(peer: LabHost): Promise<{ adverts: Stamped[]; child: ChildProcess }> {
  const child = spawn('ip', ['netns', 'exec', peer.ns, 'tcpdump', '-i', peer.dev, '-n', '-tt', '-l', '--immediate-mode', 'ip proto 112'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const adverts: Stamped[] = [];
  let listening = false;
  lines(child, 'stderr', (line) => {
    if (line.includes('listening on')) listening = true;
  });
  lines(child, 'stdout', (line) => {
    const at = Number(line.split(' ')[0]) * 1000;
    if (Number.isFinite(at)) adverts.push({ at, text: line });
  });
  await waitFor(() => listening, { timeoutMs: 10_000 });
  return { adverts, child };
}

type Impl = 'tslvsd' | 'bundle' | 'keepalived';
const IMPLS: readonly Impl[] = ['tslvsd', 'bundle', 'keepalived'];

interface Run {
  readyMs: number | undefined;
  advertMs: number | undefined;
  rssMiB: number | undefined;
}

/** VmRSS of a process and all its descendants, MiB; undefined once it is gone. */
function treeRssMiB(pid: number): number | undefined {
  try {
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    return children.reduce((sum, child) => sum + (treeRssMiB(child) ?? 0), kb / 1024);
  } catch {
    return undefined;
  }
}

async function oneRun(impl: Impl, host: LabHost, dir: string, notifySocket: string, notify: Stamped[], adverts: Stamped[], n: number): Promise<Run> {
  const tslvsdArgs = ['--vrrp-only', '-f', CONFIG, '--metrics-listen', 'off', '--status-socket', path.join(dir, `s${n}.sock`), '--log-level', 'warn'];
  const argv =
    impl === 'tslvsd'
      ? [process.execPath, BIN, ...tslvsdArgs]
      : impl === 'bundle'
        ? [process.execPath, ...daemonNodeFlags(), path.join(dir, 'bundle', 'tslvsd.mjs'), ...tslvsdArgs]
        : ['keepalived', '-n', '-l', '--vrrp', '-f', CONFIG, '-p', path.join(dir, `k${n}.pid`), '-r', path.join(dir, `v${n}.pid`)];
  const notifyFrom = notify.length;
  const begun = Date.now();
  const child = spawn('ip', ['netns', 'exec', host.ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: notifySocket } });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // keepalived sends READY=1 only when its parent is systemd as pid 1 (lib/systemd.c check_parent_systemd),
  // which a namespace run is not: its "Startup complete" console line is logged at the same point.
  let startupComplete: number | undefined;
  const onLine = (line: string): void => {
    if (startupComplete === undefined && line.includes('Startup complete')) startupComplete = Date.now();
    if (impl !== 'keepalived' && line.startsWith('tslvsd:')) process.stderr.write(`${line}\n`);
  };
  lines(child, 'stdout', onLine);
  lines(child, 'stderr', onLine);
  const ready =
    impl !== 'keepalived'
      ? await waitFor(() => notify.slice(notifyFrom).find((m) => m.text.split('\n').includes('READY=1')), { timeoutMs: 60_000 })
      : await waitFor(() => (startupComplete === undefined ? undefined : { at: startupComplete, text: 'Startup complete' }), { timeoutMs: 60_000 });
  const advert = await waitFor(() => adverts.find((a) => a.at >= begun), { timeoutMs: 60_000 });
  // `ip netns exec` execs the daemon in place: the child's pid is the daemon's.
  const rssMiB = child.pid === undefined ? undefined : treeRssMiB(child.pid);
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
  await exited;
  // The stop's own adverts (priority 0) must not count as the next run's first.
  await sleep(1500);
  return { readyMs: ready ? ready.at - begun : undefined, advertMs: advert ? advert.at - begun : undefined, rssMiB };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function cell(values: (number | undefined)[], unit = 'ms'): string {
  const seen = values.filter((v): v is number => v !== undefined);
  if (seen.length === 0) return 'never';
  const missing = values.length - seen.length;
  return `${median(seen).toFixed(0)} ${unit} (${Math.min(...seen).toFixed(0)}–${Math.max(...seen).toFixed(0)})${missing ? `, ${missing} missing` : ''}`;
}

function ratio(a: (number | undefined)[], b: (number | undefined)[]): string {
  const x = a.filter((v): v is number => v !== undefined);
  const y = b.filter((v): v is number => v !== undefined);
  return x.length && y.length ? `${(median(x) / median(y)).toFixed(2)}×` : '–';
}

/** Wall time of a short tslvsd command (spawn to exit), median of RUNS. */
function command(argv: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const begun = process.hrtime.bigint();
    spawnSync(process.execPath, [BIN, ...argv], { stdio: 'ignore' });
    out.push(Number(process.hrtime.bigint() - begun) / 1e6);
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/startup.ts needs root (namespaces, tcpdump)');
  await destroyLab(PREFIX);
  const [a, b] = await createVethLab(PREFIX, 'a', 'b', '192.168.10.1/24', '192.168.10.2/24');
  const dir = mkdtempSync(path.join(tmpdir(), 'tslvsd-bench-startup-'));
  const bundled = spawnSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), '--outdir', path.join(dir, 'bundle')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (bundled.status !== 0) throw new Error('scripts/bundle.mjs failed');
  const notifySocket = path.join(dir, 'notify.sock');
  const { messages, child: listener } = await notifyListener(notifySocket);
  const { adverts, child: tcpdump } = await advertCapture(b);
  const results: Record<Impl, Run[]> = { tslvsd: [], bundle: [], keepalived: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const impl of IMPLS) {
        const run = await oneRun(impl, a, dir, notifySocket, messages, adverts, i * IMPLS.length + IMPLS.indexOf(impl));
        results[impl].push(run);
        process.stderr.write(
          `run ${i + 1} ${impl}: READY=1 ${run.readyMs?.toFixed(0) ?? 'never'} ms, first advert ${run.advertMs?.toFixed(0) ?? 'never'} ms, RSS ${run.rssMiB?.toFixed(1) ?? '?'} MiB\n`,
        );
      }
    }
  } finally {
    listener.kill();
    tcpdump.kill();
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  }
  const version = command(['--version']);
  const test = command(['-t', '-f', CONFIG]);
  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  const k = results.keepalived;
  const rows = (['tslvsd', 'bundle'] as const).flatMap((impl) => {
    const t = results[impl];
    const name = impl === 'tslvsd' ? 'tslvsd (dist/)' : 'tslvsd (bundle)';
    return [
      [`${name}: exec → READY=1 (keepalived: "Startup complete")`, cell(t.map((r) => r.readyMs)), cell(k.map((r) => r.readyMs)), ratio(t.map((r) => r.readyMs), k.map((r) => r.readyMs))],
      [`${name}: exec → first advert on the wire`, cell(t.map((r) => r.advertMs)), cell(k.map((r) => r.advertMs)), ratio(t.map((r) => r.advertMs), k.map((r) => r.advertMs))],
      [`${name}: RSS of the process tree at the first advert`, cell(t.map((r) => r.rssMiB), 'MiB'), cell(k.map((r) => r.rssMiB), 'MiB'), ratio(t.map((r) => r.rssMiB), k.map((r) => r.rssMiB))],
    ];
  });
  console.log(`\nstart-up, ${RUNS} runs each, etc/tslvsd.conf.example (VRRP side), ${process.env.TSLVSD_VM === "1" ? "in the VM (TCG)" : "host"}, load ${load}; median (min–max)\n`);
  console.log('| | tslvsd | keepalived 2.2.7 | tslvsd / keepalived |');
  console.log('| --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(`\ntslvsd --version: ${cell(version)}; tslvsd -t -f etc/tslvsd.conf.example: ${cell(test)}`);
}

await main();
