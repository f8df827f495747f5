import { describe, expect, it } from 'vitest';
import type { LvsSyncDaemon } from '../../src/config/model.js';
import { diffConfigs } from '../../src/daemon/configDiff.js';
import { SyncPart, type SyncDaemonKernel } from '../../src/daemon/syncPart.js';
import { buildStatus, formatStatusText } from '../../src/daemon/status.js';
import { IpvsExistsError, IpvsKernelError } from '../../src/ipvs/errors.js';
import type { SyncDaemonEntry, SyncDaemonSpec, SyncDaemonState } from '../../src/ipvs/types.js';
import { createDaemonMetrics } from '../../src/metrics/registry.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../../src/util/clock.js';
import { globalDefs, instance, model } from './modelFixtures.js';

/** A kernel that keeps its daemons (one per state, as IPVS) and a log of every call. */
class FakeKernel implements SyncDaemonKernel {
  daemons = new Map<SyncDaemonState, SyncDaemonEntry>();
  calls: string[] = [];
  failNext: Error | undefined;
  opened = 0;
  closed = 0;
  async startSyncDaemon(spec: SyncDaemonSpec): Promise<void> {
    this.calls.push(`start ${spec.state} ${spec.interface} ${spec.syncId}`);
    this.throwIfAsked();
    if (this.daemons.has(spec.state)) throw new IpvsExistsError('NEW_DAEMON');
    this.daemons.set(spec.state, { maxLen: 1472, port: 8848, ttl: 1, group: '224.0.0.81', ...spec });
  }
  async stopSyncDaemon(state: SyncDaemonState): Promise<void> {
    this.calls.push(`stop ${state}`);
    this.throwIfAsked();
    if (!this.daemons.delete(state)) throw new IpvsKernelError(3, 'DEL_DAEMON');
  }
  async listSyncDaemons(): Promise<SyncDaemonEntry[]> {
    return [...this.daemons.values()];
  }
  states(): string[] {
    return [...this.daemons.keys()].sort();
  }
  private throwIfAsked(): void {
    const e = this.failNext;
    this.failNext = undefined;
    if (e) throw e;
  }
}

const sync = (over: Partial<LvsSyncDaemon> = {}): LvsSyncDaemon => ({ loc: { file: '/etc/tslvsd.conf', line: 3 }, interface: 'eth0', vrrpInstance: 'VI_1', syncId: 51, ...over });
const withSync = (s: LvsSyncDaemon | undefined) => model({ global: globalDefs(s ? { lvsSyncDaemon: s } : {}) });

function setup(opts: { state?: string; drives?: (c: LvsSyncDaemon) => boolean } = {}) {
  const kernel = new FakeKernel();
  let vrrpState = opts.state;
  const part = new SyncPart({
    open: async () => {
      kernel.opened++;
      return { kernel, close: () => void kernel.closed++ };
    },
    instanceState: (name) => (name === 'VI_1' ? vrrpState : undefined),
    drives: opts.drives ?? (() => true),
    logger: silentLogger(),
    now: () => 1_700_000_000_000,
  });
  return { kernel, part, setState: (s: string) => (vrrpState = s) };
}

