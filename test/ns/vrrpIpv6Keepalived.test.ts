import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, sleep } from './helpers/exec.js';
import { createVethLab, destroyLab, linkLocalReady, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf, type VrrpScenario } from './helpers/keepalivedConf.js';
import { VipMonitor } from './helpers/vipMonitor.js';

// VRRPv3 over IPv6 (RFC 5798): tslvsd against Debian's keepalived 2.2.7 on a veth pair, in both roles, on
// ff02::12 from the link-local addresses. Host A runs priority 150, host B 100; the same keepalived.conf
// text for both daemons apart from router_id and priority.
const PREFIX = labPrefix('k6');
const VIP = 'fd00:99::100';
const SKEW_100_MS = ((256 - 100) / 256) * 1000;
const CRASH_BOUND_MS = 3 * 1000 + SKEW_100_MS + 250;
const GRACEFUL_BOUND_MS = SKEW_100_MS + 250;
const hasKeepalived = /Keepalived/.test(Object.values(await runCommand('keepalived', ['--version'])).join(' '));

type Daemon = { kind: 'tslvsd'; p: TslvsdProcess } | { kind: 'keepalived'; p: KeepalivedProcess };

describe.skipIf(!isRoot || !hasKeepalived)('IPv6 VRRP: tslvsd against keepalived 2.2.7', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let watch: VipMonitor;
  const all: Daemon[] = [];
  let n = 0;

  const scenario = (host: 'a' | 'b'): VrrpScenario => ({ routerId: host, priority: host === 'a' ? 150 : 100, vips: [`${VIP}/64`] });

  function launch(kind: 'tslvsd' | 'keepalived', host: LabHost, s: VrrpScenario): Daemon {
    const file = path.join(dir, `${host.ns}-${n++}.conf`);
    writeFileSync(file, keepalivedConf(s));
    const d: Daemon = kind === 'tslvsd' ? { kind, p: startTslvsd(host.ns, file) } : { kind, p: startKeepalived(host.ns, file, path.join(dir, `ka-${n}`)) };
    all.push(d);
    return d;
  }

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', 'fd00:99::1/64', 'fd00:99::2/64');
    await Promise.all([linkLocalReady(a.ns), linkLocalReady(b.ns)]);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-k6-'));
    watch = new VipMonitor([a, b], VIP);
    await watch.started();
  });

  afterAll(async () => {
    await watch?.stop();
    await Promise.all(all.map((d) => d.p.crash()));
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function settledHolder(ns: string, ms = 2500): Promise<number> {
    await sleep(500);
    const from = performance.now();
    await sleep(ms);
    return watch.fractionHeldOnlyBy(ns, from, performance.now());
  }

  async function clearVip(host: LabHost): Promise<void> {
    await runCommand('ip', ['-n', host.ns, 'addr', 'del', `${VIP}/64`, 'dev', 'eth0']);
  }

  for (const role of ['keepalived-master', 'tslvsd-master'] as const) {
    const highKind = role === 'keepalived-master' ? 'keepalived' : 'tslvsd';
    const lowKind = role === 'keepalived-master' ? 'tslvsd' : 'keepalived';
    describe(`${highKind} (150) vs ${lowKind} (100)`, () => {
      let high: Daemon;
      let low: Daemon;

      it('the higher priority wins over IPv6, the other stays backup, never both holding the VIP', async () => {
        const t0 = performance.now();
        high = launch(highKind, a, scenario('a'));
        expect(await watch.heldBy(a.ns, t0, BOOT_MS)).toBeDefined();
        low = launch(lowKind, b, scenario('b'));
        if (low.kind === 'tslvsd') expect(await low.p.waitForState('BACKUP', BOOT_MS)).toBe(true);
        else expect(await low.p.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
        expect(await settledHolder(a.ns)).toBe(1);
        if (low.kind === 'tslvsd') expect(low.p.state()).toBe('BACKUP');
        if (high.kind === 'tslvsd') expect(high.p.state()).toBe('MASTER');
        expect(low.kind === 'keepalived' ? /Entering MASTER STATE/.test(low.p.log) : low.p.transitions().some((t) => t.to === 'MASTER')).toBe(false);
        // The VIP went on as keepalived puts it: its prefix, no duplicate address detection (never tentative).
        const shown = await runCommand('ip', ['-n', a.ns, '-6', 'addr', 'show', 'dev', 'eth0']);
        expect(shown.stdout).toMatch(new RegExp(`inet6 ${VIP}/64 scope global nodad`));
      });

      it(`after a crash of the master, the backup holds the VIP within ${CRASH_BOUND_MS.toFixed(0)} ms`, async () => {
        const t0 = performance.now();
        await high.p.crash();
        const at = await watch.heldBy(b.ns, t0, 10_000);
        expect(at).toBeDefined();
        console.log(`IPv6 ${highKind} crash → ${lowKind} takeover: ${(at! - t0).toFixed(0)} ms (bound ${CRASH_BOUND_MS.toFixed(0)})`);
        expect(at! - t0).toBeLessThanOrEqual(CRASH_BOUND_MS);
      });

      it('the returning higher priority preempts and ends up the only holder', async () => {
        await clearVip(a); // a killed daemon leaves its VIP behind
        const t0 = performance.now();
        high = launch(highKind, a, scenario('a'));
        expect(await watch.heldBy(a.ns, t0, BOOT_MS)).toBeDefined();
        expect(await settledHolder(a.ns)).toBe(1);
        if (low.kind === 'tslvsd') expect(low.p.transitions().at(-1)).toMatchObject({ from: 'MASTER', to: 'BACKUP' });
        else expect(await low.p.waitForLog(/Entering BACKUP STATE[\s\S]*Entering MASTER STATE[\s\S]*Entering BACKUP STATE/, 5000)).toBe(true);
      });

      it(`after a graceful stop of the master (priority 0), the backup holds the VIP within ${GRACEFUL_BOUND_MS.toFixed(0)} ms`, async () => {
        const t0 = performance.now();
        const stopping = high.p.stop();
        const at = await watch.heldBy(b.ns, t0, 10_000);
        await stopping;
        expect(at).toBeDefined();
        console.log(`IPv6 ${highKind} graceful stop → ${lowKind} takeover: ${(at! - t0).toFixed(0)} ms (bound ${GRACEFUL_BOUND_MS.toFixed(0)})`);
        expect(at! - t0).toBeLessThanOrEqual(GRACEFUL_BOUND_MS);
        expect(await settledHolder(b.ns, 1000)).toBe(1);
        await Promise.all(all.filter((d) => d.p.running).map((d) => d.p.stop()));
        await clearVip(a);
        await clearVip(b);
      });
    });
  }
});
