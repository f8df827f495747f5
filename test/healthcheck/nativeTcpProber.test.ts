import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Worker } from 'node:worker_threads';
import { NativeTcpProber, nativeTcpProber } from '../../src/healthcheck/checkers/nativeTcpProber.js';
import { probeTcpWithNodeSocket } from '../../src/healthcheck/checkers/tcp.js';
import type { ConnectTarget, TcpCheckSpec } from '../../src/healthcheck/plan.js';
import type { ProbeResult } from '../../src/healthcheck/result.js';

/** The native TCP_CHECK prober gives the verdicts the Node socket path gives, on real loopback sockets. */
const prober = nativeTcpProber();
const timing = { delayLoopMs: 1_000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1_000, alpha: false };
const both = async (target: ConnectTarget): Promise<[ProbeResult, ProbeResult]> => {
  const spec: TcpCheckSpec = { type: 'TCP_CHECK', timing, target };
  return Promise.all([prober!.probe(target), probeTcpWithNodeSocket(spec)]);
};

let server: Server;
let port = 0;
const accepted: Array<{ address: string | undefined; port: number | undefined }> = [];
/** A listener that never accepts, its queue full: further SYNs are dropped, so connects hang. */
let deaf: ChildProcess;
let deafPort = 0;
const fillers: Socket[] = [];

beforeAll(async () => {
  server = createServer((c) => {
    accepted.push({ address: c.remoteAddress, port: c.remotePort });
    c.on('error', () => {});
    c.destroy();
  });
  // 0.0.0.0: every 127.x.y.z reaches it.
  await new Promise<void>((r) => server.listen({ port: 0, host: '0.0.0.0', backlog: 4096 }, () => r()));
  port = (server.address() as AddressInfo).port;
  deaf = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(3600)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  deafPort = Number(await new Promise<string>((r) => createInterface({ input: deaf.stdout! }).once('line', r)));
  for (let i = 0; i < 3; i++) {
    const s = connect(deafPort, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 300));
});
afterAll(async () => {
  for (const s of fillers) s.destroy();
  deaf?.kill('SIGKILL');
  await new Promise((r) => server.close(r));
});

describe.skipIf(!prober)('native TCP connect prober', () => {
  it('connected: up, as the Node path', async () => {
    const [n, s] = await both({ host: '127.0.0.1', port, timeoutMs: 2_000 });
    expect(n).toMatchObject({ up: true, reason: 'connected' });
    expect(s).toMatchObject({ up: true, reason: 'connected' });
    expect(n.timedOutLateMs).toBeUndefined();
  });

  it('refused: down with the same reason, at once', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const [n, s] = await both({ host: '127.0.0.1', port: closedPort, timeoutMs: 2_000 });
    expect(n).toMatchObject({ up: false, reason: 'connection refused' });
    expect(s).toMatchObject({ up: false, reason: 'connection refused' });
    expect(n.durationMs).toBeLessThan(1_000);
  });

  it('no handshake within connect_timeout: a timeout, marked as one, after the timeout', async () => {
    const started = performance.now();
    const [n, s] = await both({ host: '127.0.0.1', port: deafPort, timeoutMs: 400 });
    expect(n).toMatchObject({ up: false, reason: 'connect timeout after 400 ms' });
    expect(s).toMatchObject({ up: false, reason: 'connect timeout after 400 ms' });
    expect(n.timedOutLateMs).toBeGreaterThanOrEqual(0);
    expect(n.durationMs).toBeGreaterThanOrEqual(390);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(prober!.pending).toBe(0);
  });

  it('bind_to / bind_port: the connection comes from there', async () => {
    accepted.length = 0;
    const r = await prober!.probe({ host: '127.0.0.1', port, timeoutMs: 2_000, bindTo: '127.0.0.2' });
    expect(r.up).toBe(true);
    await new Promise((res) => setTimeout(res, 100));
    expect(accepted.at(-1)?.address).toBe('127.0.0.2');
    const bad = await prober!.probe({ host: '127.0.0.1', port, timeoutMs: 2_000, bindTo: '::1' });
    expect(bad).toMatchObject({ up: false });
  });

  it('takes plain IP literals only: a scoped address or a name goes through Node', () => {
    expect(NativeTcpProber.accepts({ host: '127.0.0.1', port: 1, timeoutMs: 1 })).toBe(true);
    expect(NativeTcpProber.accepts({ host: '::1', port: 1, timeoutMs: 1, bindTo: '::1' })).toBe(true);
    expect(NativeTcpProber.accepts({ host: 'fe80::1%lo', port: 1, timeoutMs: 1 })).toBe(false);
    expect(NativeTcpProber.accepts({ host: 'localhost', port: 1, timeoutMs: 1 })).toBe(false);
  });

  it('thousands at once, mixed with timeouts: every probe answered once, none left pending', async () => {
    const targets: ConnectTarget[] = [];
    for (let i = 0; i < 3_000; i++) targets.push({ host: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, port, timeoutMs: 3_000 });
    for (let i = 0; i < 5; i++) targets.push({ host: '127.0.0.1', port: deafPort, timeoutMs: 300 });
    const results = await Promise.all(targets.map((t) => prober!.probe(t)));
    expect(results.slice(0, 3_000).filter((r) => !r.up)).toEqual([]);
    expect(results.slice(3_000).map((r) => r.reason)).toEqual(Array(5).fill('connect timeout after 300 ms'));
    expect(prober!.pending).toBe(0);
  });
});

