import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { isRoot, sleep, waitFor } from './helpers/exec.js';
import { keepalivedConf, type VrrpScenario } from './helpers/keepalivedConf.js';
import { createVethLab, destroyLab, labPrefix, type LabHost } from './helpers/netns.js';
import { VipMonitor } from './helpers/vipMonitor.js';

/**
 * Restart after `kill -9` (src/vrrp/core/leftoverVips.ts): a lone master that starts towards MASTER keeps
 * the VIP its crashed predecessor left — no moment without it — and a restarted director that hears a
 * higher-priority master removes its leftover at once. keepalived 2.2.7 runs the same scenarios as the
 * reference (it keeps the VIP only as address owner, priority 255).
 */
const PREFIX = labPrefix('rs');
const VIP = '10.92.0.200';

type Daemon = { kind: 'tslvsd'; p: TslvsdProcess } | { kind: 'keepalived'; p: KeepalivedProcess };

describe.skipIf(!isRoot)('restart after kill -9', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let watch: VipMonitor;
  const all: Daemon[] = [];
  let n = 0;

  function start(kind: 'tslvsd' | 'keepalived', host: LabHost, scenario: VrrpScenario): Daemon {
    const file = path.join(dir, `${host.ns}-${n++}.conf`);
    writeFileSync(file, keepalivedConf(scenario));
    const d: Daemon = kind === 'tslvsd' ? { kind, p: startTslvsd(host.ns, file) } : { kind, p: startKeepalived(host.ns, file, path.join(dir, `ka-${n}`)) };
    all.push(d);
    return d;
  }
  async function becameMaster(d: Daemon): Promise<boolean> {
    return d.kind === 'tslvsd' ? await d.p.waitForState('MASTER', BOOT_MS) : await d.p.waitForLog(/Entering MASTER STATE/, BOOT_MS);
  }
  /** ms in [from, to) during which ns did not hold the VIP. */
  const gapMs = (ns: string, from: number, to: number): number => (1 - watch.fractionHeldOnlyBy(ns, from, to)) * (to - from);
  /** First moment at or after since when ns no longer holds the VIP. */
  async function releasedBy(ns: string, since: number, timeoutMs: number): Promise<number | undefined> {
    return await waitFor(() => watch.samples.find((s) => s.at >= since && !s.holders.includes(ns))?.at, { timeoutMs, intervalMs: 5 });
  }

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.92.0.1/24', '10.92.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-rs-'));
    watch = new VipMonitor([a, b], VIP);
    await watch.started();
  });

  afterAll(async () => {
    await watch?.stop();
    await Promise.all(all.map((d) => d.p.crash()));
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lone = (priority: number): VrrpScenario => ({ routerId: 'a', state: 'MASTER', priority, vips: [`${VIP}/24`], garpMasterDelay: 0 });
  const results: string[] = [];
  afterAll(() => console.log(['restart of a lone master after kill -9 — time without the VIP:', ...results].join('\n  ')));

  for (const priority of [150, 255]) {
    for (const kind of ['tslvsd', 'keepalived'] as const) {
      it(`${kind}, state MASTER priority ${priority}: kill -9, start again${kind === 'tslvsd' ? ': the VIP never goes' : ' (reference)'}`, async () => {
        const first = start(kind, a, lone(priority));
        expect(await becameMaster(first)).toBe(true);
        expect(await watch.heldBy(a.ns, performance.now(), 5000)).toBeDefined();
        await sleep(500);
        const t0 = performance.now();
        await first.p.crash();
        await sleep(300);
        expect(watch.current()).toEqual([a.ns]); // the crash left it behind
        const second = start(kind, a, lone(priority));
        expect(await becameMaster(second)).toBe(true);
        await sleep(1500);
        const t1 = performance.now();
        const gap = gapMs(a.ns, t0, t1);
        results.push(`${kind}, priority ${priority}: ${gap.toFixed(0)} ms without the VIP (window ${((t1 - t0) / 1000).toFixed(1)} s)`);
        if (kind === 'tslvsd') {
          expect(gap).toBe(0);
          expect(second.kind === 'tslvsd' && second.p.lines.some((l) => l.event === 'vips_kept')).toBe(true);
        }
        if (second.kind === 'tslvsd') await second.p.stop();
        else await second.p.stop();
        expect(await waitFor(() => watch.current().length === 0, { timeoutMs: 5000 })).toBe(true);
      }, 2 * BOOT_MS + 20_000);
    }
  }

  for (const kind of ['tslvsd', 'keepalived'] as const) {
    it(`${kind} restarted (state MASTER, priority 100) while a priority-200 master runs: removes the leftover VIP, stays BACKUP`, async () => {
      const first = start(kind, a, { ...lone(100), routerId: 'a' });
      expect(await becameMaster(first)).toBe(true);
      expect(await watch.heldBy(a.ns, performance.now(), 5000)).toBeDefined();
      await first.p.crash();
      // The higher master comes up while a is down (a's VIP is still on a: the crash left it).
      const higher = start('tslvsd', b, { routerId: 'b', state: 'BACKUP', priority: 200, vips: [`${VIP}/24`] });
      expect(await becameMaster(higher)).toBe(true);
      expect(await waitFor(() => watch.current().length === 2, { timeoutMs: 5000 })).toBe(true);
      const spawnedAt = performance.now();
      const again = start(kind, a, { ...lone(100), routerId: 'a' });
      const gone = await releasedBy(a.ns, spawnedAt, BOOT_MS);
      expect(gone).toBeDefined();
      let detail = '';
      if (again.kind === 'tslvsd') {
        // tslvsd kept it while starting towards MASTER, and dropped it on hearing b: within about one
        // advert interval of its start-up transition (log time, epoch ms, vs the monitor's clock).
        const first = await again.p.waitForLine((l) => l.event === 'transition', BOOT_MS);
        expect(await again.p.waitForLine((l) => l.event === 'vips_cleared', 5000)).toMatchObject({ instance: 'VI_1', state: 'BACKUP', master: '10.92.0.2' });
        const afterStart = performance.timeOrigin + gone! - Date.parse(String(first!.time));
        detail = `, ${afterStart.toFixed(0)} ms after its start-up transition`;
        expect(afterStart).toBeLessThan(1000 + 1500);
      }
      await sleep(3000);
      if (again.kind === 'tslvsd') {
        expect(again.p.transitions().some((t) => t.to === 'MASTER')).toBe(false);
        expect(again.p.state()).toBe('BACKUP');
      } else {
        expect(/Entering MASTER STATE/.test(again.p.log.split('Entering BACKUP STATE').slice(1).join(''))).toBe(false);
      }
      expect(watch.current()).toEqual([b.ns]);
      results.push(`${kind} restarted beside a higher master: its leftover VIP removed ${(gone! - spawnedAt).toFixed(0)} ms after the process was spawned${detail}`);
      await Promise.all([again.p.stop(), higher.p.stop()]);
    }, 3 * BOOT_MS + 20_000);
  }
});
