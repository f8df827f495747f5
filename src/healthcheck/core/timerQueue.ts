import type { Clock, TimerHandle } from '../../util/clock.js';

/** One queued call; `cancel` it through the queue. */
export interface QueuedTimer {
  readonly at: number;
}

interface Entry extends QueuedTimer {
  readonly at: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

/**
 * Many timers on one Clock timer: the engine arms two per check (the next launch, the hung deadline), and
 * with one runtime timer each a checker of thousands of servers pays a timer object and, mostly, a wake-up
 * of its loop per check. Here they wait in a min-heap of due times and the one Clock timer is armed for the
 * earliest; when it fires, every entry due by then runs, earliest first, ties in arming order (as separate
 * timers would). `gridMs` > 0 arms that timer on a grid of that step, so the entries falling due within one
 * step share one wake-up, each at most `gridMs` late; 0 keeps every entry's own time (tests, FakeClock).
 * A cancelled entry stays in the heap until its time and is dropped then. One wake-up runs entries for at
 * most {@link WAKE_BUDGET_MS} and then yields to the loop (a 0 ms timer): behind schedule, a checker with
 * hundreds of overdue launches would otherwise hold its loop for seconds, its heartbeats and its probes'
 * answers waiting behind them (separate runtime timers interleave with the heartbeat's).
 */
export const WAKE_BUDGET_MS = 20;

export class TimerQueue {
  private readonly heap: Entry[] = [];
  private seq = 0;
  private armed: TimerHandle | undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: Clock, private readonly gridMs = 0) {}

  /** Calls fn once, `ms` from now. */
  add(ms: number, fn: () => void): QueuedTimer {
    const entry: Entry = { at: this.clock.now() + Math.max(0, ms), seq: this.seq++, fn };
    this.push(entry);
    if (entry.at < this.armedAt) this.arm();
    return entry;
  }

  cancel(timer: QueuedTimer | undefined): void {
    if (timer) (timer as Entry).fn = undefined;
  }

  /** Entries waiting, cancelled ones included until their time (for tests). */
  get size(): number {
    return this.heap.length;
  }

  /** Drops every entry and the Clock timer. */
  clear(): void {
    for (const e of this.heap) e.fn = undefined;
    this.heap.length = 0;
    this.clock.clearTimer(this.armed);
    this.armed = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.clock.clearTimer(this.armed);
    this.armed = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const first = this.heap[0];
    if (!first) return;
    const now = this.clock.now();
    const fireAt = this.gridMs > 0 ? Math.ceil(first.at / this.gridMs) * this.gridMs : first.at;
    this.armedAt = first.at;
    this.armed = this.clock.setTimer(Math.max(0, fireAt - now), () => this.fire());
  }

  private fire(): void {
    this.armed = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const yieldAt = now + WAKE_BUDGET_MS;
    // Entries added while running that are due already run in this round too (a 0 ms timer).
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.pop();
      const fn = top.fn;
      top.fn = undefined;
      if (!fn) continue;
      fn();
      if (this.clock.now() >= yieldAt && this.heap[0] !== undefined && this.heap[0].at <= now) {
        // Out of budget with more due: let the loop poll and run its other timers, then go on.
        this.clock.clearTimer(this.armed);
        this.armedAt = this.heap[0].at;
        this.armed = this.clock.setTimer(0, () => this.fire());
        return;
      }
    }
    if (this.armed === undefined) this.arm();
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!TimerQueue.before(entry, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && TimerQueue.before(h[r]!, h[l]!) ? r : l;
      if (!TimerQueue.before(h[child]!, last)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
  }
}
