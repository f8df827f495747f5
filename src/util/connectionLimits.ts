import type { Server, Socket } from 'node:net';

/**
 * Limits for the daemon's local listeners (metrics, status socket): a cap on open connections and an idle
 * timeout. Without them any local user could open connections and leave them idle until the daemon runs
 * out of descriptors — and a daemon without descriptors cannot run its track scripts or open sockets, so
 * a master would drop its VIP. Over the cap a connection is closed at once by the kernel-facing accept
 * path (node's `server.maxConnections`) and counted; an idle one is closed after `idleTimeoutMs`.
 */
export interface ListenerLimits {
  /** Open connections at most; the next ones are closed at once (default 32). */
  maxConnections: number;
  /** A connection with no traffic for this long is closed (default 10 s). */
  idleTimeoutMs: number;
}

export const DEFAULT_LISTENER_LIMITS: Readonly<ListenerLimits> = { maxConnections: 32, idleTimeoutMs: 10_000 };

/** What a listener did with its connections since start (exported as metrics). */
export interface ListenerCounters {
  accepted: number;
  /** Closed at once because `maxConnections` were open. */
  rejected: number;
  /** Closed by the idle (or headers/request) timeout. */
  timedOut: number;
}

export function newListenerCounters(): ListenerCounters {
  return { accepted: 0, rejected: 0, timedOut: 0 };
}

/**
 * Applies the cap to `server` and counts. The idle timeout is armed on every accepted socket unless
 * `armIdle` is false (node:http arms its own through `server.timeout`).
 */
export function applyListenerLimits(server: Server, limits: ListenerLimits, counters: ListenerCounters, armIdle = true): void {
  if (!Number.isInteger(limits.maxConnections) || limits.maxConnections < 1) throw new RangeError(`maxConnections ${limits.maxConnections}`);
  if (!(limits.idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs ${limits.idleTimeoutMs}`);
  server.maxConnections = limits.maxConnections;
  // 'drop': node closed the connection without handing it to us (the cap was reached).
  server.on('drop', () => counters.rejected++);
  server.on('connection', (socket: Socket) => {
    counters.accepted++;
    if (!armIdle) return;
    socket.setTimeout(limits.idleTimeoutMs, () => {
      counters.timedOut++;
      socket.destroy();
    });
  });
}
