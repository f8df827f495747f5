import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { applyListenerLimits, DEFAULT_LISTENER_LIMITS, newListenerCounters, type ListenerCounters, type ListenerLimits } from '../util/connectionLimits.js';

/**
 * The metrics listener: GET /metrics serves the registry in the Prometheus text format (node:http, no
 * framework). Any other path answers 404; a scrape that fails answers 500 without touching the daemon.
 */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9165';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `off` (→ undefined). Throws a one-line message on anything else. */
export function parseMetricsListen(value: string): ListenAddress | undefined {
  if (value === 'off') return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 0 || port > 65535) {
    throw new Error(`--metrics-listen: expected HOST:PORT, [IPV6]:PORT or off, got "${value}"`);
  }
  return { host: match[1] ?? match[2]!, port };
}

export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  address: ListenAddress;
  /** Connections accepted, rejected over the cap, closed by a timeout. */
  counters: Readonly<ListenerCounters>;
  close(): Promise<void>;
}

/**
 * The listener's limits: at most `maxConnections` open (32: a Prometheus server or two and a curl need a
 * handful), and a connection closes after `idleTimeoutMs` without traffic (10 s); the request headers
 * must arrive, and the whole request be read, within that same time.
 */
export async function startMetricsServer(listen: ListenAddress, registry: Registry, limits: ListenerLimits = DEFAULT_LISTENER_LIMITS): Promise<MetricsServer> {
  // Node checks the headers/request timeouts every connectionsCheckingInterval (30 s by default): at
  // that pace a connection that sends nothing would outlive its timeout by up to 30 s.
  const server: Server = createServer({ connectionsCheckingInterval: Math.min(1000, limits.idleTimeoutMs) }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<a href="/metrics">/metrics</a>\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    // The idle timeout is for clients that send nothing; a scrape being computed (IPVS statistics are read
    // at scrape time: seconds on a big table) is not idle. Re-armed once the answer is out.
    req.socket.setTimeout(0);
    res.once('finish', () => req.socket.setTimeout(limits.idleTimeoutMs));
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  // Scrapes are short; a stuck or idle client must not hold a socket (a descriptor) for long.
  const counters = newListenerCounters();
  server.timeout = limits.idleTimeoutMs;
  server.headersTimeout = limits.idleTimeoutMs;
  server.requestTimeout = limits.idleTimeoutMs;
  server.keepAliveTimeout = Math.min(5_000, limits.idleTimeoutMs);
  // An idle socket: close it (node:http would too when nobody listens, but then we could not count it).
  server.on('timeout', (socket: Socket) => {
    counters.timedOut++;
    socket.destroy();
  });
  // A request that does not arrive whole in time, or is not HTTP: answer it and close (what node:http
  // does without a listener), counting the timeouts.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timedOut) counters.timedOut++;
    if (socket.writable) socket.write(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  applyListenerLimits(server, limits, counters, false);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: listen.host, port: bound.port },
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
