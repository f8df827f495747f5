// What the client saw, computed from its request records. Pure.
import type { RequestRecord } from './record.js';

export interface TrafficSummary {
  total: number;
  ok: number;
  failed: number;
  /** Successful answers per real server. */
  byServer: Record<string, number>;
  /** Failures per reason. */
  errors: Record<string, number>;
}

export function summarize(records: readonly RequestRecord[]): TrafficSummary {
  const s: TrafficSummary = { total: records.length, ok: 0, failed: 0, byServer: {}, errors: {} };
  for (const r of records) {
    if (r.ok) {
      s.ok++;
      const k = r.server ?? '?';
      s.byServer[k] = (s.byServer[k] ?? 0) + 1;
    } else {
      s.failed++;
      const k = r.error ?? '?';
      s.errors[k] = (s.errors[k] ?? 0) + 1;
    }
  }
  return s;
}

export interface Outage {
  /** Start of the last successful request before the failures. */
  lastOkBefore: number;
  /** Start of the first successful request after them (undefined: not recovered in the records). */
  firstOkAfter?: number;
  /** firstOkAfter − lastOkBefore: an upper bound of the client's outage, within one request interval. */
  durationMs: number;
  failedRequests: number;
}

/**
 * The longest run of failed requests that started at or after `from`, measured from the start of the last
 * success before it to the start of the first success after it. No failures: null.
 * An unrecovered run has durationMs = Infinity.
 */
export function longestOutage(records: readonly RequestRecord[], from: number): Outage | null {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  let best: Outage | null = null;
  let lastOk: number | undefined;
  let run: { lastOkBefore: number; failed: number } | null = null;
  const close = (firstOkAfter: number | undefined): void => {
    if (!run) return;
    const o: Outage = {
      lastOkBefore: run.lastOkBefore,
      durationMs: firstOkAfter === undefined ? Number.POSITIVE_INFINITY : firstOkAfter - run.lastOkBefore,
      failedRequests: run.failed,
    };
    if (firstOkAfter !== undefined) o.firstOkAfter = firstOkAfter;
    if (!best || o.durationMs > best.durationMs) best = o;
    run = null;
  };
  for (const r of sorted) {
    if (r.ok) {
      close(r.start);
      lastOk = r.start;
    } else if (r.start >= from) {
      if (!run) run = { lastOkBefore: lastOk ?? r.start, failed: 0 };
      run.failed++;
    }
  }
  close(undefined);
  return best;
}
