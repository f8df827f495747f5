import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/config/model.js';
import type { ConfigDiff } from '../../src/daemon/configDiff.js';
import { DaemonLifecycle } from '../../src/daemon/lifecycle.js';
import type { CompileOutcome, DaemonPart } from '../../src/daemon/parts.js';
import { SerialRunner } from '../../src/daemon/serialRunner.js';
import { installSignalHandlers } from '../../src/daemon/signals.js';
import { createLogger } from '../../src/util/log.js';
import { instance, model, vip } from './modelFixtures.js';

class RecordingPart implements DaemonPart {
  diffs: ConfigDiff[] = [];
  constructor(
    readonly name: string,
    private readonly events: string[],
    private readonly failOn?: 'start' | 'stop' | 'reload',
  ) {}
  async start(_model: ConfigModel): Promise<void> {
    this.events.push(`start ${this.name}`);
    if (this.failOn === 'start') throw new Error(`${this.name} cannot start`);
  }
  async reload(_next: ConfigModel, diff: ConfigDiff): Promise<void> {
    this.events.push(`reload ${this.name}`);
    this.diffs.push(diff);
    if (this.failOn === 'reload') throw new Error(`${this.name} cannot reload`);
  }
  async stop(): Promise<void> {
    this.events.push(`stop ${this.name}`);
    if (this.failOn === 'stop') throw new Error(`${this.name} cannot stop`);
  }
}

function setup(options: { compile?: (file: string, signal?: AbortSignal) => Promise<CompileOutcome>; fail?: Record<string, 'start' | 'stop' | 'reload'> } = {}) {
  const events: string[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => void logLines.push(JSON.parse(l) as Record<string, unknown>) } });
  const parts = ['ipvs', 'healthcheck', 'vrrp'].map((n) => new RecordingPart(n, events, options.fail?.[n]));
  const notifier = {
    ready: () => void events.push('READY'),
    reloading: () => void events.push('RELOADING'),
    stopping: () => void events.push('STOPPING'),
  };
  let next: ConfigModel = model();
  const compile = options.compile ?? (async (): Promise<CompileOutcome> => ({ ok: true, model: next, warnings: [] }));
  const lifecycle = new DaemonLifecycle({ configFile: '/etc/tslvsd.conf', parts, compile, notifier, logger, now: () => 1000 });
  return { events, logLines, parts, lifecycle, setNext: (m: ConfigModel) => (next = m) };
}

