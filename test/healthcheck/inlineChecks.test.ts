import { afterEach, describe, expect, it } from 'vitest';
import { threadId } from 'node:worker_threads';
import { HealthCheckService } from '../../src/healthcheck/service.js';
import type { HealthCheckPlan, TcpCheckSpec } from '../../src/healthcheck/plan.js';
import type { RealServerChange } from '../../src/healthcheck/events.js';
import type { CheckerPlacement } from '../../src/healthcheck/worker/placement.js';
import { nativeTcpWatchesAvailable } from '../../src/healthcheck/checkers/nativeTcpProber.js';
import { TcpBackend, waitFor } from './helpers/tcpBackend.js';


const tcpTo = (port: number): TcpCheckSpec => ({
  type: 'TCP_CHECK',
  timing: { delayLoopMs: 200, warmupMs: 0, retry: 1, delayBeforeRetryMs: 100, alpha: true },
  target: { host: '127.0.0.1', port, timeoutMs: 500 },
});

function plan(port: number, keys = ['rs1']): HealthCheckPlan {
  return {
    virtualServers: [{
      key: 'vs1', quorum: 1, hysteresis: 0, omega: false,
      realServers: keys.map((key) => ({ key, weight: 3, inhibitOnFailure: false, checkers: [tcpTo(port)] })),
    }],
  };
}


const services: HealthCheckService[] = [];
const backends: TcpBackend[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await Promise.all(backends.splice(0).map((b) => b.down()));
});

async function started(): Promise<TcpBackend> {
  const backend = new TcpBackend();
  backends.push(backend);
  await backend.up();
  return backend;
}

describe('HealthCheckService with the checks on the main thread (placement inline)', () => {
  it('the native prober is built here: the inline placement is the one these tests exercise', () => {
    expect(nativeTcpWatchesAvailable()).toBe(true);
  });

  it('runs the checks on this thread: up, down when the listener stops, up again; watches counted', async () => {
    const backend = await started();
    const svc = new HealthCheckService({ placement: 'inline' });
    services.push(svc);
    const changes: Array<RealServerChange & { at: number }> = [];
    svc.onChange((c) => changes.push({ ...c, at: performance.now() }));
    svc.start(plan(backend.port));
    expect(svc.placement).toBe('inline');
    expect(svc.workerThreadIds).toEqual([threadId]);
    await waitFor(() => changes.find((c) => c.alive), 5_000);

    const stoppedAt = performance.now();
    await backend.down();
    const down = await waitFor(() => changes.find((c) => !c.alive && c.at > stoppedAt), 5_000);
    expect(down.at - stoppedAt).toBeLessThan(300 + 4_000);
    expect(down.reason).toContain('refused');

    await backend.up();
    const back = performance.now();
    await waitFor(() => changes.find((c) => c.alive && c.at > back), 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const snap = await svc.snapshot(10_000);
    expect(snap?.virtualServers[0]?.realServers[0]?.checkers[0]).toMatchObject({ type: 'TCP_CHECK', up: true });
    // Steady checks repeat in the native prober's watch: their count still reaches the snapshot.
    expect(snap!.counters.probes).toBeGreaterThan(5);
  });

  it('a loop that is ended as a crash would is restarted, seeded so the table does not flap', async () => {
    const backend = await started();
    const troubles: string[] = [];
    const svc = new HealthCheckService({ placement: 'inline', restartDelayMs: 50, onTrouble: (m) => troubles.push(m) });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port));
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    const n = changes.length;
    expect(await svc.terminateWorker()).toBe(1);
    await waitFor(() => (svc.restarts === 1 && svc.workerThreadIds[0] !== undefined ? true : undefined), 5_000);
    expect(troubles.join('\n')).toContain('restarting');
    const snap = await svc.snapshot(10_000);
    expect(snap?.virtualServers[0]?.realServers[0]).toMatchObject({ key: 'rs1', alive: true });
    await new Promise((r) => setTimeout(r, 600));
    expect(changes.slice(n)).toEqual([]);
  });

  it('a reload that changes the placement moves the checks with their state: no flap, still checking', async () => {
    const a = await started();
    const b = await started();
    // The plan's size decides here, as the daemon's rule does with its checks per second.
    const placement = (p: HealthCheckPlan): CheckerPlacement => (p.virtualServers[0]!.realServers.length > 1 ? 'worker' : 'inline');
    const troubles: string[] = [];
    const svc = new HealthCheckService({ placement, onTrouble: (m) => troubles.push(m) });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(a.port));
    expect(svc.placement).toBe('inline');
    await waitFor(() => changes.find((c) => c.realServer === 'rs1' && c.alive), 5_000);
    const rs1Changes = changes.filter((c) => c.realServer === 'rs1').length;

    const two = plan(a.port, ['rs1', 'rs2']);
    two.virtualServers[0]!.realServers[1]!.checkers = [tcpTo(b.port)];
    svc.reload(two);
    expect(svc.placement).toBe('worker');
    expect(svc.workerThreadIds[0]).not.toBe(threadId);
    await waitFor(() => changes.find((c) => c.realServer === 'rs2' && c.alive), 10_000);
    expect(changes.filter((c) => c.realServer === 'rs1')).toHaveLength(rs1Changes);

    const beforeBack = changes.length;
    svc.reload(plan(a.port));
    expect(svc.placement).toBe('inline');
    expect(svc.workerThreadIds).toEqual([threadId]);
    // rs2 left the config with this reload: it leaves the table, though the new loop never knew it.
    const rs2Gone = await waitFor(() => changes.slice(beforeBack).find((c) => c.realServer === 'rs2' && !c.inTable), 5_000);
    expect(rs2Gone.reason).toBe('removed from configuration');
    expect(changes.filter((c) => c.realServer === 'rs1')).toHaveLength(rs1Changes);
    expect(svc.restarts).toBe(0);
    expect(troubles.filter((t) => t.includes('move'))).toHaveLength(2);

    // The moved checks still detect an outage.
    const at = changes.length;
    await a.down();
    await waitFor(() => changes.slice(at).find((c) => c.realServer === 'rs1' && !c.alive), 5_000);
  });
});