describe('SyncPart: the sync daemons follow the named instance', () => {
  it('starts the backup daemon (VRRP has not decided yet), switches to master and back without a gap', async () => {
    const { kernel, part } = setup();
    await part.start(withSync(sync()));
    expect(kernel.states()).toEqual(['backup']);
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    expect(kernel.states()).toEqual(['master']);
    expect(kernel.calls.slice(-2)).toEqual(['start master eth0 51', 'stop backup']);
    part.onVrrpTransition('VI_1', 'FAULT');
    await part.idle();
    expect(kernel.states()).toEqual(['backup']);
    expect(kernel.calls.slice(-2)).toEqual(['start backup eth0 51', 'stop master']);
    expect(part.status()).toMatchObject({ role: 'backup', switches: 2, errors: 0, running: [{ state: 'backup' }] });
  });

  it('ignores other instances, BACKUP after FAULT (same role) and INIT (stopping)', async () => {
    const { kernel, part } = setup();
    await part.start(withSync(sync()));
    part.onVrrpTransition('VI_2', 'MASTER');
    part.onVrrpTransition('VI_1', 'FAULT');
    part.onVrrpTransition('VI_1', 'BACKUP');
    part.onVrrpTransition('VI_1', 'INIT');
    await part.idle();
    expect(kernel.calls).toEqual(['start backup eth0 51']);
  });

  it('a burst of transitions ends in the last role', async () => {
    const { kernel, part } = setup();
    await part.start(withSync(sync()));
    for (let i = 0; i < 10; i++) {
      part.onVrrpTransition('VI_1', 'MASTER');
      part.onVrrpTransition('VI_1', 'BACKUP');
    }
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    expect(kernel.states()).toEqual(['master']);
    expect(kernel.calls.length).toBeLessThanOrEqual(7);
  });

  it('without an instance both daemons run; nothing is opened without lvs_sync_daemon', async () => {
    const a = setup();
    await a.part.start(withSync(sync({ vrrpInstance: undefined, syncId: 0 })));
    expect(a.kernel.states()).toEqual(['backup', 'master']);
    const b = setup();
    await b.part.start(withSync(undefined));
    expect(b.kernel.opened).toBe(0);
    expect(b.part.status()).toBeUndefined();
  });

  it('adopts what a crashed run left: a matching daemon stays, a stale master is stopped', async () => {
    const { kernel, part } = setup();
    kernel.daemons.set('backup', { state: 'backup', interface: 'eth0', syncId: 51, maxLen: 1472, port: 8848, ttl: 1, group: '224.0.0.81' });
    kernel.daemons.set('master', { state: 'master', interface: 'eth0', syncId: 51, maxLen: 1472, port: 8848, ttl: 1, group: '224.0.0.81' });
    await part.start(withSync(sync()));
    expect(kernel.calls).toEqual(['stop master']);
    expect(kernel.states()).toEqual(['backup']);
  });

  it('reload applies a diff: an unchanged config touches nothing, a new interface replaces the daemon, removal stops it', async () => {
    const { kernel, part, setState } = setup();
    const before = withSync(sync());
    await part.start(before);
    setState('MASTER');
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    kernel.calls = [];
    await part.reload(before, diffConfigs(before, before));
    expect(kernel.calls).toEqual([]);
    const moved = withSync(sync({ interface: 'eth1' }));
    await part.reload(moved, diffConfigs(before, moved));
    expect(kernel.calls).toEqual(['stop master', 'start master eth1 51']);
    const none = withSync(undefined);
    await part.reload(none, diffConfigs(moved, none));
    expect(kernel.states()).toEqual([]);
  });

  it('stop removes every daemon it runs and closes the kernel socket', async () => {
    const { kernel, part } = setup();
    await part.start(withSync(sync({ vrrpInstance: undefined })));
    await part.stop();
    expect(kernel.states()).toEqual([]);
    expect(kernel.closed).toBe(1);
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    expect(kernel.states()).toEqual([]);
  });

  it('a refused operation is counted and logged; the next change starts from what the kernel really runs', async () => {
    const { kernel, part } = setup();
    await part.start(withSync(sync()));
    kernel.failNext = new IpvsKernelError(19, 'NEW_DAEMON');
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    // the master could not start: the backup keeps running rather than nothing
    expect(part.status()).toMatchObject({ errors: 1, running: [{ state: 'backup' }] });
    expect(kernel.states()).toEqual(['backup']);
    part.onVrrpTransition('VI_1', 'BACKUP');
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    expect(kernel.states()).toEqual(['master']);
  });

  it('the mode decides who drives: --vrrp-only drives a named instance\'s daemons only', async () => {
    const vrrpOnly = (c: LvsSyncDaemon) => c.vrrpInstance !== undefined;
    const a = setup({ drives: vrrpOnly });
    await a.part.start(withSync(sync({ vrrpInstance: undefined })));
    expect(a.kernel.opened).toBe(0);
    const b = setup({ drives: vrrpOnly });
    await b.part.start(withSync(sync()));
    expect(b.kernel.states()).toEqual(['backup']);
  });
});