describe.skipIf(!prober)('native TCP connect prober in a checker worker', () => {
  it('a worker terminated with probes in flight and results waiting does not take the process down', async () => {
    const { HealthCheckService } = await import('../../src/healthcheck/service.js');
    const realServers = [];
    for (let i = 0; i < 2_000; i++) {
      realServers.push({
        key: `rs${i}`, weight: 1, inhibitOnFailure: false,
        checkers: [{ type: 'TCP_CHECK' as const, timing: { ...timing, warmupMs: 1_000 }, target: { host: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, port, timeoutMs: 2_000 } }],
      });
    }
    const svc = new HealthCheckService({ heartbeatTimeoutMs: 60_000, restartDelayMs: 100 });
    try {
      svc.start({ virtualServers: [{ key: 'vs', quorum: 1, hysteresis: 0, omega: false, realServers }] });
      for (let round = 0; round < 4; round++) {
        await new Promise((r) => setTimeout(r, 1_500));
        const slots = (svc as unknown as { slots: Array<{ worker?: Worker }> }).slots;
        // Answers pile up in the kernel while the loop is stalled; the worker is terminated as it resumes.
        slots[0]!.worker?.postMessage({ type: 'stall', ms: 1_000 });
        await new Promise((r) => setTimeout(r, 1_000));
        await svc.terminateWorker(0);
      }
      // The last worker (restarted after 0.8 s, then loading and warming up) checks again.
      let probes = 0;
      for (let i = 0; i < 40 && probes === 0; i++) {
        await new Promise((r) => setTimeout(r, 500));
        probes = (await svc.snapshot(10_000))?.counters.probes ?? 0;
      }
      expect(probes).toBeGreaterThan(0);
      expect(svc.restarts).toBe(4);
    } finally {
      await svc.stop();
    }
  }, 60_000);
});

