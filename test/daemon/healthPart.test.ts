import { describe, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/config/model.js';
import { diffConfigs } from '../../src/daemon/configDiff.js';
import { HealthPart, type HealthRunner } from '../../src/daemon/healthPart.js';
import type { HealthSnapshot, QuorumChange, RealServerChange } from '../../src/healthcheck/events.js';
import type { HealthCheckPlan } from '../../src/healthcheck/plan.js';
import type { KnownDestination } from '../../src/healthcheck/service.js';
import { HealthSnapshotView } from '../../src/healthcheck/snapshotView.js';
import { realServerFifoLine, virtualServerFifoLine } from '../../src/notify/fifoLines.js';
import { FakeClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { model, realServer, relocated, virtualServer } from './modelFixtures.js';

class FakeHealth implements HealthRunner {
  calls: string[] = [];
  known = new Map<string, Map<string, KnownDestination>>();
  quorum = new Map<string, boolean>();
  snapshotValue: HealthSnapshot | null = null;
  private change = new Set<(c: RealServerChange) => void>();
  private quorumListeners = new Set<(c: QuorumChange) => void>();
  start(_plan: HealthCheckPlan) {
    this.calls.push('start');
  }
  reload(_plan: HealthCheckPlan) {
    this.calls.push('reload');
  }
  async stop() {
    this.calls.push('stop');
  }
  snapshots = 0;
  async snapshotView() {
    this.snapshots++;
    return this.snapshotValue && HealthSnapshotView.of(this.snapshotValue);
  }
  onChange(l: (c: RealServerChange) => void) {
    this.change.add(l);
    return () => this.change.delete(l);
  }
  onQuorum(l: (c: QuorumChange) => void) {
    this.quorumListeners.add(l);
    return () => this.quorumListeners.delete(l);
  }
  emit(vs: string, rs: string, alive: boolean, reason: string) {
    const e: RealServerChange = { kind: 'realServer', virtualServer: vs, realServer: rs, alive, inTable: alive, weight: alive ? 1 : 0, sorryServer: false, reason };
    let m = this.known.get(vs);
    if (!m) this.known.set(vs, (m = new Map()));
    m.set(rs, { alive, inTable: alive, weight: e.weight, sorryServer: false, reason });
    for (const l of this.change) l(e);
  }
}

function setup(fifoLines: string[] = []) {
  const runner = new FakeHealth();
  const clock = new FakeClock();
  const lines: Array<Record<string, unknown>> = [];
  const forwarded: RealServerChange[] = [];
  const observed: Array<[string, number, number]> = [];
  const part = new HealthPart({
    runner,
    plan: (m: ConfigModel) => ({ virtualServers: [], source: m.source }) as unknown as HealthCheckPlan,
    onRealServerChange: (c) => forwarded.push(c),
    observeCheckDuration: (t, s, n) => observed.push([t, s, n]),
    transitions: {
      virtualServer: (vs, up) => fifoLines.push(virtualServerFifoLine(vs, up)),
      realServer: (vs, rs, alive) => fifoLines.push(realServerFifoLine(rs, vs, alive)),
    },
    clock,
    logger: createLogger({ level: 'info', format: 'json', sink: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } }),
  });
  return { runner, clock, lines, forwarded, observed, part };
}

const snapshot = (checks: number, up: boolean, behindSchedule = 0): HealthSnapshot => ({
  virtualServers: [
    {
      key: '10.0.0.100:80/TCP',
      quorumUp: true,
      liveWeight: 1,
      quorum: 1,
      hysteresis: 0,
      sorryActive: false,
      realServers: [
        {
          key: '192.168.1.10:80',
          alive: up,
          inTable: up,
          weight: 1,
          reason: 'x',
          checkers: [{ type: 'TCP_CHECK', up, hasRun: true, retryIt: 0, lastDurationMs: 12, lastReason: null, checks, failures: 0 }],
        },
      ],
    },
  ],
  counters: { probes: checks, probeFailures: 0, probesHung: 0, probesThrew: 0, scriptsRun: 0, behindSchedule, verdictsDeferred: behindSchedule ? 2 : 0 },
  scheduleLatenessMs: behindSchedule ? 1_500 : 0,
});

describe('HealthPart', () => {
  it('no virtual servers: the checks are not started', async () => {
    const { runner, part } = setup();
    await part.start(model({ virtualServers: [] }));
    expect(runner.calls).toEqual([]);
  });

  it('start resolves only once the runner has loaded the checks (VRRP starts after it)', async () => {
    const { runner, part } = setup();
    let release: () => void = () => undefined;
    const withLoad = Object.assign(runner, { loaded: () => new Promise<void>((r) => (release = r)) });
    let started = false;
    const starting = part.start(model()).then(() => (started = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(withLoad.calls).toEqual(['start']);
    expect(started).toBe(false);
    release();
    await starting;
    expect(started).toBe(true);
  });

  it('forwards every destination change to IPVS and logs one transition line per alive flip', async () => {
    const { runner, part, forwarded, lines } = setup();
    await part.start(model());
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', true, 'initial');
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', false, 'TCP_CHECK: connection refused');
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', true, 'TCP_CHECK: connected');
    expect(forwarded).toHaveLength(3);
    const transitions = lines.filter((l) => l.event === 'transition');
    expect(transitions.map((t) => [t.kind, t.instance, t.from, t.to, t.reason])).toEqual([
      ['real_server', '10.0.0.100:80/TCP/192.168.1.10:80', 'UP', 'DOWN', 'TCP_CHECK: connection refused'],
      ['real_server', '10.0.0.100:80/TCP/192.168.1.10:80', 'DOWN', 'UP', 'TCP_CHECK: connected'],
    ]);
  });

  it('status/metrics view: fresh alive from the mirror, checkers from the periodic snapshot; durations observed once per probe', async () => {
    const { runner, part, clock, observed } = setup();
    runner.snapshotValue = snapshot(3, true);
    await part.start(model());
    clock.advance(1);
    await Promise.resolve();
    await Promise.resolve();
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', false, 'refused');
    expect(part.virtualServers()).toEqual([
      { key: '10.0.0.100:80/TCP', quorumUp: true, realServers: [{ address: '192.168.1.10', port: 80, weight: 0, up: false, checkers: [{ type: 'TCP_CHECK', up: true }] }] },
    ]);
    // Three probes done: one call that counts three.
    expect(observed).toEqual([['TCP_CHECK', 0.012, 3]]);
    runner.snapshotValue = snapshot(4, false);
    clock.advance(5000);
    await Promise.resolve();
    await Promise.resolve();
    expect(observed).toEqual([['TCP_CHECK', 0.012, 3], ['TCP_CHECK', 0.012, 1]]);
    expect(part.virtualServers()[0]!.realServers[0]!.checkers).toEqual([{ type: 'TCP_CHECK', up: false }]);
  });

  it('a checker behind schedule says so: metrics from its snapshot, one warning a minute at most', async () => {
    const { runner, part, clock, lines } = setup();
    runner.snapshotValue = snapshot(1, true);
    await part.start(model());
    const settle = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let i = 0; i < 4; i++) await Promise.resolve();
    };
    await settle(1);
    expect(part.checkerSchedule()).toEqual({ behindSchedule: 0, verdictsDeferred: 0, latenessMs: 0 });
    const warnings = (): Array<Record<string, unknown>> => lines.filter((l) => l.event === 'checker_behind_schedule');
    expect(warnings()).toHaveLength(0);
    runner.snapshotValue = snapshot(2, true, 40);
    await settle(5_000);
    expect(part.checkerSchedule()).toEqual({ behindSchedule: 40, verdictsDeferred: 2, latenessMs: 1_500 });
    expect(warnings()).toMatchObject([{ level: 'warn', lateChecks: 40, latenessMs: 1_500, verdictsDeferred: 2 }]);
    runner.snapshotValue = snapshot(3, true, 90);
    await settle(5_000); // still late, but a warning was logged 5 s ago
    expect(warnings()).toHaveLength(1);
    await settle(60_000);
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ lateChecks: 50 });
  });

  it('a change event refreshes the per-checker detail soon (not only every 5 s)', async () => {
    const { runner, part, clock } = setup();
    runner.snapshotValue = snapshot(1, true);
    await part.start(model());
    clock.advance(1);
    await Promise.resolve();
    await Promise.resolve();
    runner.snapshotValue = snapshot(2, false);
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', false, 'refused');
    // The first look was at 0: the next one at least a second later (SNAPSHOT_MIN_SPACING_MS).
    clock.advance(900);
    await Promise.resolve();
    await Promise.resolve();
    expect(part.virtualServers()[0]!.realServers[0]).toMatchObject({ checkers: [{ type: 'TCP_CHECK', up: true }] });
    clock.advance(100);
    await Promise.resolve();
    await Promise.resolve();
    expect(part.virtualServers()[0]!.realServers[0]).toMatchObject({ up: false, checkers: [{ type: 'TCP_CHECK', up: false }] });
  });

  it('a stream of changes: a look about once a second, never pushed later by the next change', async () => {
    const { runner, part, clock } = setup();
    runner.snapshotValue = snapshot(1, true);
    await part.start(model());
    for (let t = 0; t < 5_000; t += 50) {
      runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', t % 100 === 0, 'flapping');
      clock.advance(50);
      await Promise.resolve();
      await Promise.resolve();
    }
    // 5 s of a change every 50 ms: one look at the start, then one a second (not 100, not none).
    expect(runner.snapshots).toBeGreaterThanOrEqual(5);
    expect(runner.snapshots).toBeLessThanOrEqual(6);
    await part.stop();
  });

  it('reload: untouched virtual servers leave the checks alone; a changed one reloads them; stop stops them', async () => {
    const { runner, part } = setup();
    const before = model();
    await part.start(before);
    const same = relocated(before);
    await part.reload(same, diffConfigs(before, same));
    expect(runner.calls).toEqual(['start']);
    const after = model({ virtualServers: [virtualServer({ realServers: [realServer('192.168.1.10', { weight: 3 })] })] });
    await part.reload(after, diffConfigs(before, after));
    await part.stop();
    expect(runner.calls).toEqual(['start', 'reload', 'stop']);
  });

  it('quorumOf: unknown until every real server reported, then from their live weight; a quorum event wins', async () => {
    const { runner, part } = setup();
    await part.start(model());
    const vs = '10.0.0.100:80/TCP';
    expect(part.quorumOf(vs)).toBeUndefined();
    runner.emit(vs, '192.168.1.10:80', false, 'initial');
    expect(part.quorumOf(vs)).toBeUndefined(); // .11 has not reported yet
    runner.emit(vs, '192.168.1.11:80', false, 'initial');
    expect(part.quorumOf(vs)).toBe(false);
    runner.emit(vs, '192.168.1.11:80', true, 'TCP_CHECK: connected');
    expect(part.quorumOf(vs)).toBe(true);
    runner.quorum.set(vs, false);
    expect(part.quorumOf(vs)).toBe(false);
    expect(part.quorumOf('10.9.9.9:80/TCP')).toBeUndefined();
    await part.stop();
  });

  it('notify FIFO: VS UP at the first report, one RS line per alive flip (none for the first state), VS lines after their RS line', async () => {
    const fifo: string[] = [];
    const { runner, part } = setup(fifo);
    await part.start(model());
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', true, 'initial');
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', true, 'weight only');
    await Promise.resolve();
    // The engine reports the quorum change before the real-server change that caused it (one batch).
    (runner as unknown as { quorumListeners: Set<(c: QuorumChange) => void> }).quorumListeners.forEach((l) =>
      l({ kind: 'quorum', virtualServer: '10.0.0.100:80/TCP', up: false, liveWeight: 0, threshold: 1 }),
    );
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', false, 'TCP_CHECK: connection refused');
    await Promise.resolve();
    runner.emit('10.0.0.100:80/TCP', '192.168.1.10:80', true, 'TCP_CHECK: connected');
    runner.emit('10.0.0.100:80/TCP', '192.168.9.9:80', false, 'not in the config: no line');
    await Promise.resolve();
    expect(fifo).toEqual([
      'VS [10.0.0.100]:tcp:80 UP\n',
      'RS [192.168.1.10]:tcp:80 [10.0.0.100]:tcp:80 DOWN\n',
      'VS [10.0.0.100]:tcp:80 DOWN\n',
      'RS [192.168.1.10]:tcp:80 [10.0.0.100]:tcp:80 UP\n',
    ]);
    await part.stop();
  });
});
