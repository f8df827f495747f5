import { spawn } from 'node:child_process';
import type { LabHost } from '../../test/ns/helpers/netns.js';

/**
 * How regularly a master's adverts arrive, watched from the peer namespace: tcpdump's kernel receive
 * timestamps (-tt), so the watcher's own scheduling does not count. Returns |Δ − interval| in ms, sorted.
 */
export async function advertJitter(peer: LabHost, masterAddress: string, seconds: number, intervalMs: number): Promise<number[]> {
  const dump = spawn(
    'ip',
    ['netns', 'exec', peer.ns, 'timeout', String(seconds), 'tcpdump', '-i', peer.dev, '-tt', '-nn', '-l', `${masterAddress.includes(':') ? 'ip6' : 'ip'} proto 112 and src host ${masterAddress}`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let text = '';
  dump.stdout.on('data', (d: Buffer) => (text += d.toString()));
  await new Promise((resolve) => dump.on('exit', resolve));
  const times = text
    .split('\n')
    .map((l) => Number(l.split(' ')[0]))
    .filter((t) => Number.isFinite(t) && t > 0);
  const deltas: number[] = [];
  for (let i = 1; i < times.length; i++) deltas.push(Math.abs((times[i]! - times[i - 1]!) * 1000 - intervalMs));
  return deltas.sort((x, y) => x - y);
}

/** The value at percentile p of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
