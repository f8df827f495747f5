/**
 * When a returning director may preempt without resetting connections: pure, on samples of its own
 * connection table while its backup sync daemon receives the current master's updates.
 *
 * The kernel's master sync daemon sends a connection only when its state changes or, once established,
 * every `sync_threshold` packets (default: the 3rd of every 50), in messages it flushes within ~2 s. So a
 * director that has just started its backup daemon learns the master's connections over a few seconds, as
 * their packets arrive. The hold ends when the table has stopped growing for `quietMs` (and at least
 * `minMs` after the start), or after `capMs` whatever happens: the sync stream has then been received for
 * at least one full refresh of every connection that sent ≥ 50 packets in that window.
 *
 * minMs is 10 s because the first synced entries were seen ~7 s after the backup daemon started in the
 * VM lab (20 packets/s per connection, the kernel's ~2 s flush, an emulated CPU): an empty table for the
 * first seconds does not mean there is nothing to receive.
 */
export interface SyncCatchUpSettings {
  /** Never release before this long after the start (ms). */
  minMs: number;
  /** Release once no new connection arrived for this long (ms). */
  quietMs: number;
  /** Release after this long in any case (ms): the worst case added to a preemption. */
  capMs: number;
}

export const DEFAULT_SYNC_CATCH_UP: SyncCatchUpSettings = { minMs: 10_000, quietMs: 5000, capMs: 30_000 };

export type CatchUpDecision = { release: false } | { release: true; reason: 'quiet' | 'cap'; connections: number; afterMs: number };

export class SyncCatchUp {
  private most: number;
  private lastGrowth: number;

  constructor(
    private readonly settings: SyncCatchUpSettings,
    private readonly startedAt: number,
    initialConnections: number,
  ) {
    this.most = initialConnections;
    this.lastGrowth = startedAt;
  }

  /** One sample of the number of entries in the local connection table. */
  sample(now: number, connections: number): CatchUpDecision {
    if (connections > this.most) {
      this.most = connections;
      this.lastGrowth = now;
    }
    const afterMs = now - this.startedAt;
    if (afterMs >= this.settings.capMs) return { release: true, reason: 'cap', connections: this.most, afterMs };
    if (afterMs >= this.settings.minMs && now - this.lastGrowth >= this.settings.quietMs) {
      return { release: true, reason: 'quiet', connections: this.most, afterMs };
    }
    return { release: false };
  }
}