describe('sync daemons in status and metrics', () => {
  it('tslvsd status shows the role and the running daemons; the metrics show one series per state', async () => {
    const { part } = setup();
    await part.start(withSync(sync()));
    part.onVrrpTransition('VI_1', 'MASTER');
    await part.idle();
    const status = buildStatus({ version: 'x', pid: 1, startedAtEpochMs: 0, configFile: '/etc/tslvsd.conf', mode: 'full', vrrpInstances: [], virtualServers: [], syncDaemon: part.syncDaemons() });
    expect(status.syncDaemon).toEqual({ interface: 'eth0', syncId: 51, vrrpInstance: 'VI_1', role: 'master', running: ['master'], switches: 1, errors: 0, lastChange: '2023-11-14T22:13:20.000Z' });
    const text = formatStatusText(status);
    expect(text).toContain('IPVS connection sync');
    expect(text).toMatch(/eth0\s+51\s+VI_1\s+master\s+master\s+1\s+0/);

    const metrics = createDaemonMetrics({ sync: part }, { processMetrics: false });
    const scrape = await metrics.registry.metrics();
    expect(scrape).toContain('tslvsd_ipvs_sync_daemon_running{state="master",interface="eth0",syncid="51"} 1');
    expect(scrape).toContain('tslvsd_ipvs_sync_daemon_running{state="backup",interface="eth0",syncid="51"} 0');
    expect(scrape).toContain('tslvsd_ipvs_sync_daemon_switches_total 1');
    expect(scrape).toContain('tslvsd_ipvs_sync_daemon_errors_total 0');
  });
});

describe('SyncPart: preemption hold-off while the sync catches up', () => {
  async function holdSetup(nopreempt = false) {
    const clock = new FakeClock();
    const kernel = new FakeKernel();
    const holds: string[] = [];
    let connections = 0;
    const part = new SyncPart({
      open: async () => ({ kernel, close: () => undefined }),
      instanceState: () => undefined,
      drives: () => true,
      logger: silentLogger(),
      catchUp: {
        clock,
        countConnections: async () => connections,
        holdPreemption: (instance, held) => holds.push(`${instance} ${held ? 'held' : 'released'}`),
        settings: { minMs: 5000, quietMs: 5000, capMs: 30_000 },
        sampleMs: 500,
      },
    });
    await part.start(model({ global: globalDefs({ lvsSyncDaemon: sync() }), vrrpInstances: [instance({ name: 'VI_1', nopreempt })] }));
    const tick = async (ms: number) => {
      for (let i = 0; i < ms / 500; i++) {
        clock.advance(500);
        await new Promise((r) => setImmediate(r));
      }
    };
    return { part, holds, tick, setConnections: (n: number) => (connections = n) };
  }

  it('holds from start, releases once the table stopped growing for the quiet window', async () => {
    const t = await holdSetup();
    expect(t.holds).toEqual(['VI_1 held']);
    await t.tick(2000);
    t.setConnections(20);
    await t.tick(4500);
    expect(t.holds).toEqual(['VI_1 held']);
    expect(t.part.status()?.preemptionHold).toEqual({ active: true, connections: 20 });
    await t.tick(1000);
    expect(t.holds).toEqual(['VI_1 held', 'VI_1 released']);
    expect(t.part.status()?.preemptionHold).toMatchObject({ active: false, reason: 'quiet', connections: 20 });
  });

  it('becoming MASTER (no other master) ends the hold; back from FAULT holds again; nopreempt never holds', async () => {
    const t = await holdSetup();
    t.part.onVrrpTransition('VI_1', 'MASTER', 'BACKUP');
    await t.part.idle();
    expect(t.holds).toEqual(['VI_1 held', 'VI_1 released']);
    t.part.onVrrpTransition('VI_1', 'FAULT', 'MASTER');
    t.part.onVrrpTransition('VI_1', 'BACKUP', 'FAULT');
    expect(t.holds).toEqual(['VI_1 held', 'VI_1 released', 'VI_1 held']);
    await t.part.stop();
    expect(t.holds.at(-1)).toBe('VI_1 released');
    const n = await holdSetup(true);
    expect(n.holds).toEqual([]);
  });
});