describe.skipIf(!prober)('native TCP prober: standing watches (a steady checker repeated without JavaScript)', () => {
  type Counted = { checks: number; failures: number; lastReason: string | null };
  const watcher = (target: ConnectTarget, expectUp: boolean, intervalMs = 50) => {
    const counted: Counted = { checks: 0, failures: 0, lastReason: null };
    let deviation: ProbeResult | undefined;
    let countedAtDeviation = -1;
    const id = prober!.watch({
      target, firstDelayMs: 0, intervalMs, expectUp,
      onCounted: (checks, failures, _ms, reason) => {
        counted.checks += checks;
        counted.failures += failures;
        if (reason !== null) counted.lastReason = reason;
      },
      onDeviation: (r) => {
        deviation = r;
        countedAtDeviation = counted.checks;
      },
    });
    return { id, counted, deviation: () => deviation, countedAtDeviation: () => countedAtDeviation };
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const until = async (what: () => boolean, ms = 5_000): Promise<void> => {
    for (const end = performance.now() + ms; !what() && performance.now() < end;) await sleep(10);
  };
  const listen = async (at = 0): Promise<{ server: Server; port: number; accepts: () => number }> => {
    let n = 0;
    const server = createServer((c) => {
      n++;
      c.on('error', () => {});
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(at, '127.0.0.1', () => r()));
    return { server, port: (server.address() as AddressInfo).port, accepts: () => n };
  };

  it('an UP target: connects every interval, counted, no deviation; the listener going away is reported once', async () => {
    const l = await listen();
    const w = watcher({ host: '127.0.0.1', port: l.port, timeoutMs: 1_000 }, true);
    expect(w.id).toBeDefined();
    await sleep(600);
    prober!.collect();
    expect(w.counted.checks).toBeGreaterThanOrEqual(5);
    expect(w.counted.failures).toBe(0);
    expect(w.counted.lastReason).toBe('connected');
    expect(l.accepts()).toBeGreaterThanOrEqual(w.counted.checks);
    expect(w.deviation()).toBeUndefined();
    await new Promise((r) => l.server.close(r));
    await until(() => w.deviation() !== undefined);
    expect(w.deviation()).toMatchObject({ up: false, reason: 'connection refused' });
    // What it had counted came first; the watch has ended.
    expect(w.countedAtDeviation()).toBe(w.counted.checks);
    expect(prober!.unwatch(w.id!)).toBe(0);
  });

  it('its timer is never armed for 0 ms, even for a launch due at once (libuv < 1.48 spins on that)', async () => {
    const l = await listen();
    await sleep(30); // past the launch grid of earlier launches: the watch below is due now
    const w = watcher({ host: '127.0.0.1', port: l.port, timeoutMs: 1_000 }, true);
    // Armed from JavaScript here, but ArmTimer is the same call OnTimer makes when a deadline is overdue:
    // a 0 there ran the callback again in the same uv__run_timers pass, for good (libuv#4245).
    expect(prober!.armedDelayMs).toBeGreaterThanOrEqual(1);
    await until(() => (prober!.collect(), w.counted.checks >= 2));
    expect(w.counted.failures).toBe(0);
    expect(prober!.armedDelayMs).toBeGreaterThanOrEqual(1);
    prober!.unwatch(w.id!);
    await new Promise((r) => l.server.close(r));
  });

  it('a DOWN target: failures counted; the first success is reported', async () => {
    const l = await listen();
    const freePort = l.port;
    await new Promise((r) => l.server.close(r));
    const w = watcher({ host: '127.0.0.1', port: freePort, timeoutMs: 1_000 }, false);
    await sleep(400);
    prober!.collect();
    expect(w.counted.checks).toBeGreaterThanOrEqual(3);
    expect(w.counted.failures).toBe(w.counted.checks);
    expect(w.counted.lastReason).toBe('connection refused');
    expect(w.deviation()).toBeUndefined();
    const back = await listen(freePort);
    await until(() => w.deviation() !== undefined);
    expect(w.deviation()).toMatchObject({ up: true, reason: 'connected' });
    await new Promise((r) => back.server.close(r));
  });

  it('a DOWN target that does not answer: timeouts counted as failures', async () => {
    const w = watcher({ host: '127.0.0.1', port: deafPort, timeoutMs: 100 }, false, 20);
    await sleep(700);
    prober!.collect();
    expect(w.counted.checks).toBeGreaterThanOrEqual(2);
    expect(w.counted.failures).toBe(w.counted.checks);
    expect(w.counted.lastReason).toBe('connect timeout after 100 ms');
    expect(w.deviation()).toBeUndefined();
    prober!.unwatch(w.id!);
    expect(prober!.pending).toBe(0);
  });

  it('unwatch: the counts so far are reported, no connect after it, and when the next was due', async () => {
    const l = await listen();
    const w = watcher({ host: '127.0.0.1', port: l.port, timeoutMs: 1_000 }, true, 200);
    await sleep(300);
    const dueIn = prober!.unwatch(w.id!);
    expect(w.counted.checks).toBeGreaterThanOrEqual(1);
    expect(dueIn).toBeGreaterThanOrEqual(0);
    expect(dueIn).toBeLessThanOrEqual(200);
    const accepts = l.accepts();
    await sleep(500);
    expect(l.accepts()).toBe(accepts);
    expect(w.deviation()).toBeUndefined();
    await new Promise((r) => l.server.close(r));
  });

  it('a thousand watches at once keep their interval, with no JavaScript per check', async () => {
    const ws = [];
    for (let i = 0; i < 1_000; i++) ws.push(watcher({ host: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, port, timeoutMs: 2_000 }, true, 200));
    await sleep(1_100);
    const lateness = prober!.collect();
    const checks = ws.map((w) => w.counted.checks);
    for (const w of ws) prober!.unwatch(w.id!);
    expect(ws.filter((w) => w.deviation() !== undefined)).toEqual([]);
    // 1.1 s at a 200 ms interval: 5 or 6 each on a healthy machine; at least 2 on a very busy one.
    expect(Math.min(...checks)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...checks)).toBeLessThanOrEqual(7);
    expect(lateness.maxLateMs).toBeGreaterThanOrEqual(0);
    expect(prober!.pending).toBe(0);
  });
});
