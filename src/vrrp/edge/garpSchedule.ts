import type { Clock, TimerHandle } from '../../util/clock.js';

/**
 * When gratuitous ARPs go out after an instance becomes master (keepalived's garp_master_* settings):
 * a burst of `repeat` at once, a second burst after `delaySeconds`, then `refreshRepeat` every
 * `refreshSeconds` while master (0 = never). Within a burst, frames are `intervalSeconds` apart
 * (vrrp_garp_interval, 0 = back to back). Pure: it owns timers on the Clock and calls `sendOne()`.
 */
export interface GarpScheduleSpec {
  repeat: number;
  delaySeconds: number;
  refreshSeconds: number;
  refreshRepeat: number;
  intervalSeconds: number;
}

export class GarpSchedule {
  private timers = new Set<TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly spec: GarpScheduleSpec,
    /** Sends one gratuitous ARP for every VIP of the instance. */
    private readonly sendOne: () => void,
  ) {}

  /** Becoming master: first burst now, the second after the delay, refreshes after that. */
  start(): void {
    this.stop();
    this.burst(this.spec.repeat);
    if (this.spec.delaySeconds > 0) {
      this.after(this.spec.delaySeconds * 1000, () => this.burst(this.spec.repeat));
    }
    if (this.spec.refreshSeconds > 0) this.scheduleRefresh();
  }

  /** Leaving master (or stopping): nothing more goes out. */
  stop(): void {
    for (const t of this.timers) this.clock.clearTimer(t);
    this.timers.clear();
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  private scheduleRefresh(): void {
    this.after(this.spec.refreshSeconds * 1000, () => {
      this.burst(Math.max(1, this.spec.refreshRepeat));
      this.scheduleRefresh();
    });
  }

  private burst(count: number): void {
    if (count <= 0) return;
    this.sendOne();
    const gapMs = this.spec.intervalSeconds * 1000;
    for (let i = 1; i < count; i++) {
      if (gapMs > 0) this.after(gapMs * i, () => this.sendOne());
      else this.sendOne();
    }
  }

  private after(ms: number, fn: () => void): void {
    const handle = this.clock.setTimer(ms, () => {
      this.timers.delete(handle);
      fn();
    });
    this.timers.add(handle);
  }
}
