import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { LateClock } from './lateClock.js';
import { Harness } from './harness.js';

function masterAdvertTimes(lateMs: number, seconds: number): number[] {
  const base = new FakeClock(1_000_000);
  // The harness only reads now() and arms timers through the clock it is given; time moves on `base`.
  const late = new Harness({ priority: 255, advertIntervalMs: 1000 }, new LateClock(base, lateMs) as unknown as FakeClock);
  late.machine.start();
  base.advance(seconds * 1000);
  return late.effects.filter((e) => e.kind === 'advert' && e.priority === 255).map((e) => e.at - 1_000_000);
}

describe('master advert period', () => {
  it('keeps its period when every timer fires late: lateness does not accumulate into drift', () => {
    const times = masterAdvertTimes(7, 60);
    expect(times.length).toBeGreaterThanOrEqual(59);
    // With re-arming from the firing time, advert n would go out at about n × 1007 ms (7 s late after 60).
    const last = times[times.length - 1]!;
    const n = times.length - 1;
    expect(Math.abs(last - times[0]! - n * 1000)).toBeLessThanOrEqual(7);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(1007);
  });

  it('after a stall longer than an interval it starts afresh instead of sending a burst', () => {
    const base = new FakeClock(1_000_000);
    const late = new Harness({ priority: 255, advertIntervalMs: 1000 }, new LateClock(base, 2500) as unknown as FakeClock);
    late.machine.start();
    base.advance(20_000);
    const times = late.effects.filter((e) => e.kind === 'advert' && e.priority === 255).map((e) => e.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it('counts and reports an advert sent half an interval or more after its time, not a few ms late', () => {
    const lateBy = (ms: number) => {
      const base = new FakeClock(1_000_000);
      const h = new Harness({ priority: 255, advertIntervalMs: 1000 }, new LateClock(base, ms) as unknown as FakeClock);
      h.machine.start();
      base.advance(10_500);
      return { counted: h.machine.counters.advertsLate, reported: h.effects.flatMap((e) => (e.kind === 'advertLate' ? [e.latenessMs] : [])) };
    };
    expect(lateBy(7)).toEqual({ counted: 0, reported: [] });
    expect(lateBy(499)).toEqual({ counted: 0, reported: [] });
    const stalled = lateBy(2500);
    // Every periodic advert fires 2.5 s after its time (the first one, on becoming master, is not periodic).
    expect(stalled.counted).toBeGreaterThanOrEqual(2);
    expect(stalled.reported).toHaveLength(stalled.counted);
    for (const ms of stalled.reported) expect(ms).toBe(2500);
  });
});
