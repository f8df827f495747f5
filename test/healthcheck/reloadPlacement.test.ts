// Its own file: the module state it tests (whether the checker loop is loaded on this thread) is per
// module graph, and the other inline tests load it.
import { afterEach, describe, expect, it } from 'vitest';
import { threadId } from 'node:worker_threads';
import { HealthCheckService } from '../../src/healthcheck/service.js';
import type { HealthCheckPlan } from '../../src/healthcheck/plan.js';
import type { RealServerChange } from '../../src/healthcheck/events.js';
import type { CheckerPlacement } from '../../src/healthcheck/worker/placement.js';
import { checkerLoopLoaded, loadCheckerLoop } from '../../src/healthcheck/worker/inlineChecker.js';
import { TcpBackend, waitFor } from './helpers/tcpBackend.js';

function plan(port: number, keys: string[]): HealthCheckPlan {
  return {
    virtualServers: [{
      key: 'vs1', quorum: 1, hysteresis: 0, omega: false,
      realServers: keys.map((key) => ({
        key, weight: 1, inhibitOnFailure: false,
        checkers: [{ type: 'TCP_CHECK', timing: { delayLoopMs: 200, warmupMs: 0, retry: 1, delayBeforeRetryMs: 100, alpha: true }, target: { host: '127.0.0.1', port, timeoutMs: 500 } }],
      })),
    }],
  };
}

const services: HealthCheckService[] = [];
const backends: TcpBackend[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await Promise.all(backends.splice(0).map((b) => b.down()));
});

describe('a reload that would move the checks onto the main thread', () => {
  it('keeps them in the worker while their modules are not loaded here; moves them once they are', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const placement = (p: HealthCheckPlan): CheckerPlacement => (p.virtualServers[0]!.realServers.length > 1 ? 'worker' : 'inline');
    const svc = new HealthCheckService({ placement });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port, ['rs1', 'rs2']));
    expect(svc.placement).toBe('worker');
    await svc.loaded(); // at once: a worker loads on its own thread
    await waitFor(() => changes.find((c) => c.realServer === 'rs1' && c.alive), 10_000);
    expect(checkerLoopLoaded()).toBe(false);

    svc.reload(plan(backend.port, ['rs1']));
    expect(svc.placement).toBe('worker');
    expect(svc.workerThreadIds[0]).not.toBe(threadId);
    expect(checkerLoopLoaded()).toBe(false);

    await loadCheckerLoop();
    svc.reload(plan(backend.port, ['rs1']));
    expect(svc.placement).toBe('inline');
    expect(svc.workerThreadIds).toEqual([threadId]);
    const at = changes.length;
    await backend.down();
    await waitFor(() => changes.slice(at).find((c) => c.realServer === 'rs1' && !c.alive), 5_000);
  });
});
