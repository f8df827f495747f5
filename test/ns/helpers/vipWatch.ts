import { addressesOf } from './netns.js';
import { sleep } from './exec.js';

/**
 * (For takeover latencies prefer VipMonitor, which is event-driven.)
 * Watches which namespaces hold a VIP, polling `ip -n NS -j addr` every ~10 ms (plus the time the query
 * takes), and keeps the timeline so
 * tests can ask when a holder first appeared and whether two ever held it at once.
 */
export interface VipSample {
  /** performance.now() when the query started: the state shown is no older than this. */
  startedAt: number;
  /** performance.now() when the answer was in. */
  at: number;
  holders: string[];
}

export class VipWatch {
  readonly samples: VipSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly hosts: { ns: string; dev: string }[],
    private readonly vip: string,
    intervalMs = 10,
  ) {
    this.loop = (async () => {
      while (this.running) {
        const startedAt = performance.now();
        const held = await Promise.all(this.hosts.map(async (h) => ((await addressesOf(h.ns, h.dev)).includes(this.vip) ? h.ns : undefined)));
        // Stamped when the answer is in: a takeover is never credited earlier than it was seen (an upper
        // bound on its latency, by at most one poll).
        const at = performance.now();
        this.samples.push({ startedAt, at, holders: held.filter((h): h is string => h !== undefined) });
        await sleep(intervalMs);
      }
    })();
  }

  /** The holders in the latest sample. */
  current(): string[] {
    return this.samples[this.samples.length - 1]?.holders ?? [];
  }

  /** First sample at or after `since` where ns holds the VIP; resolves its time, or undefined at the deadline. */
  async heldBy(ns: string, since: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.samples.find((s) => s.startedAt >= since && s.holders.includes(ns));
      if (hit) return hit.at;
      if (performance.now() > deadline) return undefined;
      await sleep(5);
    }
  }

  /** Total time (ms) in [from, to) during which more than one namespace held the VIP. */
  overlapMs(from = 0, to = Infinity): number {
    let total = 0;
    for (let i = 0; i < this.samples.length - 1; i++) {
      const s = this.samples[i]!;
      if (s.at < from || s.at >= to) continue;
      if (s.holders.length > 1) total += this.samples[i + 1]!.at - s.at;
    }
    return total;
  }

  /** Samples in [from, to) with exactly these holders / all samples in the range. */
  fractionHeldOnlyBy(ns: string, from: number, to: number): number {
    const range = this.samples.filter((s) => s.startedAt >= from && s.at < to);
    if (range.length === 0) return 0;
    return range.filter((s) => s.holders.length === 1 && s.holders[0] === ns).length / range.length;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
