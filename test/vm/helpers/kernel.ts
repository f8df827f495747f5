/**
 * The kernel side of the VM suites: whether this kernel has IPVS, which schedulers it offers, and ipvsadm as
 * the independent reader (and, where a test needs a table it did not write itself, writer) of the table.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** True inside the VM (or on any kernel with IPVS loaded); the suites skip themselves everywhere else. */
export const hasIpvs = existsSync('/proc/net/ip_vs');

/** Modules of IPVS that are not schedulers. */
const NOT_SCHEDULERS = new Set(['ip_vs', 'ip_vs_ftp', 'ip_vs_pe_sip']);

/**
 * The schedulers this kernel offers: the loaded ip_vs_* scheduler modules (the VM's init loads every one the
 * kernel ships; /proc has no list of registered schedulers).
 */
export function kernelSchedulers(): string[] {
  return readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith('ip_vs_') && !NOT_SCHEDULERS.has(name))
    .map((name) => name.slice('ip_vs_'.length))
    .sort();
}

export async function ipvsadm(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('ipvsadm', args, { encoding: 'utf8' });
  return stdout;
}

export function ipvsadmSync(...args: string[]): string {
  return execFileSync('ipvsadm', args, { encoding: 'utf8' });
}

/** `ipvsadm -Sn` as a sorted list of rules: the table in a form independent of dump order. */
export async function savedRules(): Promise<string[]> {
  return (await ipvsadm('-Sn'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .sort();
}

/** Applies rules in `ipvsadm -R` syntax (one per line) in a single ipvsadm run. */
export async function restoreRules(rules: readonly string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile('ipvsadm', ['-R'], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(`${rules.join('\n')}\n`);
  });
}

export interface ListedDestination {
  address: string;
  forward: string;
  weight: number;
  activeConnections: number;
  inactiveConnections: number;
}

export interface ListedStats {
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * `ipvsadm -Ln --exact --stats`: per service line ("TCP  10.0.0.1:80", "FWM  7") the counters, and per
 * destination ("  -> 10.0.0.2:80") its counters, keyed "service" / "service -> destination".
 */
export async function listedStats(): Promise<Map<string, ListedStats>> {
  const out = new Map<string, ListedStats>();
  let service = '';
  for (const line of (await ipvsadm('-Ln', '--exact', '--stats')).split('\n')) {
    const m = /^(TCP|UDP|SCTP|FWM)\s+(\S+(?: IPv6)?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    const d = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) {
      service = `${m[1]} ${m[2]}`;
      out.set(service, stats(m.slice(3)));
    } else if (d && service) {
      out.set(`${service} -> ${d[1]}`, stats(d.slice(2)));
    }
  }
  return out;
}

function stats(v: string[]): ListedStats {
  const [connections, packetsIn, packetsOut, bytesIn, bytesOut] = v.map(Number);
  return { connections, packetsIn, packetsOut, bytesIn, bytesOut };
}

/** `ipvsadm -Ln --thresholds`: "service -> destination" → [upper, lower]. */
export async function listedThresholds(): Promise<Map<string, [number, number]>> {
  const out = new Map<string, [number, number]>();
  let service = '';
  for (const line of (await ipvsadm('-Ln', '--exact', '--thresholds')).split('\n')) {
    const m = /^(TCP|UDP|SCTP|FWM)\s+(\S+)/.exec(line);
    const d = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+/.exec(line);
    if (m) service = `${m[1]} ${m[2]}`;
    else if (d && service) out.set(`${service} -> ${d[1]}`, [Number(d[2]), Number(d[3])]);
  }
  return out;
}

/** `ipvsadm -Ln --timeout`: [tcp, tcpfin, udp] seconds. */
export async function listedTimeouts(): Promise<[number, number, number]> {
  const m = /Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)/.exec(await ipvsadm('-Ln', '--timeout'));
  if (!m) throw new Error('ipvsadm printed no timeouts');
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Runs a program with argv and returns its stdout (throws with stderr on failure). */
export function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
