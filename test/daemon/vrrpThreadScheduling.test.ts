/**
 * The VRRP thread's scheduler slice (src/daemon/vrrpThreadScheduling.ts): what it asks the addon for, and — in
 * a real process on this kernel — that the calling thread alone gets it: a worker thread and a child
 * process started afterwards run at the kernel's default (SCHED_FLAG_RESET_ON_FORK), nice untouched.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { favourVrrpThread, setVrrpThreadNice, VRRP_THREAD_SLICE_US } from '../../src/daemon/vrrpThreadScheduling.js';
import { createLogger } from '../../src/util/log.js';

const root = new URL('../..', import.meta.url).pathname;

function debugLines(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return { lines, logger };
}

describe('favourVrrpThread', () => {
  it('asks for 100 µs by default and reports what the kernel granted', () => {
    const asked: number[] = [];
    const { lines, logger } = debugLines();
    expect(favourVrrpThread({ setSchedulingSlice: (ns) => (asked.push(ns), ns) }, logger, {})).toBe(VRRP_THREAD_SLICE_US);
    expect(asked).toEqual([100_000]);
    expect(lines).toMatchObject([{ event: 'vrrp_thread_slice', sliceUs: 100 }]);
  });

  it('TSLVSD_VRRP_SLICE_US sets another slice; 0 leaves the kernel’s default without asking', () => {
    const asked: number[] = [];
    const addon = { setSchedulingSlice: (ns: number) => (asked.push(ns), ns) };
    const { logger } = debugLines();
    expect(favourVrrpThread(addon, logger, { TSLVSD_VRRP_SLICE_US: '250' })).toBe(250);
    expect(favourVrrpThread(addon, logger, { TSLVSD_VRRP_SLICE_US: '0' })).toBe(0);
    expect(favourVrrpThread(addon, logger, { TSLVSD_VRRP_SLICE_US: 'soon' })).toBe(100);
    expect(asked).toEqual([250_000, 100_000]);
  });

  it('a kernel without custom slices, or a refusal, never fails the start', () => {
    const { lines, logger } = debugLines();
    expect(favourVrrpThread({ setSchedulingSlice: () => 0 }, logger, {})).toBe(0);
    expect(favourVrrpThread({ setSchedulingSlice: () => { throw Object.assign(new Error('sched_setattr: Operation not permitted'), { code: 'EPERM' }); } }, logger, {})).toBe(0);
    expect(lines).toMatchObject([
      { event: 'vrrp_thread_slice', sliceUs: 0 },
      { event: 'vrrp_thread_slice', err: 'sched_setattr: Operation not permitted' },
    ]);
  });
});

describe('setVrrpThreadNice (global_defs vrrp_priority)', () => {
  it('sets the calling thread’s nice when configured, says so; a refusal is a warning; unset touches nothing', () => {
    const calls: Array<[number, number]> = [];
    const { lines, logger } = debugLines();
    setVrrpThreadNice(undefined, (pid, n) => calls.push([pid, n]), logger);
    expect(calls).toEqual([]);
    setVrrpThreadNice(-5, (pid, n) => calls.push([pid, n]), logger);
    expect(calls).toEqual([[0, -5]]);
    setVrrpThreadNice(-20, () => { throw new Error('A system error occurred: uv_os_setpriority returned EACCES (permission denied)'); }, logger);
    expect(lines).toMatchObject([
      { level: 'info', event: 'vrrp_priority', nice: -5 },
      { level: 'warn', event: 'vrrp_priority', nice: -20, err: expect.stringContaining('EACCES') },
    ]);
  });
});

describe('setSchedulingSlice (the addon, this kernel)', () => {
  it('sets the calling thread’s slice only: a later worker thread and child process get the default', () => {
    const script = `
      const { readFileSync } = require('node:fs');
      const { execFileSync } = require('node:child_process');
      const { Worker } = require('node:worker_threads');
      const { getPriority } = require('node:os');
      const sched = (text) => Object.fromEntries(text.split('\\n').map((l) => l.split(/\\s+:\\s+/)).filter((kv) => kv.length === 2).map(([k, v]) => [k.trim(), v.trim()]));
      const own = () => sched(readFileSync('/proc/thread-self/sched', 'utf8'));
      const addon = require(${JSON.stringify(join(root, 'build/Release/tslvsd_native.node'))});
      const before = own();
      const niceBefore = getPriority(0);
      const granted = addon.setSchedulingSlice(100000);
      const after = own();
      const child = sched(execFileSync('cat', ['/proc/self/sched'], { encoding: 'utf8' }));
      const w = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.postMessage(require('node:fs').readFileSync('/proc/thread-self/sched', 'utf8'));", { eval: true });
      w.once('message', (text) => {
        process.stdout.write(JSON.stringify({ granted, before: before['se.slice'], after: after['se.slice'], policy: after.policy, niceBefore, nice: getPriority(0), worker: sched(text)['se.slice'], child: child['se.slice'] }));
        w.terminate();
      });`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout) as { granted: number; before?: string; after?: string; policy?: string; niceBefore: number; nice: number; worker?: string; child?: string };
    expect(seen.nice).toBe(seen.niceBefore);
    if (seen.granted === 0) {
      // A kernel before custom slices (6.12): nothing changed.
      expect(seen.after).toBe(seen.before);
      return;
    }
    expect(seen.granted).toBe(100_000);
    // /proc/<tid>/sched exists where the kernel has CONFIG_SCHED_DEBUG (this host's, Debian's).
    if (seen.before === undefined) return;
    expect(seen.policy).toBe('0');
    expect(seen.after).toBe('100000');
    expect(seen.before).not.toBe('100000');
    expect(seen.worker).toBe(seen.before);
    expect(seen.child).toBe(seen.before);
  });
});
