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
  it('outage: the longest gap between answers that ends after the event, with the failures inside it', () => {
    const recs = [ok(0), ok(100), bad(200), ok(300), ok(400), bad(500), bad(600), bad(700), ok(1600)];
    // answers at 5, 105, 305, 405, 1605; failures reported at 900, 1200, 1300, 1400 (all four in the gap)
    expect(longestOutage(recs, 0)).toEqual({ lastOkBefore: 405, firstOkAfter: 1605, durationMs: 1200, failedRequests: 4 });
  });
  it('a slow success (SYN retransmit) still counts as waiting; gaps before the event are ignored', () => {
    const slow: RequestRecord = { start: 200, end: 1300, ok: true, server: 'rs1' };
    expect(longestOutage([ok(0), slow, ok(1400)], 100)?.durationMs).toBe(1295);
    expect(longestOutage([ok(0), ok(1000), ok(1100)], 1050)?.durationMs).toBe(100);
  });
  it('unrecovered failures are an infinite outage; no answer at all is null', () => {
    expect(longestOutage([ok(0), bad(100)], 0)).toMatchObject({ durationMs: Number.POSITIVE_INFINITY, failedRequests: 1 });
    expect(longestOutage([bad(100)], 0)).toBeNull();
    // a timeout reported after the recovery, but started before it, is not an unrecovered outage
    expect(longestOutage([ok(0), bad(100), ok(1000), ok(1100)], 0)).toMatchObject({ durationMs: 1000, failedRequests: 1 });
  });
  it('malformed client lines are rejected, not thrown', () => {
    expect(parseRecordLine('{"start":1,"end":2,"ok":true,"server":"rs1"}')).toEqual({ start: 1, end: 2, ok: true, server: 'rs1' });
    expect(parseRecordLine('not json')).toBeNull();
    expect(parseRecordLine('{"start":"1","end":2,"ok":true}')).toBeNull();
    expect(parseRecordLine('null')).toBeNull();
  });
});
