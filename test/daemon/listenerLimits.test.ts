import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStatus, type DaemonStatus } from '../../src/daemon/status.js';
import { readStatus, startStatusServer } from '../../src/daemon/statusSocket.js';
import { registerListenerMetrics } from '../../src/metrics/listenerMetrics.js';
import { createDaemonMetrics } from '../../src/metrics/registry.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { DEFAULT_LISTENER_LIMITS } from '../../src/util/connectionLimits.js';

/**
 * The local listeners' limits, for real on loopback / a UNIX socket: over the cap a connection is closed at
 * once and counted, an idle one is closed after the idle timeout, a slow request after the headers
 * timeout; the status socket never deletes what is not a stale socket.
 */

const dir = mkdtempSync(join(tmpdir(), 'td-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Held {
  socket: Socket;
  /** performance.now() when the server closed it (undefined while open). */
  closedAt: number | undefined;
  received: number;
}

/** Opens a connection and keeps it idle (never writes, reads only to count bytes). */
function hold(target: { port: number; host: string } | { path: string }): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    const held: Held = { socket, closedAt: undefined, received: 0 };
    socket.on('data', (d: Buffer) => (held.received += d.length));
    socket.on('close', () => (held.closedAt ??= performance.now()));
    socket.once('connect', () => resolve(held));
    socket.once('error', (err) => (held.closedAt === undefined && !socket.connecting ? undefined : reject(err)));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

function status(extra = ''): DaemonStatus {
  const s = buildStatus({
    version: '0.1.0',
    pid: 1,
    startedAtEpochMs: 0,
    configFile: '/etc/tslvsd.conf',
    mode: 'full',
    lastReload: undefined,
    vrrpInstances: [],
    virtualServers: [],
  });
  return extra ? { ...s, configFile: extra } : s;
}

describe('limits', () => {
  it('defaults are documented: 32 connections, 10 s idle', () => {
    expect(DEFAULT_LISTENER_LIMITS).toEqual({ maxConnections: 32, idleTimeoutMs: 10_000 });
  });
});

describe('metrics listener limits', () => {
  it('closes connections over the cap at once, counts them, closes idle ones after the timeout, then serves', async () => {
    const metrics = createDaemonMetrics({}, { processMetrics: false });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics.registry, { maxConnections: 4, idleTimeoutMs: 600 });
    registerListenerMetrics(metrics.registry, () => [['metrics', server.counters]]);
    try {
      const target = { host: '127.0.0.1', port: server.address.port };
      const opened = performance.now();
      const held: Held[] = [];
      for (let i = 0; i < 10; i++) held.push(await hold(target));
      // Six over the cap: closed by the server well before the idle timeout.
      expect(await until(() => held.filter((h) => h.closedAt !== undefined).length >= 6, 400)).toBe(true);
      expect(server.counters.rejected).toBe(6);
      const early = held.filter((h) => h.closedAt !== undefined);
      for (const h of early) expect(h.closedAt! - opened).toBeLessThan(400);
      // The four admitted ones stay open until the idle timeout, then go too.
      expect(held.filter((h) => h.closedAt === undefined)).toHaveLength(4);
      expect(await until(() => held.every((h) => h.closedAt !== undefined), 3000)).toBe(true);
      for (const h of held.filter((x) => !early.includes(x))) expect(h.closedAt! - opened).toBeGreaterThanOrEqual(500);
      expect(server.counters.timedOut).toBe(4);
      const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(body).toContain('tslvsd_listener_connections_rejected_total{listener="metrics"} 6');
      expect(body).toContain('tslvsd_listener_connections_timed_out_total{listener="metrics"} 4');
    } finally {
      await server.close();
    }
  });

  it('a scrape that takes longer than the idle timeout to compute is answered, not cut', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'slow_source',
      help: 'read at scrape time, slowly (as IPVS statistics on a big table)',
      registers: [registry],
      async collect() {
        await sleep(1500);
        this.set(1);
      },
    });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry, { maxConnections: 4, idleTimeoutMs: 500 });
    try {
      const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
      expect(await res.text()).toContain('slow_source 1');
      expect(server.counters.timedOut).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('closes a client that trickles its request headers (slowloris) after the headers timeout', async () => {
    const metrics = createDaemonMetrics({}, { processMetrics: false });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics.registry, { maxConnections: 4, idleTimeoutMs: 800 });
    try {
      const h = await hold({ host: '127.0.0.1', port: server.address.port });
      const start = performance.now();
      h.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      // One header byte every 100 ms: never idle, never complete.
      const trickle = setInterval(() => h.socket.writable && h.socket.write('X'), 100);
      const closed = await until(() => h.closedAt !== undefined, 5000);
      clearInterval(trickle);
      expect(closed).toBe(true);
      expect(h.closedAt! - start).toBeGreaterThanOrEqual(700);
      expect(h.closedAt! - start).toBeLessThan(4000);
      expect(server.counters.timedOut).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('status socket limits', () => {
  it('closes each connection once its document is written, even if the client never closes', async () => {
    const path = join(dir, 'close.sock');
    const server = await startStatusServer(path, () => status(), { maxConnections: 4, idleTimeoutMs: 5000 });
    try {
      const held: Held[] = [];
      for (let i = 0; i < 20; i++) held.push(await hold({ path }));
      // All 20 got the document and were closed by the server long before the idle timeout.
      expect(await until(() => held.every((h) => h.closedAt !== undefined), 2000)).toBe(true);
      for (const h of held) expect(h.received).toBeGreaterThan(50);
      expect(server.counters.timedOut).toBe(0);
      expect((await readStatus(path)).version).toBe('0.1.0');
    } finally {
      await server.close();
    }
  });

  it('caps clients that do not read (a document too big to write), closes them after the idle timeout', async () => {
    const path = join(dir, 'cap.sock');
    // 8 MB: more than a UNIX socket buffers, so the write stays pending while the client does not read.
    const big = 'x'.repeat(8 * 1024 * 1024);
    const server = await startStatusServer(path, () => status(big), { maxConnections: 3, idleTimeoutMs: 600 });
    try {
      const held: Held[] = [];
      for (let i = 0; i < 8; i++) {
        const h = await hold({ path });
        h.socket.pause();
        held.push(h);
      }
      expect(await until(() => server.counters.rejected >= 5, 1000)).toBe(true);
      // `tslvsd status` meanwhile: a clear sentence, not a parse error.
      await expect(readStatus(path)).rejects.toThrow(/closed without an answer .*busy, try again/);
      expect(await until(() => server.counters.timedOut === 3, 4000)).toBe(true);
      expect(server.counters.rejected).toBe(6);
      for (const h of held) h.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('refuses to delete a regular file at the socket path, with one sentence', async () => {
    const path = join(dir, 'precious.txt');
    writeFileSync(path, 'keep me\n');
    await expect(startStatusServer(path, () => status())).rejects.toThrow(/^[^\n]*precious\.txt: exists and is not a socket; refusing to replace it[^\n]*$/);
    expect(readFileSync(path, 'utf8')).toBe('keep me\n');
  });

  it('the daemon started with --status-socket on a regular file: exit 1, one sentence, the file untouched', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'precious\n');
    const conf = join(dir, 'empty.conf');
    writeFileSync(conf, 'global_defs {\n  router_id t\n}\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/daemon/cliEntry.ts', '--config', conf, '--vrrp-only', '--metrics-listen', 'off', '--status-socket', path], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`tslvsd: ${path}: exists and is not a socket; refusing to replace it (remove it or choose another --status-socket)`);
    expect(readFileSync(path, 'utf8')).toBe('precious\n');
  }, 70_000);

  it('replaces a stale socket (bound, nobody listening) and refuses one that answers', async () => {
    const path = join(dir, 'stale.sock');
    // A socket file nobody listens on, as a killed daemon leaves it.
    execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
    expect(lstatSync(path).isSocket()).toBe(true);
    const server = await startStatusServer(path, () => status());
    try {
      expect((await readStatus(path)).pid).toBe(1);
      await expect(startStatusServer(path, () => status())).rejects.toThrow(/another tslvsd is already running/);
      expect(existsSync(path)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
