import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import {
  HealthCheckEngine, type ProbeRunner, type RepeatHandle, type RepeatLateness, type RepeatRequest,
} from '../../src/healthcheck/core/engine.js';
import type { CheckerSpec, HealthCheckPlan, RealServerPlan } from '../../src/healthcheck/plan.js';
import type { ProbeResult } from '../../src/healthcheck/result.js';
import type { HealthEvent } from '../../src/healthcheck/events.js';

/**
 * A steady checker handed to the probe runner to repeat (RepeatRequest) must behave exactly as one the
 * engine schedules probe by probe: the same events at the same times, the same counts, the same retries.
 * Both runners below answer from one script of the servers' health over time, on a fake clock.
 */

const tcp = (host: string, retry: number): CheckerSpec => ({
  type: 'TCP_CHECK',
  timing: { delayLoopMs: 10_000, warmupMs: 0, retry, delayBeforeRetryMs: 1_000, alpha: false },
  target: { host, port: 80, timeoutMs: 3_000 },
});
const rs = (key: string, retry: number): RealServerPlan => ({ key, weight: 1, inhibitOnFailure: false, checkers: [tcp(key, retry)] });
const plan = (): HealthCheckPlan => ({
  virtualServers: [{ key: 'VS', quorum: 1, hysteresis: 0, omega: false, realServers: [rs('a', 2), rs('b', 1), rs('c', 0)] }],
});

/** Down windows [from, to) in ms, per host: 'a' goes down for good, 'b' blips twice, 'c' is down then back. */
const DOWN: Record<string, Array<[number, number]>> = {
  a: [[25_000, 65_000]],
  b: [[50_000, 50_500], [81_000, 81_500]],
  c: [[5_000, 95_000]],
};
const upAt = (host: string, t: number): boolean => !(DOWN[host] ?? []).some(([from, to]) => t >= from && t < to);
const resultAt = (host: string, t: number): ProbeResult => (upAt(host, t)
  ? { up: true, reason: 'connected', durationMs: 1 } : { up: false, reason: 'connection refused', durationMs: 1 });
const hostOf = (spec: CheckerSpec): string => (spec.type === 'TCP_CHECK' ? spec.target.host : '?');

class OneByOne implements ProbeRunner {
  probes = 0;
  constructor(protected readonly clock: FakeClock) {}
  run(spec: CheckerSpec): Promise<ProbeResult> {
    this.probes++;
    return Promise.resolve(resultAt(hostOf(spec), this.clock.now()));
  }
}

/** Repeats on the fake clock as the native watch does: counts expected results, reports the first other. */
class Repeating extends OneByOne {
  handedOver = 0;
  live = 0;
  private pendingCounts: Array<() => void> = [];
  repeat(request: RepeatRequest): RepeatHandle {
    this.handedOver++;
    this.live++;
    let checks = 0;
    let failures = 0;
    let timer: ReturnType<FakeClock['setTimer']> | undefined;
    let dueAt = this.clock.now() + request.firstDelayMs;
    const clock = this.clock;
    const flush = (): void => {
      if (checks > 0) request.onCounted(checks, failures, 1, failures === checks ? 'connection refused' : 'connected');
      checks = 0;
      failures = 0;
    };
    this.pendingCounts.push(flush);
    let ended = false;
    // The result settles as a probe's promise does in this harness (after the clock step), and the next
    // probe is timed from then: the same timing as the engine's own scheduling.
    const settle = (r: ProbeResult): void => {
      if (ended) return;
      if (request.expectUp !== undefined && r.up === request.expectUp) {
        checks++;
        if (!r.up) failures++;
        dueAt = clock.now() + request.intervalMs;
        timer = clock.setTimer(request.intervalMs, tick);
        return;
      }
      ended = true;
      flush();
      this.live--;
      request.onDeviation(r);
    };
    const tick = (): void => {
      this.probes++;
      const r = resultAt(hostOf(request.spec), clock.now());
      void Promise.resolve().then(() => settle(r));
    };
    timer = clock.setTimer(request.firstDelayMs, tick);
    return {
      cancel: () => {
        ended = true;
        clock.clearTimer(timer);
        flush();
        this.live--;
        return Math.max(0, dueAt - clock.now());
      },
    };
  }
  collectRepeats(): RepeatLateness {
    for (const f of this.pendingCounts) f();
    return { maxLateMs: 0, behindSchedule: 0 };
  }
}

async function run(probes: (clock: FakeClock) => OneByOne, untilMs: number, reloadAtMs?: number) {
  const clock = new FakeClock();
  const runner = probes(clock);
  const events: Array<HealthEvent & { at: number }> = [];
  const engine = new HealthCheckEngine({
    clock, random: () => 0, probes: runner, scripts: { run: () => {} }, onEvent: (e) => events.push({ ...e, at: clock.now() }),
  });
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  engine.start(plan());
  for (let t = 0; t < untilMs; t += 100) {
    if (reloadAtMs === t) engine.reload(plan());
    clock.advance(100);
    await flush();
  }
  const snapshot = engine.snapshot();
  engine.stop();
  return { events, snapshot, runner };
}

describe('HealthCheckEngine: steady checkers repeated by the probe runner', () => {
  it('give the same events, at the same times, and the same counts as probe-by-probe scheduling', async () => {
    const a = await run((c) => new OneByOne(c), 120_000);
    const b = await run((c) => new Repeating(c), 120_000);
    expect(b.events).toEqual(a.events);
    // c down and back, a down and back, b's two blips each absorbed by its retry (results land a 100 ms step late).
    expect(a.events.filter((e) => e.kind === 'realServer').map((e) => [e.at, (e as { realServer: string }).realServer, (e as { alive: boolean }).alive]))
      .toEqual([[0, 'a', true], [0, 'b', true], [0, 'c', true], [10_100, 'c', false], [32_100, 'a', false], [72_100, 'a', true], [100_100, 'c', true]]);
    expect(b.snapshot.counters).toEqual(a.snapshot.counters);
    const checkers = (s: typeof a.snapshot) => s.virtualServers[0]!.realServers.map((r) => r.checkers.map((c) => [c.up, c.checks, c.failures]));
    expect(checkers(b.snapshot)).toEqual(checkers(a.snapshot));
    expect(b.runner.probes).toBe(a.runner.probes);
    const repeating = b.runner as Repeating;
    // Handed over at start and again after each retry or transition; none live after stop.
    expect(repeating.handedOver).toBeGreaterThanOrEqual(6);
    expect(repeating.live).toBe(0);
  });

  it('a reload keeps the schedule of a checker that was being repeated', async () => {
    const a = await run((c) => new OneByOne(c), 120_000, 33_300);
    const b = await run((c) => new Repeating(c), 120_000, 33_300);
    expect(b.events).toEqual(a.events);
    expect(b.snapshot.counters).toEqual(a.snapshot.counters);
    expect(b.runner.probes).toBe(a.runner.probes);
    expect((b.runner as Repeating).live).toBe(0);
  });
});
