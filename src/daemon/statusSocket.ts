import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { DaemonStatus } from './status.js';

/**
 * The status socket: a UNIX stream socket (default /run/tslvsd/status.sock). Each connection gets the
 * current status as one JSON document and is closed — there is nothing to send, so nothing to parse and
 * nothing a client can break. `tslvsd status` is the client.
 */
export const DEFAULT_STATUS_SOCKET = '/run/tslvsd/status.sock';

export interface StatusSocketServer {
  path: string;
  close(): Promise<void>;
}

export async function startStatusServer(path: string, status: () => DaemonStatus): Promise<StatusSocketServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  await removeStaleSocket(path);
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    let body: string;
    try {
      body = JSON.stringify(status()) + '\n';
    } catch (err) {
      body = JSON.stringify({ error: err instanceof Error ? err.message : String(err) }) + '\n';
    }
    socket.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Status shows addresses and topology: root (and its group) only.
  chmodSync(path, 0o660);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        // server.close() unlinks the socket file itself.
        server.close(() => resolve());
      }),
  };
}

/**
 * A socket file left by a killed daemon refuses connections: remove it. One that answers belongs to a
 * running daemon: refuse to start a second one on it.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`${path}: another tslvsd is already running (its status socket answers)`);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Reads one status document from a running daemon. */
export function readStatus(path: string, timeoutMs = 5000): Promise<DaemonStatus> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? ' (is tslvsd running? see --status-socket)' : '';
      reject(new Error(`${path}: ${err.code ?? err.message}${hint}`));
    });
    socket.once('end', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as DaemonStatus & { error?: string };
        if (parsed.error) reject(new Error(`daemon: ${parsed.error}`));
        else resolve(parsed);
      } catch {
        reject(new Error(`${path}: the answer is not a status document`));
      }
    });
  });
}
