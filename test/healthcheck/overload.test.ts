import { describe, expect, it } from 'vitest';
import { FakeClock, type Clock, type TimerHandle } from '../../src/util/clock.js';
import {
  BEHIND_SCHEDULE_MS, HealthCheckEngine, MAX_DEFERRED_VERDICTS, type ProbeRunner,
} from '../../src/healthcheck/core/engine.js';
import type { CheckerSpec, HealthCheckPlan } from '../../src/healthcheck/plan.js';
import type { ProbeResult } from '../../src/healthcheck/result.js';
import type { RealServerChange } from '../../src/healthcheck/events.js';

/**
 * A clock whose loop can be starved: while stalled, timers that fall due are held and run only at
 * release(), all at once and late, as a busy event loop runs them.
 */
class StallableClock implements Clock {
  private stalled = false;
  private held: Array<() => void> = [];
  constructor(readonly inner: FakeClock) {}
  now(): number {
    return this.inner.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.inner.setTimer(ms, () => (this.stalled ? this.held.push(fn) : fn()));
  }
  clearTimer(handle: TimerHandle | undefined): void {
    this.inner.clearTimer(handle);
  }
  stall(): void {
    this.stalled = true;
  }
  release(): void {
    this.stalled = false;
    const due = this.held;
    this.held = [];
    for (const fn of due) fn();
  }
}

const TIMEOUT_MS = 3_000;
const tcp = (retry: number): CheckerSpec => ({
  type: 'TCP_CHECK',
  timing: { delayLoopMs: 1_000, warmupMs: 0, retry, delayBeforeRetryMs: 1_000, alpha: false },
  target: { host: 'a', port: 80, timeoutMs: TIMEOUT_MS },
});
const plan = (retry = 0): HealthCheckPlan => ({
  virtualServers: [{ key: 'VS', quorum: 1, hysteresis: 0, omega: false, realServers: [{ key: 'a', weight: 1, inhibitOnFailure: false, checkers: [tcp(retry)] }] }],
});

type Verdict = (() => ProbeResult) | { afterMs: number; result: ProbeResult } | 'hang';

function setup(retry = 0) {
  const inner = new FakeClock();
  const clock = new StallableClock(inner);
  let verdict: Verdict = () => ({ up: true, reason: 'connected', durationMs: 1 });
  const launches: number[] = [];
  const probes: ProbeRunner = {
    run: () => {
      launches.push(clock.now());
      const v = verdict;
      if (v === 'hang') return new Promise(() => {});
      if (typeof v === 'function') return Promise.resolve(v());
      return new Promise((resolve) => clock.setTimer(v.afterMs, () => resolve(v.result)));
    },
  };
  const changes: Array<RealServerChange & { at: number }> = [];
  const engine = new HealthCheckEngine({
    clock, random: () => 0, probes, scripts: { run: () => {} },
    onEvent: (e) => { if (e.kind === 'realServer') changes.push({ ...e, at: clock.now() }); },
  });
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  const tick = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t++) {
      inner.advance(1);
      await flush();
    }
  };
  const release = async (): Promise<void> => {
    clock.release();
    await flush();
  };
  const downs = (): number => changes.filter((c) => !c.alive).length;
  return {
    clock, engine, launches, changes, tick, release, downs,
    setVerdict: (v: Verdict) => { verdict = v; },
    start: async () => { engine.start(plan(retry)); inner.advance(0); await flush(); },
  };
}

const timedOut = (lateMs: number): ProbeResult => ({ up: false, reason: 'connect timeout after 3000 ms', durationMs: TIMEOUT_MS + lateMs, timedOutLateMs: lateMs });

