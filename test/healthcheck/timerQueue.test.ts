import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { TimerQueue } from '../../src/healthcheck/core/timerQueue.js';

describe('TimerQueue', () => {
  it('runs entries at their own time, earliest first, ties in arming order, on one clock timer', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    const ran: Array<[string, number]> = [];
    const at = (name: string) => () => ran.push([name, clock.now()]);
    q.add(30, at('c'));
    q.add(10, at('a1'));
    q.add(10, at('a2'));
    q.add(20, at('b'));
    expect(clock.pending).toBe(1);
    clock.advance(9);
    expect(ran).toEqual([]);
    clock.advance(100);
    expect(ran).toEqual([['a1', 10], ['a2', 10], ['b', 20], ['c', 30]]);
    expect(clock.pending).toBe(0);
    expect(q.size).toBe(0);
  });

  it('a cancelled entry never runs; an earlier entry re-arms the clock timer', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    const ran: string[] = [];
    const late = q.add(50, () => ran.push('late'));
    q.add(5, () => ran.push('early'));
    q.cancel(late);
    clock.advance(5);
    expect(ran).toEqual(['early']);
    clock.advance(100);
    expect(ran).toEqual(['early']);
  });

  it('an entry added while running that is already due runs in the same round; later ones wait', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    const ran: Array<[string, number]> = [];
    q.add(10, () => {
      ran.push(['first', clock.now()]);
      q.add(0, () => ran.push(['zero', clock.now()]));
      q.add(7, () => ran.push(['seven', clock.now()]));
    });
    clock.advance(10);
    expect(ran).toEqual([['first', 10], ['zero', 10]]);
    clock.advance(7);
    expect(ran).toEqual([['first', 10], ['zero', 10], ['seven', 17]]);
  });

  it('with a grid, entries due within one step share one wake-up, none early and none later than the step', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock, 10);
    const ran: Array<[number, number]> = [];
    for (const ms of [1, 4, 9, 10, 11, 19]) q.add(ms, () => ran.push([ms, clock.now()]));
    clock.advance(9);
    expect(ran).toEqual([]);
    clock.advance(1);
    expect(ran).toEqual([[1, 10], [4, 10], [9, 10], [10, 10]]);
    clock.advance(10);
    expect(ran).toEqual([[1, 10], [4, 10], [9, 10], [10, 10], [11, 20], [19, 20]]);
    for (const [ms, when] of ran) {
      expect(when - ms).toBeGreaterThanOrEqual(0);
      expect(when - ms).toBeLessThan(10);
    }
  });

  it('clear drops every entry and the clock timer', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    let ran = 0;
    for (let i = 1; i <= 5; i++) q.add(i * 3, () => ran++);
    q.clear();
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(ran).toBe(0);
  });
});

describe('TimerQueue wake-up budget', () => {
  it('yields to the loop after WAKE_BUDGET_MS of work, then runs the rest', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    const ran: number[] = [];
    let otherTimerRanAfter = -1;
    // Each entry "takes" 15 ms of the loop: the second one exhausts the 20 ms budget.
    const slow = (i: number) => () => {
      ran.push(i);
      (clock as unknown as { t: number }).t += 15;
    };
    for (let i = 0; i < 4; i++) q.add(10, slow(i));
    clock.setTimer(10, () => { otherTimerRanAfter = ran.length; });
    clock.advance(10);
    expect(ran).toEqual([0, 1]);
    clock.advance(100);
    expect(ran).toEqual([0, 1, 2, 3]);
    // The loop's own timer (a heartbeat) got its turn in between, not after all of them.
    expect(otherTimerRanAfter).toBe(2);
  });
});
