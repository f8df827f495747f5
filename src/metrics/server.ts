import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

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
  close(): Promise<void>;
}

export async function startMetricsServer(listen: ListenAddress, registry: Registry): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
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
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  // Scrapes are short; a stuck client must not hold a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