describe('DaemonLifecycle', () => {
  it('starts in order, then READY; stops in reverse after STOPPING', async () => {
    const { events, lifecycle } = setup();
    await lifecycle.start(model());
    await lifecycle.stop();
    expect(events).toEqual(['start ipvs', 'start healthcheck', 'start vrrp', 'READY', 'STOPPING', 'stop vrrp', 'stop healthcheck', 'stop ipvs']);
  });

  it('a part failing to start stops the ones already started and throws; no READY', async () => {
    const { events, lifecycle } = setup({ fail: { healthcheck: 'start' } });
    await expect(lifecycle.start(model())).rejects.toThrow('healthcheck cannot start');
    expect(events).toEqual(['start ipvs', 'start healthcheck', 'stop ipvs']);
  });

  it('a part failing to stop does not keep the others from stopping', async () => {
    const { events, lifecycle, logLines } = setup({ fail: { vrrp: 'stop' } });
    await lifecycle.start(model());
    await lifecycle.stop();
    expect(events.slice(-3)).toEqual(['stop vrrp', 'stop healthcheck', 'stop ipvs']);
    expect(logLines.some((l) => l.part === 'vrrp' && l.level === 'error')).toBe(true);
  });

  it('stop is idempotent (second call, same promise, parts stopped once)', async () => {
    const { events, lifecycle } = setup();
    await lifecycle.start(model());
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    expect(events.filter((e) => e.startsWith('stop'))).toHaveLength(3);
  });

  it('reload of an unchanged config: RELOADING … READY, nothing applied, recorded as success', async () => {
    const { events, lifecycle, parts } = setup();
    await lifecycle.start(model());
    events.length = 0;
    await lifecycle.reload();
    expect(events).toEqual(['RELOADING', 'READY']);
    expect(parts.every((p) => p.diffs.length === 0)).toBe(true);
    expect(lifecycle.lastReload).toEqual({ epochMs: 1000, successful: true, errors: [] });
  });

  it('reload of a changed config hands every part exactly the diff', async () => {
    const { lifecycle, parts, setNext } = setup();
    await lifecycle.start(model());
    setNext(model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.100'), vip('10.0.0.150')] })] }));
    await lifecycle.reload();
    for (const part of parts) {
      expect(part.diffs).toHaveLength(1);
      expect(part.diffs[0]!.vrrpInstances).toEqual({ added: [], removed: [], changed: ['eth0/vrid 51/inet'] });
    }
    expect(lifecycle.currentModel!.vrrpInstances[0]!.virtualIpAddresses).toHaveLength(2);
  });

  it('a broken config on reload keeps the running model, logs every error, records the failure', async () => {
    const errors = ['/etc/tslvsd.conf:12: error: unknown scheduler "wxyz"', '/etc/tslvsd.conf:40:3: error: block never closed'];
    const { lifecycle, parts, logLines, events } = setup({ compile: async () => ({ ok: false, errors, warnings: [] }) });
    const running = model();
    await lifecycle.start(running);
    events.length = 0;
    await lifecycle.reload();
    expect(lifecycle.currentModel).toBe(running);
    expect(parts.every((p) => p.diffs.length === 0)).toBe(true);
    expect(lifecycle.lastReload).toEqual({ epochMs: 1000, successful: false, errors });
    expect(logLines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(expect.arrayContaining(errors));
    expect(events).toEqual(['RELOADING', 'READY']);
  });

  it('a part failing while applying a reload is recorded as a failed reload, the daemon goes on', async () => {
    const { lifecycle, setNext } = setup({ fail: { vrrp: 'reload' } });
    await lifecycle.start(model());
    setNext(model({ vrrpInstances: [instance({ priority: 200 })] }));
    await lifecycle.reload();
    expect(lifecycle.lastReload?.successful).toBe(false);
    expect(lifecycle.lastReload?.errors).toEqual(['vrrp cannot reload']);
  });

  it('a burst of reload requests is coalesced: at most two compiles, never concurrent', async () => {
    let compiling = 0;
    let maxConcurrent = 0;
    let compiles = 0;
    const { lifecycle } = setup({
      compile: async () => {
        compiling++;
        compiles++;
        maxConcurrent = Math.max(maxConcurrent, compiling);
        await new Promise((r) => setTimeout(r, 20));
        compiling--;
        return { ok: true, model: model(), warnings: [] };
      },
    });
    await lifecycle.start(model());
    await Promise.all(Array.from({ length: 100 }, () => lifecycle.reload()));
    expect(compiles).toBe(2);
    expect(maxConcurrent).toBe(1);
  });

  it('a stop during a slow compilation aborts it and does not wait for it; nothing is applied', async () => {
    let aborted = false;
    const { lifecycle, events } = setup({
      compile: (_file, signal) => new Promise((resolve) => {
        signal?.addEventListener('abort', () => {
          aborted = true;
          resolve({ ok: false, errors: ['x:1: error: reload abandoned'], warnings: [] });
        });
      }),
    });
    await lifecycle.start(model());
    const reload = lifecycle.reload();
    await new Promise((r) => setTimeout(r, 10));
    await lifecycle.stop();
    await reload;
    expect(aborted).toBe(true);
    expect(events.filter((e) => e.startsWith('reload '))).toEqual([]);
    expect(events.slice(-3)).toEqual(['stop vrrp', 'stop healthcheck', 'stop ipvs']);
  });

  it('no reload after stop began', async () => {
    const { lifecycle, events } = setup();
    await lifecycle.start(model());
    await lifecycle.stop();
    await lifecycle.reload();
    expect(events).not.toContain('RELOADING');
  });
});

describe('SerialRunner', () => {
  it('runs once per idle request, and keeps going after a failing run', async () => {
    let n = 0;
    const runner = new SerialRunner(async () => {
      n++;
      if (n === 1) throw new Error('first fails');
    });
    await runner.request();
    await runner.request();
    expect(n).toBe(2);
    expect(runner.runs).toBe(2);
  });
});

describe('signals', () => {
  it('HUP reloads, USR1 dumps, TERM stops, a second TERM forces exit; uninstall removes all', () => {
    const source = new EventEmitter();
    const calls: string[] = [];
    const uninstall = installSignalHandlers(
      {
        reload: () => calls.push('reload'),
        dump: () => calls.push('dump'),
        counters: () => calls.push('counters'),
        stop: (s) => calls.push(`stop ${s}`),
        forceExit: (s) => calls.push(`force ${s}`),
      },
      source,
    );
    source.emit('SIGHUP');
    source.emit('SIGUSR1');
    source.emit('SIGUSR2');
    source.emit('SIGTERM');
    source.emit('SIGINT');
    expect(calls).toEqual(['reload', 'dump', 'counters', 'stop SIGTERM', 'force SIGINT']);
    uninstall();
    for (const s of ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGINT']) expect(source.listenerCount(s)).toBe(0);
  });
});

describe('processSignals', () => {
  it('a settled stopSignal arrives as SIGTERM; off() detaches from the process too', async () => {
    const { processSignals } = await import('../../src/daemon/processSignals.js');
    let release: () => void = () => {};
    const source = processSignals(new Promise<void>((r) => (release = r)));
    const seen: string[] = [];
    const onTerm = () => void seen.push('TERM');
    const before = process.listenerCount('SIGTERM');
    source.on('SIGTERM', onTerm);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['TERM']);
    source.off('SIGTERM', onTerm);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
