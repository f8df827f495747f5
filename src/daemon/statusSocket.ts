import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { applyListenerLimits, DEFAULT_LISTENER_LIMITS, newListenerCounters, type ListenerCounters, type ListenerLimits } from '../util/connectionLimits.js';
import { makeDirectory } from '../util/makeDirectory.js';
import { socketPathProblem } from './socketPath.js';
import type { DaemonStatus } from './status.js';

/**
 * The status socket: a UNIX stream socket (default /run/tslvsd/status.sock). Each connection gets the
 * current status as one JSON document and is closed — there is nothing to send, so nothing to parse and
 * nothing a client can break. `tslvsd status` is the client.
 */
export const DEFAULT_STATUS_SOCKET = '/run/tslvsd/status.sock';

export interface StatusSocketServer {
  path: string;
  /** Connections accepted, rejected over the cap, closed by the idle timeout. */
  counters: Readonly<ListenerCounters>;
  close(): Promise<void>;
}

/**
 * Limits (see ListenerLimits): at most 32 connections at once; one whose answer cannot be written (the
 * client does not read) is closed after 10 s. A connection is closed as soon as its document is written —
 * the data waits in the client's receive queue — so a client that never closes holds nothing.
 */
export async function startStatusServer(path: string, status: () => DaemonStatus, limits: ListenerLimits = DEFAULT_LISTENER_LIMITS): Promise<StatusSocketServer> {
  const problem = socketPathProblem(path);
  if (problem !== undefined) throw new Error(problem);
  try {
    makeDirectory(dirname(path), 0o750);
  } catch (err) {
    throw new Error(`the status socket ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  await removeStaleSocket(path);
  const counters = newListenerCounters();
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    let body: string;
    try {
      body = JSON.stringify(status()) + '\n';
    } catch (err) {
      body = JSON.stringify({ error: err instanceof Error ? err.message : String(err) }) + '\n';
    }
    socket.end(body, () => socket.destroy());
  });
  applyListenerLimits(server, limits, counters);
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
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        // server.close() unlinks the socket file itself.
        server.close(() => resolve());
      }),
  };
}

/**
 * A socket file left by a killed daemon refuses connections: remove it. One that answers belongs to a
 * running daemon: refuse to start a second one on it. Anything that is not a socket (a regular file, a
 * directory, a symbolic link — perhaps a typo in --status-socket) is never deleted: refuse.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error(`${path}: exists and is not a socket; refusing to replace it (remove it or choose another --status-socket)`);
  // Stale = nobody listens (ECONNREFUSED). Any other answer (EACCES, …) is not ours to judge: refuse.
  const probe = await new Promise<'alive' | 'stale' | string>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('alive');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'stale' : (err.code ?? err.message)));
  });
  if (probe === 'alive') throw new Error(`${path}: another tslvsd is already running (its status socket answers)`);
  if (probe !== 'stale') throw new Error(`${path}: cannot tell whether this socket is stale (${probe}); refusing to replace it`);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Reads one status document from a running daemon. */
export function readStatus(path: string, timeoutMs = 5000): Promise<DaemonStatus> {
  return new Promise((resolve, reject) => {
    const problem = socketPathProblem(path);
    if (problem !== undefined) {
      reject(new Error(problem));
      return;
    }
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
      if (chunks.length === 0) {
        reject(new Error(`${path}: closed without an answer (the daemon serves ${DEFAULT_LISTENER_LIMITS.maxConnections} status connections at a time: busy, try again)`));
        return;
      }
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
