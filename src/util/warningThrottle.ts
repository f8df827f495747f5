/**
 * Lets a repeated warning through at most once per interval and says how many it held back meanwhile. A
 * starved process would otherwise log every late advert (five a second at advert_int 0.2), adding its own
 * log writes to the load that made it late; the counters still count every one.
 */
export class WarningThrottle {
  private lastAt = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(
    private readonly clock: { now(): number },
    private readonly intervalMs: number,
  ) {}

  /** `undefined`: hold this one back. A number: log it, noting that many held back since the last. */
  admit(): number | undefined {
    const now = this.clock.now();
    if (now - this.lastAt < this.intervalMs) {
      this.held++;
      return undefined;
    }
    const held = this.held;
    this.held = 0;
    this.lastAt = now;
    return held;
  }
}
