import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';

describe('FakeClock', () => {
  it('fires due timers in time order and not before', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(100, () => fired.push(`a@${clock.now()}`));
    const c = clock.setTimer(200, () => fired.push('c'));
    clock.clearTimer(c);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(250);
    expect(fired).toEqual(['a@1100', 'b@1300']);
    expect(clock.now()).toBe(1349);
    expect(clock.pending).toBe(0);
  });

  it('fires timers armed by a firing timer when they fall within the advance', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimer(10, () => {
      fired.push(clock.now());
      clock.setTimer(10, () => fired.push(clock.now()));
    });
    clock.advance(25);
    expect(fired).toEqual([10, 20]);
  });
});
