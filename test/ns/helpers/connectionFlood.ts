import { runCommand } from './exec.js';

/**
 * Opens many idle connections to a listener from inside a namespace — optionally as `nobody` through
 * `setpriv` (argv, no shell) — holds them, and reports what the server did with them. The client is a
 * small node program passed with `node -e`, so it needs no file a dropped user could not read.
 */
export interface FloodReport {
  /** Connections that were established. */
  opened: number;
  /** Errors by code (EACCES, ECONNREFUSED, ECONNRESET, …). */
  errors: Record<string, number>;
  /** Established connections the server closed within 3 s of their connect. */
  closedWithin3s: number;
  /** Established connections still open 5 s after the start. */
  openAt5s: number;
  /** Still open at the end of the hold. */
  openAtEnd: number;
}

const CLIENT = String.raw`
const net = require('node:net');
const [kind, where, port, count, holdMs] = process.argv.slice(1);
const sockets = [];
const report = { opened: 0, errors: {}, closedWithin3s: 0, openAt5s: 0, openAtEnd: 0 };
const isOpen = (s) => s.connectedAt !== undefined && !s.closed;
for (let i = 0; i < Number(count); i++) {
  const s = kind === 'tcp' ? net.connect(Number(port), where) : net.connect(where);
  s.on('connect', () => { report.opened++; s.connectedAt = Date.now(); });
  s.on('error', (e) => { report.errors[e.code] = (report.errors[e.code] || 0) + 1; });
  s.on('data', () => {});
  s.on('close', () => { s.closed = true; if (s.connectedAt !== undefined && Date.now() - s.connectedAt < 3000) report.closedWithin3s++; });
  sockets.push(s);
}
setTimeout(() => { report.openAt5s = sockets.filter(isOpen).length; }, 5000);
setTimeout(() => {
  report.openAtEnd = sockets.filter(isOpen).length;
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(0);
}, Number(holdMs));
`;

export type FloodTarget = { tcp: { host: string; port: number } } | { unix: string };

export async function flood(ns: string, target: FloodTarget, count: number, holdMs: number, asNobody: boolean): Promise<FloodReport> {
  const where = 'tcp' in target ? ['tcp', target.tcp.host, String(target.tcp.port)] : ['unix', target.unix, '0'];
  const drop = asNobody ? ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'] : [];
  const result = await runCommand('ip', ['netns', 'exec', ns, ...drop, process.execPath, '-e', CLIENT, ...where, String(count), String(holdMs)], holdMs + 20_000);
  if (result.code !== 0) throw new Error(`flood client exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as FloodReport;
}
