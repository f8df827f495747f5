import { describe, expect, it } from 'vitest';
import { decodeSnapshot, decodeSnapshotSteps, encodeSnapshot } from '../../src/healthcheck/worker/snapshotCodec.js';
import type { HealthSnapshot } from '../../src/healthcheck/events.js';

describe('snapshot codec (worker → main thread)', () => {
  it('round-trips every field, nulls and reasons with newlines', () => {
    const snap: HealthSnapshot = {
      counters: { probes: 10, probeFailures: 2, probesHung: 1, probesThrew: 0, scriptsRun: 3, behindSchedule: 4, verdictsDeferred: 1 },
      virtualServers: [
        {
          key: '10.0.0.1:80/TCP', quorumUp: true, liveWeight: 4, quorum: 2, hysteresis: 1, sorryActive: false,
          realServers: [
            { key: '192.168.1.1:80', alive: true, inTable: true, weight: 3, reason: 'start', checkers: [
              { type: 'TCP_CHECK', up: true, hasRun: true, retryIt: 0, lastDurationMs: 0.25, lastReason: 'connected', checks: 5, failures: 0 },
              { type: 'MISC_CHECK', up: false, hasRun: false, retryIt: 2, lastDurationMs: null, lastReason: null, checks: 0, failures: 0 },
            ] },
            { key: '192.168.1.2:80', alive: false, inTable: true, weight: 0, reason: 'HTTP_GET: /: status 503\nnot ok', checkers: [] },
          ],
        },
        { key: 'fwmark:1/IPv4', quorumUp: false, liveWeight: 0, quorum: 1, hysteresis: 0, sorryActive: true, realServers: [] },
      ],
    };
    const back = decodeSnapshot(encodeSnapshot(snap));
    const expected = structuredClone(snap);
    expected.virtualServers[0]!.realServers[1]!.reason = 'HTTP_GET: /: status 503 not ok';
    expect(back).toEqual(expected);
  });

  it('decodes in steps: one per virtual server, each yielding the checkers decoded so far; the end is decodeSnapshot', () => {
    const checker = (n: number) => ({ type: 'TCP_CHECK', up: n % 2 === 0, hasRun: true, retryIt: 0, lastDurationMs: n, lastReason: `r${n}`, checks: n, failures: 0 });
    const vs = (i: number, rsCount: number, ckPerRs: number) => ({
      key: `10.0.0.${i}:80/TCP`, quorumUp: true, liveWeight: rsCount, quorum: 1, hysteresis: 0, sorryActive: false,
      realServers: Array.from({ length: rsCount }, (_, r) => ({
        key: `192.168.${i}.${r}:80`, alive: true, inTable: true, weight: 1, reason: 'start',
        checkers: Array.from({ length: ckPerRs }, (_, c) => checker(r * 10 + c)),
      })),
    });
    const snap: HealthSnapshot = {
      counters: { probes: 1, probeFailures: 0, probesHung: 0, probesThrew: 0, scriptsRun: 0, behindSchedule: 0, verdictsDeferred: 0 },
      virtualServers: [vs(1, 3, 2), vs(2, 0, 0), vs(3, 4, 1)],
    };
    const compact = encodeSnapshot(snap);
    const steps = decodeSnapshotSteps(compact);
    const yielded: number[] = [];
    let step = steps.next();
    for (; !step.done; step = steps.next()) yielded.push(step.value);
    expect(yielded).toEqual([6, 6, 10]);
    expect(step.value).toEqual(decodeSnapshot(compact));
    expect(step.value).toEqual(snap);
  });

  it('an empty snapshot stays empty', () => {
    const empty: HealthSnapshot = { virtualServers: [], counters: { probes: 0, probeFailures: 0, probesHung: 0, probesThrew: 0, scriptsRun: 0, behindSchedule: 0, verdictsDeferred: 0 } };
    expect(decodeSnapshot(encodeSnapshot(empty))).toEqual(empty);
  });
});
