import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, sleep } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf, type VrrpScenario } from './helpers/keepalivedConf.js';
import { VipMonitor } from './helpers/vipMonitor.js';

// tslvsd against Debian's keepalived on a veth pair, in both roles. Host A runs the higher priority (150),
// host B the lower (100); both read the same keepalived.conf text apart from router_id and priority.
const PREFIX = labPrefix('ka');
const VIP = '10.99.0.200';
const SKEW_100_MS = ((256 - 100) / 256) * 1000;
const CRASH_BOUND_MS = 3 * 1000 + SKEW_100_MS + 250;
const GRACEFUL_BOUND_MS = SKEW_100_MS + 250;
const hasKeepalived = (await runCommand('keepalived', ['--version'])).stderr.includes('Keepalived') || (await runCommand('keepalived', ['--version'])).stdout.includes('Keepalived');

type Daemon = { kind: 'tslvsd'; p: TslvsdProcess } | { kind: 'keepalived'; p: KeepalivedProcess };

describe.skipIf(!isRoot || !hasKeepalived)('tslvsd against keepalived 2.2.7', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let watch: VipMonitor;
  const all: Daemon[] = [];
  let n = 0;

  const scenario = (host: 'a' | 'b', extra: Partial<VrrpScenario> = {}): VrrpScenario => ({
    routerId: host,
    priority: host === 'a' ? 150 : 100,
    vips: [`${VIP}/24`],
    password: 'secret1',
    ...extra,
  });

  function launch(kind: 'tslvsd' | 'keepalived', host: LabHost, s: VrrpScenario): Daemon {
    const file = path.join(dir, `${host.ns}-${n++}.conf`);
    writeFileSync(file, keepalivedConf(s));
    const d: Daemon =
      kind === 'tslvsd' ? { kind, p: startTslvsd(host.ns, file) } : { kind, p: startKeepalived(host.ns, file, path.join(dir, `ka-${n}`)) };
    all.push(d);
    return d;
  }

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-ka-'));
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

  async function stopEverything(): Promise<void> {
    await Promise.all(all.filter((d) => d.p.running).map((d) => d.p.stop()));
    await runCommand('ip', ['-n', a.ns, 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    await runCommand('ip', ['-n', b.ns, 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
  }

  for (const role of ['keepalived-master', 'tslvsd-master'] as const) {
    const highKind = role === 'keepalived-master' ? 'keepalived' : 'tslvsd';
    const lowKind = role === 'keepalived-master' ? 'tslvsd' : 'keepalived';
    describe(`${highKind} (150) vs ${lowKind} (100)`, () => {
      let high: Daemon;
      let low: Daemon;

      it('the higher priority wins, the other stays backup, never both holding the VIP', async () => {
        // The higher priority first (keepalived boots faster than Node: started together, the lower one could
        // be master for a moment before being preempted, which the preemption test covers).
        const t0 = performance.now();
        high = launch(highKind, a, scenario('a'));
        expect(await watch.heldBy(a.ns, t0, BOOT_MS)).toBeDefined();
        low = launch(lowKind, b, scenario('b'));
        if (low.kind === 'tslvsd') expect(await low.p.waitForState('BACKUP', BOOT_MS)).toBe(true);
        else expect(await low.p.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
        expect(await settledHolder(a.ns)).toBe(1);
        if (low.kind === 'tslvsd') expect(low.p.state()).toBe('BACKUP');
        if (high.kind === 'tslvsd') expect(high.p.state()).toBe('MASTER');
        if (low.kind === 'keepalived') expect(low.p.log).toMatch(/Entering BACKUP STATE/);
        expect(low.kind === 'keepalived' ? /Entering MASTER STATE/.test(low.p.log) : low.p.transitions().some((t) => t.to === 'MASTER')).toBe(false);
      });

      it(`after a crash of the master, the backup holds the VIP within ${CRASH_BOUND_MS.toFixed(0)} ms`, async () => {
        const t0 = performance.now();
        await high.p.crash();
        const at = await watch.heldBy(b.ns, t0, 10_000);
        expect(at).toBeDefined();
        console.log(`${highKind} crash → ${lowKind} takeover: ${(at! - t0).toFixed(0)} ms (bound ${CRASH_BOUND_MS.toFixed(0)})`);
        expect(at! - t0).toBeLessThanOrEqual(CRASH_BOUND_MS);
      });

      it('the returning higher priority preempts and ends up the only holder', async () => {
        // A killed daemon leaves its VIP behind; clear it as a restart (tslvsd does it itself).
        await runCommand('ip', ['-n', a.ns, 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
        const t0 = performance.now();
        high = launch(highKind, a, scenario('a'));
        expect(await watch.heldBy(a.ns, t0, BOOT_MS)).toBeDefined();
        expect(await settledHolder(a.ns)).toBe(1);
        if (low.kind === 'tslvsd') {
          expect(low.p.transitions().at(-1)).toMatchObject({ from: 'MASTER', to: 'BACKUP' });
        } else {
          expect(await low.p.waitForLog(/Entering BACKUP STATE[\s\S]*Entering MASTER STATE[\s\S]*Entering BACKUP STATE|Master received advert from 10\.99\.0\.1 with higher priority/, 5000)).toBe(true);
        }
      });

      it(`after a graceful stop of the master, the backup holds the VIP within ${GRACEFUL_BOUND_MS.toFixed(0)} ms`, async () => {
        const t0 = performance.now();
        const stopping = high.p.stop();
        const at = await watch.heldBy(b.ns, t0, 10_000);
        await stopping;
        expect(at).toBeDefined();
        console.log(`${highKind} graceful stop → ${lowKind} takeover: ${(at! - t0).toFixed(0)} ms (bound ${GRACEFUL_BOUND_MS.toFixed(0)})`);
        expect(at! - t0).toBeLessThanOrEqual(GRACEFUL_BOUND_MS);
        expect(await settledHolder(b.ns, 1000)).toBe(1);
        await stopEverything();
      });
    });
  }

  it('auth mismatch keeps them apart (each master of its own) and tslvsd counts it', async () => {
    const ts = launch('tslvsd', a, scenario('a', { password: 'secret1' }));
    const ka = launch('keepalived', b, scenario('b', { password: 'other99' }));
    expect(ts.kind === 'tslvsd' && (await ts.p.waitForState('MASTER', BOOT_MS))).toBe(true);
    expect(ka.kind === 'keepalived' && (await ka.p.waitForLog(/Entering MASTER STATE/, BOOT_MS))).toBe(true);
    await sleep(2500);
    expect(watch.current().sort()).toEqual([a.ns, b.ns].sort());
    if (ts.kind !== 'tslvsd') throw new Error('unreachable');
    const tslvsd = ts.p;
    const receiveCounters = async (): Promise<Record<string, number>> => {
      const from = tslvsd.lines.length;
      tslvsd.signal('SIGUSR2');
      const stats = await tslvsd.waitForLine((l) => l.event === 'vrrp_stats', 5000, from);
      return (stats!.instances as { receive: Record<string, number> }[])[0]!.receive;
    };
    // Every keepalived advert that reaches us is refused and counted. (keepalived as master sends fewer than
    // one a second here: each refused advert of ours re-arms its advert timer.) keepalived refuses ours too.
    let counters = await receiveCounters();
    for (let i = 0; i < 10 && counters.authenticationFailure! < 1; i++) {
      await sleep(1000);
      counters = await receiveCounters();
    }
    const instance = { receive: counters };
    expect(counters.authenticationFailure).toBeGreaterThanOrEqual(1);
    const kaLog = ka.kind === 'keepalived' ? ka.p.log : '';
    expect(kaLog.match(/received an invalid passwd/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(instance.receive.advertisementsReceived).toBe(0);
    await stopEverything();
  });
});
