import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { HealthCheckService } from '../../src/healthcheck/service.js';
import { CHECKER_THREAD_NICE } from '../../src/healthcheck/worker/checkerThreadNice.js';
import type { HealthCheckPlan } from '../../src/healthcheck/plan.js';
import type { RealServerChange } from '../../src/healthcheck/events.js';
import { TcpBackend, waitFor } from './helpers/tcpBackend.js';


function plan(port: number, delayLoopMs = 200): HealthCheckPlan {
  return {
    virtualServers: [{
      key: 'vs1', quorum: 1, hysteresis: 0, omega: false,
      realServers: [{
        key: 'rs1', weight: 3, inhibitOnFailure: false,
        checkers: [{
          type: 'TCP_CHECK',
          timing: { delayLoopMs, warmupMs: 0, retry: 1, delayBeforeRetryMs: 100, alpha: true },
          target: { host: '127.0.0.1', port, timeoutMs: 500 },
        }],
      }],
    }],
  };
}


const services: HealthCheckService[] = [];
const backends: TcpBackend[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await Promise.all(backends.splice(0).map((b) => b.down()));
});

/** Each thread's nice: field 19 of /proc/PID/task/TID/stat (the comm before it may hold spaces). */
function niceOfThreads(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // a thread that ended between readdir and read
    }
  });
}

