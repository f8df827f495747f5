import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { WarningThrottle } from '../../src/util/warningThrottle.js';

describe('WarningThrottle', () => {
  it('lets the first through, holds back the rest of the interval, then reports how many it held', () => {
    const clock = new FakeClock();
    const throttle = new WarningThrottle(clock, 10_000);
    expect(throttle.admit()).toBe(0);
    const during: Array<number | undefined> = [];
    for (let i = 0; i < 49; i++) {
      clock.advance(200);
      during.push(throttle.admit());
    }
    expect(during.every((d) => d === undefined)).toBe(true); // 49 × 200 ms = 9.8 s: all inside the interval
    clock.advance(200);
    expect(throttle.admit()).toBe(49);
    clock.advance(10_000);
    expect(throttle.admit()).toBe(0); // quiet since: nothing held back
  });
});
