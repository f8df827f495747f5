import { describe, expect, it } from 'vitest';
import { longestOutage, summarize } from '../../lab/traffic/analysis.js';
import { parseRecordLine, type RequestRecord } from '../../lab/traffic/record.js';

const ok = (start: number, server = 'rs1'): RequestRecord => ({ start, end: start + 5, ok: true, server });
const bad = (start: number, error = 'timeout'): RequestRecord => ({ start, end: start + 700, ok: false, error });

describe('traffic analysis', () => {
  it('summarizes per server and per error', () => {
    expect(summarize([ok(0), ok(100, 'rs2'), ok(200), bad(300, 'ECONNREFUSED')])).toEqual({
      total: 4, ok: 3, failed: 1, byServer: { rs1: 2, rs2: 1 }, errors: { ECONNREFUSED: 1 },
    });
  });
  it('outage: from the last success before the failures to the first after, longest run wins', () => {
    const recs = [ok(0), ok(100), bad(200), ok(300), ok(400), bad(500), bad(600), bad(700), ok(800)];
    expect(longestOutage(recs, 0)).toEqual({ lastOkBefore: 400, firstOkAfter: 800, durationMs: 400, failedRequests: 3 });
  });
  it('ignores failures before `from`, sorts by start, reports unrecovered runs as infinite', () => {
    expect(longestOutage([ok(0), bad(100), ok(200)], 150)).toBeNull();
    expect(longestOutage([ok(300), bad(200), ok(100)], 0)).toMatchObject({ durationMs: 200 });
    expect(longestOutage([ok(0), bad(100)], 0)?.durationMs).toBe(Number.POSITIVE_INFINITY);
  });
  it('malformed client lines are rejected, not thrown', () => {
    expect(parseRecordLine('{"start":1,"end":2,"ok":true,"server":"rs1"}')).toEqual({ start: 1, end: 2, ok: true, server: 'rs1' });
    expect(parseRecordLine('not json')).toBeNull();
    expect(parseRecordLine('{"start":"1","end":2,"ok":true}')).toBeNull();
    expect(parseRecordLine('null')).toBeNull();
  });
});