describe('HealthCheckService (checks in a worker thread)', () => {
  it('reports a real server up, down when its listener stops, up again when it returns', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const svc = new HealthCheckService();
    services.push(svc);
    const changes: Array<RealServerChange & { at: number }> = [];
    svc.onChange((c) => changes.push({ ...c, at: performance.now() }));
    svc.start(plan(backend.port));
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    expect(changes.at(-1)).toMatchObject({ virtualServer: 'vs1', realServer: 'rs1', alive: true, inTable: true, weight: 3 });

    const stoppedAt = performance.now();
    await backend.down();
    const down = await waitFor(() => changes.find((c) => !c.alive && c.at > stoppedAt), 5_000);
    // Bound: delay_loop + retry × delay_before_retry + connect (refused at once) = 0.3 s; generous slack
    // for a shared, loaded machine.
    expect(down.at - stoppedAt).toBeLessThan(300 + 4_000);
    expect(down).toMatchObject({ inTable: false });
    expect(down.reason).toContain('refused');

    await backend.up();
    const back = performance.now();
    await waitFor(() => changes.find((c) => c.alive && c.at > back), 5_000);
    expect(svc.known.get('vs1')?.get('rs1')).toMatchObject({ alive: true, weight: 3 });

    const snap = await svc.snapshot(10_000);
    expect(snap?.virtualServers[0]?.realServers[0]?.checkers[0]).toMatchObject({ type: 'TCP_CHECK', up: true });
    expect(snap!.counters.probes).toBeGreaterThan(2);
  });

  it('runs its checker thread at nice 5, the rest of the process as it was', async () => {
    const niceFive = () => niceOfThreads().filter((n) => n === CHECKER_THREAD_NICE).length;
    const before = niceFive();
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const svc = new HealthCheckService();
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port));
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    expect(CHECKER_THREAD_NICE).toBe(5);
    expect(niceFive()).toBe(before + 1);
    expect(niceOfThreads().filter((n) => n === 0).length).toBeGreaterThan(0);
    await svc.stop();
    await waitFor(() => (niceFive() === before ? true : undefined), 5_000);
  });

  it('checker_priority (workerNice) sets the checker thread\'s nice instead of 5', async () => {
    const niceSeven = () => niceOfThreads().filter((n) => n === 7).length;
    const before = niceSeven();
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const svc = new HealthCheckService({ workerNice: 7 });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port));
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    expect(niceSeven()).toBe(before + 1);
    await svc.stop();
    await waitFor(() => (niceSeven() === before ? true : undefined), 5_000);
  });

  it('restarts a worker that dies, seeded with the known state so the table does not flap', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const troubles: string[] = [];
    const svc = new HealthCheckService({ restartDelayMs: 50, onTrouble: (m) => troubles.push(m) });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port));
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    const first = svc.workerThreadIds[0];
    const n = changes.length;
    await svc.terminateWorker();
    await waitFor(() => (svc.workerThreadIds[0] !== undefined && svc.workerThreadIds[0] !== first ? true : undefined), 5_000);
    expect(svc.restarts).toBe(1);
    expect(troubles.join('\n')).toContain('restarting');
    // The new worker runs checks (snapshot answers) and the alive server never went out of the table.
    const snap = await svc.snapshot(10_000);
    expect(snap?.virtualServers[0]?.realServers[0]).toMatchObject({ key: 'rs1', alive: true });
    await new Promise((r) => setTimeout(r, 600));
    expect(changes.slice(n)).toEqual([]);
  });

  it('a worker whose loop is stuck misses heartbeats and is replaced, without a table flap', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const troubles: string[] = [];
    const svc = new HealthCheckService({ heartbeatTimeoutMs: 3_000, restartDelayMs: 50, onTrouble: (m) => troubles.push(m) });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port));
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    const n = changes.length;
    const first = svc.workerThreadIds[0];
    // Reach the worker as a runaway checker would: its loop blocked for 30 s.
    const slots = (svc as unknown as { slots: Array<{ worker?: Worker }> }).slots;
    slots[0]!.worker!.postMessage({ type: 'stall', ms: 60_000 });
    await waitFor(() => (svc.workerThreadIds[0] !== undefined && svc.workerThreadIds[0] !== first ? true : undefined), 15_000);
    expect(troubles.join('\n')).toContain('silent');
    expect(svc.restarts).toBeGreaterThanOrEqual(1);
    const snap = await svc.snapshot(10_000);
    expect(snap?.virtualServers[0]?.realServers[0]).toMatchObject({ alive: true });
    expect(changes.slice(n)).toEqual([]);
  });

  it('a new worker slow to send its first heartbeat (loading) is given startTimeoutMs, not the heartbeat timeout', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const troubles: string[] = [];
    const svc = new HealthCheckService({ heartbeatTimeoutMs: 2_000, startTimeoutMs: 60_000, restartDelayMs: 50, onTrouble: (m) => troubles.push(m) });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan(backend.port));
    // As a worker loading on a starved machine: nothing from it for 6 s, three heartbeat timeouts.
    const slots = (svc as unknown as { slots: Array<{ worker?: Worker }> }).slots;
    slots[0]!.worker!.postMessage({ type: 'stall', ms: 6_000 });
    await waitFor(() => changes.find((c) => c.alive), 20_000);
    expect(svc.restarts).toBe(0);
    expect(troubles).toEqual([]);
  });

  it('reload keeps an unchanged real server and adds a new one', async () => {
    const a = new TcpBackend();
    const b = new TcpBackend();
    backends.push(a, b);
    await a.up();
    await b.up();
    const svc = new HealthCheckService();
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    const p1 = plan(a.port);
    svc.start(p1);
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    const rs1Before = changes.filter((c) => c.realServer === 'rs1').length;
    const p2 = plan(a.port);
    const rs2 = { ...p2.virtualServers[0]!.realServers[0]!, key: 'rs2' };
    rs2.checkers = [{ ...rs2.checkers[0]!, target: { host: '127.0.0.1', port: b.port, timeoutMs: 500 } } as typeof rs2.checkers[0]];
    p2.virtualServers[0]!.realServers.push(rs2);
    svc.reload(p2);
    await waitFor(() => changes.find((c) => c.realServer === 'rs2' && c.alive), 5_000);
    expect(changes.filter((c) => c.realServer === 'rs1')).toHaveLength(rs1Before);
    expect(svc.known.get('vs1')?.get('rs1')).toMatchObject({ alive: true });
  });

  it('spreads virtual servers over several workers and merges their snapshots', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const svc = new HealthCheckService({ workers: 2 });
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    const vss = ['vsA', 'vsB', 'vsC', 'vsD'].map((key) => ({ ...plan(backend.port).virtualServers[0]!, key }));
    svc.start({ virtualServers: vss });
    await waitFor(() => (changes.filter((c) => c.alive).length === 4 ? true : undefined), 5_000);
    expect(svc.workerThreadIds).toHaveLength(2);
    expect(new Set(svc.workerThreadIds).size).toBe(2);
    const snap = await svc.snapshot(10_000);
    expect(snap?.virtualServers.map((v) => v.key).sort()).toEqual(['vsA', 'vsB', 'vsC', 'vsD']);
  });

  it('omega: notify_down of alive servers runs at stop, which waits for it (bounded: 2 s, then its group is ended)', async () => {
    const backend = new TcpBackend();
    backends.push(backend);
    await backend.up();
    const dir = mkdtempSync(join(tmpdir(), 'hc-omega-'));
    try {
      const out = join(dir, 'down.txt');
      const script = join(dir, 'down.sh');
      writeFileSync(script, `#!/bin/sh\nsleep 0.5\necho "$1" > ${out}\nexec sleep 600\n`);
      chmodSync(script, 0o755);
      const svc = new HealthCheckService();
      const p = plan(backend.port);
      p.virtualServers[0]!.omega = true;
      p.virtualServers[0]!.realServers[0]!.notifyDown = { argv: [script, 'rs1 down'] };
      const changes: RealServerChange[] = [];
      svc.onChange((c) => changes.push(c));
      svc.start(p);
      await waitFor(() => changes.find((c) => c.alive), 5_000);
      expect(existsSync(out)).toBe(false); // started at stop, not before
      const t0 = performance.now();
      await svc.stop();
      const took = performance.now() - t0;
      // It ran (its first half) during the grace; then its group was ended: stop stayed bounded.
      expect(readFileSync(out, 'utf8').trim()).toBe('rs1 down');
      expect(took).toBeGreaterThan(1_900);
      expect(took).toBeLessThan(8_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});
