import type { Clock, FakeClock, TimerHandle } from '../../src/util/clock.js';

/** A clock whose timers fire `lateMs` after they fall due, as a busy or held event loop (or machine) does. */
export class LateClock implements Clock {
  lateMs: number;
  constructor(private readonly inner: FakeClock, lateMs: number) {
    this.lateMs = lateMs;
  }
  now(): number {
    return this.inner.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.inner.setTimer(ms + this.lateMs, fn);
  }
  clearTimer(handle: TimerHandle | undefined): void {
    this.inner.clearTimer(handle);
  }
}
