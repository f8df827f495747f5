import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileCheckVerdict } from '../../src/healthcheck/core/fileCheck.js';
import type { RealServerChange } from '../../src/healthcheck/events.js';
import type { HealthCheckPlan } from '../../src/healthcheck/plan.js';
import { HealthCheckService } from '../../src/healthcheck/service.js';
import { waitFor } from './helpers/tcpBackend.js';

describe('FILE_CHECK verdict (keepalived check_file.c / track_file.c)', () => {
  it('weight 0: a non-zero value takes the server down; reverse: a zero value does', () => {
    expect(fileCheckVerdict(0, 0, false, 5)).toMatchObject({ up: true, weight: null });
    expect(fileCheckVerdict(3, 0, false, 5)).toMatchObject({ up: false });
    expect(fileCheckVerdict(0, 0, true, 5)).toMatchObject({ up: false });
    expect(fileCheckVerdict(1, 0, true, 5)).toMatchObject({ up: true, weight: null });
  });

  it('weight N: value × weight added to the configured weight (floor 0); at or below -65536 it is down', () => {
    expect(fileCheckVerdict(0, 10, false, 5)).toEqual({ up: true, weight: null, reason: 'track file value 0 × weight 10' });
    expect(fileCheckVerdict(2, 10, false, 5)).toMatchObject({ up: true, weight: 25 });
    expect(fileCheckVerdict(2, 10, true, 50)).toMatchObject({ up: true, weight: 30 });
    expect(fileCheckVerdict(1, -10, false, 5)).toMatchObject({ up: true, weight: 0 });
    expect(fileCheckVerdict(100000, 1, false, 5)).toMatchObject({ up: true, weight: 65535 });
    expect(fileCheckVerdict(-65536, 1, false, 5)).toMatchObject({ up: false });
    expect(fileCheckVerdict(-65535, 1, false, 5)).toMatchObject({ up: true, weight: 0 });
  });
});

const dirs: string[] = [];
const services: HealthCheckService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


describe('FILE_CHECK in the health-check service (worker thread, a real file)', () => {
  it('takes the real server out while the file says so, changes its weight, and brings it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'filecheck-'));
    dirs.push(dir);
    const stop = join(dir, 'stop');
    const prio = join(dir, 'weight');
    writeFileSync(stop, '0\n');
    writeFileSync(prio, '0\n');
    const timing = { delayLoopMs: 1000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1000, alpha: false };
    const plan: HealthCheckPlan = {
      virtualServers: [{
        key: 'vs1', quorum: 1, hysteresis: 0, omega: false,
        realServers: [{
          key: 'rs1', weight: 3, inhibitOnFailure: false,
          checkers: [
            { type: 'FILE_CHECK', timing, path: stop, weight: 0, weightReverse: false, configuredWeight: 3 },
            { type: 'FILE_CHECK', timing, path: prio, weight: 10, weightReverse: false, configuredWeight: 3 },
          ],
        }],
      }],
    };
    const svc = new HealthCheckService();
    services.push(svc);
    const changes: RealServerChange[] = [];
    svc.onChange((c) => changes.push(c));
    svc.start(plan);
    await waitFor(() => changes.find((c) => c.alive), 5_000);
    expect(svc.known.get('vs1')?.get('rs1')).toMatchObject({ alive: true, weight: 3 });

    writeFileSync(prio, '2\n');
    await waitFor(() => (svc.known.get('vs1')?.get('rs1')?.weight === 23 ? true : undefined), 5_000);

    let from = changes.length;
    writeFileSync(stop, '1\n');
    const down = await waitFor(() => changes.slice(from).find((c) => !c.alive), 5_000);
    expect(down).toMatchObject({ inTable: false });
    expect(down.reason).toContain('weight 0');

    from = changes.length;
    writeFileSync(stop, '0\n');
    await waitFor(() => changes.slice(from).find((c) => c.alive), 5_000);
  });
});
