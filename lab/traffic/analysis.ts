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
  /** When the last answer before the gap arrived. */
  lastOkBefore: number;
  /** When the first answer after it arrived (undefined: not recovered in the records). */
  firstOkAfter?: number;
  /** firstOkAfter − lastOkBefore: how long the client went without any answer (Infinity: not recovered). */
  durationMs: number;
  /** Requests that failed within the gap. */
  failedRequests: number;
}

/**
 * The longest time the client went without a successful answer, among the gaps that end at or after `from`
 * (an event's time): measured between completions, so a request that only succeeded through a SYN
 * retransmit still counts as waiting. With a request every I ms and no trouble it is about I.
 * Infinity when the requests started after the last answered one all failed; null when nothing succeeded.
 */
export function longestOutage(records: readonly RequestRecord[], from: number): Outage | null {
  const oks = records.filter((r) => r.ok).sort((a, b) => a.end - b.end);
  const failures = records.filter((r) => !r.ok);
  const first = oks[0];
  if (!first) return null;
  const failedWithin = (lo: number, hi: number): number => failures.filter((f) => f.end > lo && f.end <= hi).length;
  let best: Outage | null = null;
  for (let i = 1; i < oks.length; i++) {
    const a = oks[i - 1] as RequestRecord;
    const b = oks[i] as RequestRecord;
    if (b.end < from) continue;
    const o: Outage = { lastOkBefore: a.end, firstOkAfter: b.end, durationMs: b.end - a.end, failedRequests: failedWithin(a.end, b.end) };
    if (!best || o.durationMs > best.durationMs) best = o;
  }
  // Not recovered: requests started after the last answered one, and all failed. (A failure reported after
  // the last answer but started before it is just a slow timeout inside an earlier gap.)
  const last = oks[oks.length - 1] as RequestRecord;
  const trailing = failures.filter((f) => f.start > last.start).length;
  if (trailing > 0) return { lastOkBefore: last.end, durationMs: Number.POSITIVE_INFINITY, failedRequests: trailing };
  return best;
}
