import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { nativeTcpProber } from '../../src/healthcheck/checkers/nativeTcpProber.js';
import { HealthCheckService } from '../../src/healthcheck/service.js';
import type { HealthCheckPlan, RealServerPlan } from '../../src/healthcheck/plan.js';
import { until } from '../util/until.js';

/**
 * The default (TSLVSD_TCP_REPEAT unset): the checker worker hands every TCP_CHECK's schedule to the native
 * prober's watches. On real loopback sockets, in a real checker worker: healthy servers stay up with
 * their checks counted, a listener that goes away takes its servers out within the retry rule, and they
 * come back when it returns.
 */
const prober = nativeTcpProber();
let healthy: Server;
let victim: Server | undefined;
let healthyPort = 0;
let victimPort = 0;
const previous = process.env.TSLVSD_TCP_REPEAT;

const listen = async (port = 0): Promise<Server> => {
  const s = createServer((c) => {
    c.on('error', () => {});
    c.destroy();
  });
  await new Promise<void>((r) => s.listen({ port, host: '0.0.0.0', backlog: 4096 }, () => r()));
  return s;
};

beforeAll(async () => {
  delete process.env.TSLVSD_TCP_REPEAT; // the worker inherits this thread's environment
  healthy = await listen();
  healthyPort = (healthy.address() as AddressInfo).port;
  victim = await listen();
  victimPort = (victim.address() as AddressInfo).port;
});
afterAll(async () => {
  if (previous === undefined) delete process.env.TSLVSD_TCP_REPEAT;
  else process.env.TSLVSD_TCP_REPEAT = previous;
  await new Promise((r) => healthy.close(r));
  if (victim) await new Promise((r) => victim!.close(r));
});

describe.skipIf(!prober)('checker worker with native TCP_CHECK scheduling', () => {
  it('keeps the healthy up, takes a closed listener\'s servers out and back, counts every check', async () => {
    const realServers: RealServerPlan[] = [];
    for (let i = 0; i < 300; i++) {
      const isVictim = i < 20;
      realServers.push({
        key: `rs${i}`, weight: 1, inhibitOnFailure: false,
        checkers: [{
          type: 'TCP_CHECK',
          timing: { delayLoopMs: 200, warmupMs: 200, retry: 1, delayBeforeRetryMs: 200, alpha: false },
          target: { host: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, port: isVictim ? victimPort : healthyPort, timeoutMs: 1_000 },
        }],
      });
    }
    const plan: HealthCheckPlan = { virtualServers: [{ key: 'vs', quorum: 1, hysteresis: 0, omega: false, realServers }] };
    const svc = new HealthCheckService({});
    const alive = (): number => [...(svc.known.get('vs')?.values() ?? [])].filter((d) => d.alive).length;
    try {
      svc.start(plan);
      await until(() => (svc.known.get('vs')?.size ?? 0) === 300, 20_000);
      await new Promise((r) => setTimeout(r, 1_500));
      const before = await svc.snapshot(10_000);
      expect(alive()).toBe(300);
      // 1.5 s at a 200 ms delay_loop: several checks of each server, counted by the native watches.
      expect(before!.counters.probes).toBeGreaterThanOrEqual(300 * 3);
      expect(before!.counters.probeFailures).toBe(0);

      await new Promise((r) => victim!.close(r));
      victim = undefined;
      await until(() => alive() === 280, 10_000);
      expect(alive()).toBe(280);
      const down = [...svc.known.get('vs')!].filter(([, d]) => !d.alive).map(([k]) => k);
      expect(down.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `rs${i}`).sort());

      victim = await listen(victimPort);
      await until(() => alive() === 300, 10_000);
      expect(alive()).toBe(300);
      expect(svc.restarts).toBe(0);
    } finally {
      await svc.stop();
    }
  }, 60_000);
});
