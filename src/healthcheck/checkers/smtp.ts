import type { SmtpCheckSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { describeSocketError, openConnection } from './tcp.js';

/**
 * SMTP_CHECK: the server's banner must be 220, the answer to HELO must be 250; then QUIT.
 * connect_timeout bounds each step.
 */
export async function probeSmtp(spec: SmtpCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  const ms = (): number => performance.now() - started;
  const conn = await openConnection(spec.target);
  if ('error' in conn) return downResult(conn.error, ms());
  const socket = conn.socket;
  let buffered = '';
  let waiter: ((line: string | Error) => void) | undefined;
  const lines: string[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffered += d;
    let i: number;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i).replace(/\r$/, '');
      buffered = buffered.slice(i + 1);
      // Multi-line replies ("250-...") end with the line whose 4th char is a space.
      if (/^\d{3}-/.test(line)) continue;
      lines.push(line);
    }
    if (lines.length && waiter) waiter(lines.shift()!);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => waiter?.(new Error(describeSocketError(err))));
  socket.on('close', () => waiter?.(new Error('connection closed')));
  const reply = (): Promise<string> =>
    new Promise((resolve, reject) => {
      if (lines.length) {
        resolve(lines.shift()!);
        return;
      }
      const timer = setTimeout(() => reject(new Error(`timeout after ${spec.target.timeoutMs} ms`)), spec.target.timeoutMs);
      waiter = (v) => {
        clearTimeout(timer);
        waiter = undefined;
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
    });
  try {
    const banner = await reply();
    if (!banner.startsWith('220')) return downResult(`banner: ${banner.slice(0, 80)}`, ms());
    socket.write(`HELO ${spec.heloName}\r\n`);
    const helo = await reply();
    if (!helo.startsWith('250')) return downResult(`HELO: ${helo.slice(0, 80)}`, ms());
    socket.write('QUIT\r\n');
    return upResult('banner 220, HELO 250', ms());
  } catch (err) {
    return downResult((err as Error).message, ms());
  } finally {
    socket.destroy();
  }
}
