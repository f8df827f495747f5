import { spawn } from 'node:child_process';
import path from 'node:path';
import { TslvsdProcess } from '../ns/helpers/daemons.js';
import { runCommand, tsxArgv } from '../ns/helpers/exec.js';

/** Helpers for the daemon's namespace tests: the real CLI in a namespace, its metrics, its status. */
const ENTRY = path.resolve('test/daemon/cliEntry.ts');

/** `tslvsd ARGS` inside a namespace (environment passed through: NOTIFY_SOCKET, WATCHDOG_USEC …). */
export function startDaemon(ns: string, args: string[], env: Record<string, string> = {}): TslvsdProcess {
  const [node, ...rest] = tsxArgv(ENTRY, args);
  const child = spawn('ip', ['netns', 'exec', ns, node!, ...rest], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new TslvsdProcess(ns, child);
}

/** `tslvsd status ARGS` (the status socket is a file: no namespace needed). */
export async function statusOf(socketPath: string, json = true): Promise<string> {
  const [node, ...rest] = tsxArgv(ENTRY, ['status', ...(json ? ['--json'] : []), '--status-socket', socketPath]);
  const result = await runCommand(node!, rest);
  if (result.code !== 0) throw new Error(`tslvsd status exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** One scrape of a metrics endpoint from inside a namespace; `{ 'name{labels}': value }`. */
export async function scrape(ns: string, url: string): Promise<Map<string, number>> {
  const result = await runCommand('ip', ['netns', 'exec', ns, 'curl', '-sf', '--max-time', '3', url]);
  if (result.code !== 0) throw new Error(`scrape ${url} in ${ns} failed (${result.code}): ${result.stderr}`);
  return parseExposition(result.stdout);
}

export function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}
