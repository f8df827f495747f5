import { describe, expect, it } from 'vitest';
import { checksPerSecond, INLINE_MAX_CHECKS_PER_SECOND, placementFor } from '../../src/healthcheck/worker/placement.js';
import type { CheckerSpec, HealthCheckPlan } from '../../src/healthcheck/plan.js';

const timing = { delayLoopMs: 1_000, warmupMs: 0, retry: 1, delayBeforeRetryMs: 1_000, alpha: false };
const tcp = (host = '10.0.0.1', delayLoopMs = 1_000): CheckerSpec => ({ type: 'TCP_CHECK', timing: { ...timing, delayLoopMs }, target: { host, port: 80, timeoutMs: 1_000 } });
const http: CheckerSpec = { type: 'HTTP_GET', timing, target: { host: '10.0.0.1', port: 80, timeoutMs: 1_000 }, urls: [{ path: '/', statusCodes: [] }], httpProtocol: '1.0' };
const misc: CheckerSpec = { type: 'MISC_CHECK', timing, argv: ['/bin/true'], timeoutMs: 1_000, dynamic: false };

function planOf(servers: number, checkers: (i: number) => CheckerSpec[]): HealthCheckPlan {
  return {
    virtualServers: [{
      key: 'vs', quorum: 1, hysteresis: 0, omega: false,
      realServers: Array.from({ length: servers }, (_, i) => ({ key: `rs${i}`, weight: 1, inhibitOnFailure: false, checkers: checkers(i) })),
    }],
  };
}

describe('where the checker loop runs (placement)', () => {
  it('counts the checks a second a plan asks for: one per checker per delay_loop', () => {
    expect(checksPerSecond(planOf(10, () => [tcp()]))).toBe(10);
    expect(checksPerSecond(planOf(10, () => [tcp('10.0.0.1', 250), tcp()]))).toBe(50);
    expect(checksPerSecond({ virtualServers: [] })).toBe(0);
  });

  it('TCP_CHECKs alone, repeated natively, up to the limit: on the main thread', () => {
    expect(placementFor(planOf(1_000, () => [tcp()]), true)).toBe('inline');
    expect(placementFor(planOf(INLINE_MAX_CHECKS_PER_SECOND, () => [tcp()]), true)).toBe('inline');
    expect(placementFor({ virtualServers: [] }, true)).toBe('inline');
  });

  it('more checks a second than the limit: a worker thread', () => {
    expect(placementFor(planOf(INLINE_MAX_CHECKS_PER_SECOND + 1, () => [tcp()]), true)).toBe('worker');
    expect(placementFor(planOf(1_000, () => [tcp('10.0.0.1', 400)]), true)).toBe('worker');
  });

  it('any other checker type, or one TCP_CHECK through Node sockets (scoped address), needs the worker', () => {
    expect(placementFor(planOf(10, (i) => (i === 7 ? [http] : [tcp()])), true)).toBe('worker');
    expect(placementFor(planOf(10, (i) => (i === 2 ? [tcp(), misc] : [tcp()])), true)).toBe('worker');
    expect(placementFor(planOf(10, (i) => (i === 3 ? [tcp('fe80::1%eth0')] : [tcp()])), true)).toBe('worker');
  });

  it('without the native prober every check would be JavaScript: the worker', () => {
    expect(placementFor(planOf(10, () => [tcp()]), false)).toBe('worker');
  });
});