describe('HealthCheckEngine under overload: a starved checker does not fail healthy servers', () => {
  it('a timeout whose timer fired far later than due is deferred and re-measured, not counted', async () => {
    const t = setup(0);
    await t.start();
    t.setVerdict(() => timedOut(2_000)); // the loop was away for 2 s of a 3 s timeout
    await t.tick(1_000); // the check at 1 s "times out" late
    expect(t.downs()).toBe(0);
    expect(t.engine.counters.verdictsDeferred).toBe(1);
    expect(t.engine.snapshot().virtualServers[0]!.realServers[0]!.checkers[0]!.lastReason).toContain('deferred');
    t.setVerdict(() => ({ up: true, reason: 'connected', durationMs: 1 }));
    const before = t.launches.length;
    await t.tick(1_000); // re-measured after delay_before_retry: the server answers
    expect(t.launches.length - before).toBe(1);
    expect(t.downs()).toBe(0);
    expect(t.engine.counters.probeFailures).toBe(0);
  });

  it('a server that never answers is still found down while the checker stays starved, within the deferral bound', async () => {
    const t = setup(0);
    await t.start();
    t.setVerdict(() => timedOut(2_500));
    await t.tick(1_000 + MAX_DEFERRED_VERDICTS * 1_000 - 1);
    expect(t.downs()).toBe(0);
    await t.tick(2);
    expect(t.downs()).toBe(1);
    expect(t.changes.at(-1)).toMatchObject({ alive: false, at: 1_000 + MAX_DEFERRED_VERDICTS * 1_000 });
    expect(t.engine.counters.verdictsDeferred).toBe(MAX_DEFERRED_VERDICTS);
  });

  it('a timeout with ordinary lateness counts at once', async () => {
    const t = setup(0);
    await t.start();
    t.setVerdict(() => timedOut(20));
    await t.tick(1_000);
    expect(t.downs()).toBe(1);
    expect(t.engine.counters.verdictsDeferred).toBe(0);
  });

  it('a refusal is never deferred, however starved the checker', async () => {
    const t = setup(0);
    await t.start();
    t.setVerdict(() => ({ up: false, reason: 'connection refused', durationMs: 0 }));
    t.clock.stall();
    await t.tick(5_000);
    await t.release(); // the check due at 1 s runs 4 s late and is refused
    expect(t.downs()).toBe(1);
    expect(t.engine.counters.verdictsDeferred).toBe(0);
  });

  it('the hung deadline, fired late behind an answer that was due first, lets the answer win', async () => {
    const t = setup(0);
    await t.start();
    // The probe launched at 1 s answers at 4.5 s, before its 3 s + 1 s grace budget (5 s)...
    t.setVerdict({ afterMs: 3_500, result: { up: true, reason: 'connected', durationMs: 3_500 } });
    await t.tick(1_000);
    t.clock.stall();
    await t.tick(7_000); // ...but the loop is away until 8 s: both timers fire then, deadline second
    await t.release();
    await t.tick(50);
    expect(t.engine.counters.probesHung).toBe(0);
    expect(t.downs()).toBe(0);
    expect(t.engine.counters.verdictsDeferred).toBe(1);
    expect(t.engine.counters.probes).toBeGreaterThanOrEqual(1);
  });

  it('a probe that really hangs is still declared hung, at most MAX_DEFERRED_VERDICTS extensions late', async () => {
    const t = setup(0);
    await t.start();
    t.setVerdict('hang');
    await t.tick(1_000);
    t.clock.stall();
    await t.tick(6_000); // deadline due at 5 s, fires at 7 s: extended by 2 s
    await t.release();
    expect(t.downs()).toBe(0);
    await t.tick(2_100); // the extension passes on time: hung
    expect(t.downs()).toBe(1);
    expect(t.engine.counters.probesHung).toBe(1);
  });

  it('late launches are counted and the lateness is reported', async () => {
    const t = setup(0);
    await t.start();
    await t.tick(1_500);
    expect(t.engine.counters.behindSchedule).toBe(0);
    expect(t.engine.scheduleLatenessMs()).toBeLessThan(BEHIND_SCHEDULE_MS);
    t.clock.stall();
    await t.tick(1_200); // the check due at 2 s is held until 2.7 s
    await t.release();
    expect(t.engine.counters.behindSchedule).toBe(1);
    expect(t.engine.scheduleLatenessMs()).toBe(700);
    expect(t.engine.snapshot().scheduleLatenessMs).toBe(700);
    await t.tick(25_000); // the windows roll on: an on-time checker reports ~0 again
    expect(t.engine.scheduleLatenessMs()).toBeLessThan(BEHIND_SCHEDULE_MS);
  });
});
