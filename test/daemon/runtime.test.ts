import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/config/model.js';
import type { DaemonLifecycle } from '../../src/daemon/lifecycle.js';
import type { CompileOutcome, DaemonPart } from '../../src/daemon/parts.js';
import { runDaemonRuntime } from '../../src/daemon/runtime.js';
import { readStatus } from '../../src/daemon/statusSocket.js';
import { zeroVrrpCounters } from '../../src/metrics/sources.js';
import { SystemdNotifier } from '../../src/systemd/notify.js';
import { SystemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { instance, model } from './modelFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'td-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('daemon runtime (fake parts, real listeners, fake signal source)', () => {
  it('start → READY, metrics + status served; HUP reloads; USR1 dumps; TERM stops and cleans up', async () => {
    const signals = new EventEmitter();
    const sent: string[] = [];
    const notifier = new SystemdNotifier({ NOTIFY_SOCKET: '@td-runtime' }, { sendUnixDatagram: (_p, m) => (sent.push(m.toString()), m.length) });
    const events: string[] = [];
    const part: DaemonPart = {
      name: 'vrrp',
      start: async () => void events.push('start'),
      reload: async () => void events.push('reload'),
      stop: async () => void events.push('stop'),
    };
    let next: CompileOutcome = { ok: true, model: model({ vrrpInstances: [instance({ priority: 200 })] }), warnings: [] };
    let lifecycle: DaemonLifecycle | undefined;
    const paths = { status: join(dir, 'status.sock'), pid: join(dir, 'tslvsd.pid'), dump: join(dir, 'dump') };
    const running = runDaemonRuntime({
      version: '0.1.0',
      configFile: '/etc/tslvsd.conf',
      mode: 'vrrp-only',
      model: model(),
      compile: async (): Promise<CompileOutcome> => next,
      parts: [part],
      sources: {
        vrrp: {
          instances: () => [
            {
              name: 'VI_1',
              interface: 'eth0',
              vrid: 51,
              state: 'MASTER',
              basePriority: 100,
              effectivePriority: 100,
              vips: ['10.0.0.100'],
              lastTransitionEpochMs: Date.now(),
              counters: zeroVrrpCounters(),
            },
          ],
          scripts: () => [],
        },
      },
      metricsListen: { host: '127.0.0.1', port: 0 },
      statusSocket: paths.status,
      pidFile: paths.pid,
      stateDumpDirs: [paths.dump],
      logger: createLogger({ level: 'silent', format: 'json' }),
      notifier,
      clock: new SystemClock(),
      env: {},
      signals,
      onLifecycle: (l) => (lifecycle = l),
    });
    await until(() => sent.some((m) => m.startsWith('READY=1')));
    expect(events).toEqual(['start']);
    expect(readFileSync(paths.pid, 'utf8').trim()).toBe(String(process.pid));
    const status = await readStatus(paths.status);
    expect(status.mode).toBe('vrrp-only');
    expect(status.vrrpInstances[0]!.state).toBe('MASTER');

    signals.emit('SIGHUP');
    await until(() => events.includes('reload'));
    await until(() => sent.filter((m) => m.startsWith('READY=1')).length === 2);
    expect(sent.some((m) => m.startsWith('RELOADING=1\nMONOTONIC_USEC='))).toBe(true);

    next = { ok: false, errors: ['/etc/tslvsd.conf:9: error: bad'], warnings: [] };
    signals.emit('SIGHUP');
    await until(() => lifecycle?.lastReload?.successful === false);
    expect((await readStatus(paths.status)).lastReload).toMatchObject({ successful: false, errors: ['/etc/tslvsd.conf:9: error: bad'] });

    signals.emit('SIGUSR1');
    await until(() => existsSync(join(paths.dump, 'tslvsd.state.json')));
    expect(JSON.parse(readFileSync(join(paths.dump, 'tslvsd.state.json'), 'utf8'))).toMatchObject({ pid: process.pid, mode: 'vrrp-only' });

    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(events).toEqual(['start', 'reload', 'stop']);
    expect(sent).toContain('STOPPING=1\nSTATUS=stopping');
    expect(existsSync(paths.pid)).toBe(false);
    expect(existsSync(paths.status)).toBe(false);
    expect(signals.listenerCount('SIGHUP')).toBe(0);
  });

  it('a taken metrics port does not stop the start: the parts run, status shows it, the port is bound once free', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const signals = new EventEmitter();
    const started: string[] = [];
    const sock = join(dir, 'taken.sock');
    const running = runDaemonRuntime({
      version: '0.1.0',
      configFile: 'x',
      mode: 'full',
      model: model() as ConfigModel,
      compile: async () => ({ ok: false, errors: [], warnings: [] }),
      parts: [{ name: 'p', start: async () => void started.push('p'), reload: async () => {}, stop: async () => {} }],
      sources: {},
      metricsListen: { host: '127.0.0.1', port },
      statusSocket: sock,
      pidFile: undefined,
      logger: createLogger({ level: 'silent', format: 'json' }),
      notifier: new SystemdNotifier({}, { sendUnixDatagram: () => 0 }),
      clock: new SystemClock(),
      env: {},
      signals,
    });
    try {
      await until(() => started.length > 0);
      expect(started).toEqual(['p']);
      const retrying = await readStatus(sock, 5000);
      expect(retrying.metricsListener).toMatchObject({ listen: `127.0.0.1:${port}`, state: 'retrying', failures: 1 });
      expect(retrying.metricsListener?.error).toMatch(/EADDRINUSE/);
      await new Promise<void>((r) => blocker.close(() => r()));
      // First retry after 1 s, the next after 2 s: up within a few seconds of the port freeing.
      const deadline = Date.now() + 15_000;
      while ((await readStatus(sock, 5000)).metricsListener?.state !== 'up' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await readStatus(sock, 5000)).metricsListener?.state).toBe('up');
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
    } finally {
      blocker.close();
      signals.emit('SIGTERM');
      expect(await running).toBe(0);
    }
  });

  it('a pid file that cannot be made (under /proc) rejects at once with one sentence, before any part starts', async () => {
    const signals = new EventEmitter();
    const started: string[] = [];
    const begun = Date.now();
    await expect(
      runDaemonRuntime({
        version: '0.1.0',
        configFile: 'x',
        mode: 'full',
        model: model() as ConfigModel,
        compile: async () => ({ ok: false, errors: [], warnings: [] }),
        parts: [{ name: 'p', start: async () => void started.push('p'), reload: async () => {}, stop: async () => {} }],
        sources: {},
        metricsListen: undefined,
        statusSocket: join(dir, 'pid-fail.sock'),
        pidFile: '/proc/nope/x.pid',
        logger: createLogger({ level: 'silent', format: 'json' }),
        notifier: new SystemdNotifier({}, { sendUnixDatagram: () => 0 }),
        clock: new SystemClock(),
        env: {},
        signals,
      }),
    ).rejects.toThrow(/^--pid-file \/proc\/nope\/x\.pid: cannot create the directory \/proc\/nope \(ENOENT\)$/);
    // Node's recursive mkdir spun forever here (a core at 100 %, SIGTERM unheard): the answer is immediate.
    expect(Date.now() - begun).toBeLessThan(10_000);
    expect(started).toEqual([]);
    expect(existsSync(join(dir, 'pid-fail.sock'))).toBe(false);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('a status socket path longer than sun_path holds rejects with one sentence naming the limit', async () => {
    const long = join(dir, `${'s'.repeat(120)}.sock`);
    await expect(
      runDaemonRuntime({
        version: '0.1.0',
        configFile: 'x',
        mode: 'full',
        model: model() as ConfigModel,
        compile: async () => ({ ok: false, errors: [], warnings: [] }),
        parts: [],
        sources: {},
        metricsListen: undefined,
        statusSocket: long,
        pidFile: undefined,
        logger: createLogger({ level: 'silent', format: 'json' }),
        notifier: new SystemdNotifier({}, { sendUnixDatagram: () => 0 }),
        clock: new SystemClock(),
        env: {},
        signals: new EventEmitter(),
      }),
    ).rejects.toThrow(/is \d+ bytes long, more than the 107 a UNIX socket path can hold \(sun_path is 108 bytes\)/);
  });
});
