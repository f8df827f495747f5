import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { HealthCheckEngine, type ProbeRunner } from '../../src/healthcheck/core/engine.js';
import type { CheckerSpec, CheckTiming, HealthCheckPlan, RealServerPlan, ScriptSpec, VirtualServerPlan } from '../../src/healthcheck/plan.js';
import type { ProbeResult } from '../../src/healthcheck/result.js';
import type { HealthEvent, RealServerChange } from '../../src/healthcheck/events.js';

const timing = (over: Partial<CheckTiming> = {}): CheckTiming => ({
  delayLoopMs: 10_000, warmupMs: 0, retry: 1, delayBeforeRetryMs: 1_000, alpha: false, ...over,
});

const tcp = (host: string, over: Partial<CheckTiming> = {}): CheckerSpec => ({
  type: 'TCP_CHECK', timing: timing(over), target: { host, port: 80, timeoutMs: 3_000 },
});

const misc = (name: string, over: Partial<CheckTiming> = {}): CheckerSpec => ({
  type: 'MISC_CHECK', timing: timing({ retry: 0, ...over }), argv: ['/bin/check', name], timeoutMs: 5_000, dynamic: true,
});

const rs = (key: string, over: Partial<RealServerPlan> = {}): RealServerPlan => ({
  key, weight: 1, inhibitOnFailure: false, checkers: [tcp(key)], ...over,
});

const vs = (realServers: RealServerPlan[], over: Partial<VirtualServerPlan> = {}): VirtualServerPlan => ({
  key: 'VS', quorum: 1, hysteresis: 0, omega: false, realServers, ...over,
});

/** Probe results scripted per target: a function of the probe host, changeable during the test. */
class ScriptedProbes implements ProbeRunner {
  readonly verdict = new Map<string, () => ProbeResult | 'hang' | 'throw' | { after: number; result: ProbeResult }>();
  readonly calls: Array<{ at: number; host: string }> = [];
  constructor(private readonly clock: FakeClock) {}
  set(host: string, up: boolean, extra: Partial<ProbeResult> = {}): void {
    this.verdict.set(host, () => ({ up, reason: up ? 'ok' : 'refused', durationMs: 1, ...extra }));
  }
  run(spec: CheckerSpec): Promise<ProbeResult> {
    const host = spec.type === 'MISC_CHECK' ? spec.argv[1]! : spec.type === 'FILE_CHECK' ? spec.path : spec.target.host;
    this.calls.push({ at: this.clock.now(), host });
    const v = (this.verdict.get(host) ?? (() => ({ up: true, reason: 'ok', durationMs: 1 })))();
    if (v === 'hang') return new Promise(() => {});
    if (v === 'throw') throw new Error('boom');
    if (typeof v === 'object' && v !== null && 'after' in v) return new Promise((resolve) => this.clock.setTimer(v.after, () => resolve(v.result)));
    return Promise.resolve(v);
  }
}

function setup(plan: HealthCheckPlan, random = () => 0) {
  const clock = new FakeClock();
  const probes = new ScriptedProbes(clock);
  const events: Array<HealthEvent & { at: number }> = [];
  const scripts: ScriptSpec[] = [];
  const engine = new HealthCheckEngine({
    clock, random, probes, scripts: { run: (script) => scripts.push(script) },
    onEvent: (e) => events.push({ ...e, at: clock.now() }),
  });
  /** Advances the fake clock in small steps, letting probe promises settle between steps. */
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  // Steps of 1 ms; probes due now run first, so results land at the time they were due.
  const tick = async (ms: number): Promise<void> => {
    clock.advance(0);
    await flush();
    for (let t = 0; t < ms; t++) {
      clock.advance(1);
      await flush();
    }
  };
  const rsEvents = (key: string): Array<RealServerChange & { at: number }> =>
    events.filter((e): e is RealServerChange & { at: number } => e.kind === 'realServer' && e.realServer === key);
  return { clock, probes, events, scripts, engine, tick, rsEvents, start: async () => { engine.start(plan); clock.advance(0); await flush(); } };
}

describe('HealthCheckEngine: retries', () => {
  it('a failure while up is retried `retry` times delay_before_retry apart, then marks DOWN; one success marks UP', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 2 })] })])] });
    await t.start();
    expect(t.rsEvents('a')).toMatchObject([{ alive: true, inTable: true, weight: 1, at: 0 }]);
    t.probes.set('a', false);
    await t.tick(10_000); // the check at 10 s fails (retry 1)
    await t.tick(1_000); // 11 s fails (retry 2)
    expect(t.rsEvents('a')).toHaveLength(1);
    await t.tick(1_000); // 12 s fails: DOWN
    const down = t.rsEvents('a')[1];
    expect(down).toMatchObject({ alive: false, inTable: false });
    expect(down!.at).toBe(12_000);
    expect(down!.reason).toContain('refused');
    // While down, checks run every delay_loop, no retries.
    const before = t.probes.calls.length;
    await t.tick(10_000);
    expect(t.probes.calls.length - before).toBe(1);
    t.probes.set('a', true);
    await t.tick(10_000);
    expect(t.rsEvents('a')[2]).toMatchObject({ alive: true, inTable: true, weight: 1, at: 32_000 });
  });

  it('retry 0 marks DOWN at the first failure', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] })])] });
    t.probes.set('a', false);
    await t.start();
    await t.tick(100);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: false, at: 0 });
  });

  it('a success between failures resets the retry count', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 1 })] })])] });
    await t.start();
    await t.tick(100);
    t.probes.set('a', false);
    await t.tick(10_000); // fail (retry 1)
    t.probes.set('a', true);
    await t.tick(1_000); // success
    t.probes.set('a', false);
    await t.tick(10_000); // fail (retry 1 again, not DOWN)
    expect(t.rsEvents('a')).toHaveLength(1);
    await t.tick(1_000);
    expect(t.rsEvents('a')).toHaveLength(2);
  });

  it('warmup spreads the first check with the injected random source', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { warmupMs: 8_000 })] })])] }, () => 0.5);
    await t.start();
    await t.tick(10_000);
    expect(t.probes.calls.map((c) => c.at)).toEqual([4_000]);
    await t.tick(4_000);
    expect(t.probes.calls.map((c) => c.at)).toEqual([4_000, 14_000]);
  });
});

describe('HealthCheckEngine: real server state', () => {
  it('alpha: starts out of the table and enters on its first success', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { alpha: true })] })])] });
    t.probes.set('a', false);
    await t.start();
    expect(t.rsEvents('a')[0]).toMatchObject({ alive: false, inTable: false });
    await t.tick(12_000);
    expect(t.rsEvents('a')).toHaveLength(1);
    t.probes.set('a', true);
    await t.tick(10_000);
    // keepalived's rule: the very first failure is retried (1 s later), then delay_loop: 0, 1, 11, 21 s.
    expect(t.probes.calls.map((c) => c.at)).toEqual([0, 1_000, 11_000, 21_000]);
    expect(t.rsEvents('a')[1]).toMatchObject({ alive: true, inTable: true, at: 21_000 });
  });

  it('alive only when every checker is up', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a1', { retry: 0 }), tcp('a2', { retry: 0 })] })])] });
    t.probes.set('a2', false);
    await t.start();
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: false });
    t.probes.set('a2', true);
    t.probes.set('a1', false);
    await t.tick(10_000);
    // a2 came back but a1 went down in the same round: still dead, and no spurious "alive" in between.
    expect(t.rsEvents('a').filter((e) => e.alive)).toHaveLength(1);
    t.probes.set('a1', true);
    await t.tick(10_000);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: true, inTable: true });
  });

  it('inhibit_on_failure keeps a dead real server in the table with weight 0', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { weight: 7, inhibitOnFailure: true, checkers: [tcp('a', { retry: 0 })] }), rs('b')])] });
    t.probes.set('a', false);
    await t.start();
    expect(t.rsEvents('a')).toMatchObject([{ alive: true, inTable: true, weight: 7 }, { alive: false, inTable: true, weight: 0 }]);
  });

  it('MISC_CHECK misc_dynamic sets the weight (exit code − 2) and exit 0 restores the configured weight', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { weight: 3, checkers: [misc('a')] })])] });
    t.probes.set('a', true, { weight: 40 });
    await t.start();
    await t.tick(100);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: true, inTable: true, weight: 40 });
    t.probes.set('a', true, { weight: 0 });
    await t.tick(10_000);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: true, inTable: true, weight: 0 });
    t.probes.set('a', true, { weight: null });
    await t.tick(10_000);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ weight: 3 });
    t.probes.set('a', false);
    await t.tick(10_000);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: false, inTable: false });
  });

  it('MISC_CHECK: the next run is timed from the start of the last one, as keepalived', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [misc('a')] }), rs('b', { checkers: [tcp('b')] })])] });
    const slow = { after: 3_000, result: { up: true, reason: 'exit 0', durationMs: 3_000, weight: null } };
    t.probes.verdict.set('a', () => slow);
    t.probes.verdict.set('b', () => slow);
    await t.start();
    await t.tick(25_000);
    expect(t.probes.calls.filter((c) => c.host === 'a').map((c) => c.at)).toEqual([0, 10_000, 20_000]);
    // A TCP probe that takes 3 s: next check delay_loop after it ended.
    expect(t.probes.calls.filter((c) => c.host === 'b').map((c) => c.at)).toEqual([0, 13_000]);
  });

  it('notify_up / notify_down run on real server transitions', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { notifyUp: { argv: ['/up', 'a'] }, notifyDown: { argv: ['/down', 'a'], runAs: { uid: 65534, gid: 65534 } }, checkers: [tcp('a', { retry: 0 })] })])] });
    t.probes.set('a', false);
    await t.start();
    t.probes.set('a', true);
    await t.tick(10_000);
    expect(t.scripts).toEqual([{ argv: ['/down', 'a'], runAs: { uid: 65534, gid: 65534 } }, { argv: ['/up', 'a'] }]);
  });
});

describe('HealthCheckEngine: quorum and sorry server', () => {
  it('quorum with hysteresis: lost below quorum − hysteresis, regained at quorum + hysteresis', async () => {
    const keys = ['a', 'b', 'c'];
    const t = setup({
      virtualServers: [vs(keys.map((k) => rs(k, { checkers: [tcp(k, { retry: 0 })] })), {
        quorum: 2, hysteresis: 1, quorumUp: { argv: ['/qup'] }, quorumDown: { argv: ['/qdown'] },
      })],
    });
    await t.start();
    const quorum = () => t.events.filter((e) => e.kind === 'quorum');
    // 3 alive → 2 alive → 1 alive: sum 1 ≥ 2−1, still up.
    t.probes.set('a', false);
    t.probes.set('b', false);
    await t.tick(100);
    expect(quorum()).toHaveLength(0);
    t.probes.set('c', false);
    await t.tick(10_000);
    expect(quorum()).toMatchObject([{ up: false, liveWeight: 0 }]);
    // 1 alive, then 2 alive: below 2+1, still down.
    t.probes.set('a', true);
    await t.tick(10_000);
    t.probes.set('b', true);
    await t.tick(10_000);
    expect(quorum()).toHaveLength(1);
    t.probes.set('c', true);
    await t.tick(10_000);
    expect(quorum()).toMatchObject([{ up: false }, { up: true, liveWeight: 3 }]);
    expect(t.scripts).toEqual([{ argv: ['/qdown'] }, { argv: ['/qup'] }]);
  });

  it('the live weight follows misc_dynamic weights, deaths and revivals, and a reload that keeps the weights', async () => {
    const plan = { virtualServers: [vs([rs('a', { weight: 3, checkers: [misc('a')] }), rs('b', { weight: 2, checkers: [tcp('b', { retry: 0 })] })], { quorum: 10 })] };
    const t = setup(plan);
    await t.start();
    const live = (): number => t.engine.snapshot().virtualServers[0]!.liveWeight;
    expect(live()).toBe(5);
    t.probes.set('a', true, { weight: 20 });
    await t.tick(10_000);
    expect(live()).toBe(22);
    expect(t.events.filter((e) => e.kind === 'quorum').at(-1)).toMatchObject({ up: true, liveWeight: 22 });
    t.probes.set('b', false);
    await t.tick(10_000);
    expect(live()).toBe(20);
    t.engine.reload(plan); // same plan: 'a' keeps its dynamic weight 20
    expect(live()).toBe(20);
    t.probes.set('a', false);
    await t.tick(10_000);
    expect(live()).toBe(0);
    expect(t.events.filter((e) => e.kind === 'quorum').at(-1)).toMatchObject({ up: false, liveWeight: 0 });
    t.probes.set('a', true, { weight: 7 }); // back, with a new weight
    t.probes.set('b', true);
    await t.tick(10_000);
    expect(live()).toBe(9);
  });

  it('sorry_server replaces the real servers while quorum is lost and leaves when it returns', async () => {
    const t = setup({
      virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] }), rs('b', { checkers: [tcp('b', { retry: 0 })] })], {
        quorum: 2, sorryServer: { key: 'sorry', weight: 1, inhibit: false },
      })],
    });
    t.probes.set('b', false);
    t.engine.start({ virtualServers: [] }); // nothing: only to show start with no plan emits nothing
    expect(t.events).toHaveLength(0);
    t.engine.stop();
    await t.start();
    expect(t.rsEvents('sorry')[0]).toMatchObject({ inTable: false, sorryServer: true }); // announced as not in use
    // Quorum (2) lost with one alive: the sorry server goes in and alive 'a' goes out.
    expect(t.rsEvents('sorry').at(-1)).toMatchObject({ inTable: true, weight: 1, sorryServer: true });
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: true, inTable: false });
    t.probes.set('b', true);
    await t.tick(10_000);
    expect(t.rsEvents('sorry').at(-1)).toMatchObject({ inTable: false });
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: true, inTable: true });
    expect(t.rsEvents('b').at(-1)).toMatchObject({ alive: true, inTable: true });
  });

  it('a change that moves no quorum emits only its own real server; the one that loses quorum re-emits the rest', async () => {
    const servers = ['a', 'b', 'c'].map((k) => rs(k, { checkers: [tcp(k, { retry: 0 })], inhibitOnFailure: k === 'c' }));
    const t = setup({ virtualServers: [vs(servers, { quorum: 1, sorryServer: { key: 'sorry', weight: 1, inhibit: false } })] });
    await t.start();
    const sinceStart = t.events.length;
    t.probes.set('b', false);
    await t.tick(10_000);
    expect(t.events.slice(sinceStart)).toMatchObject([{ kind: 'realServer', realServer: 'b', alive: false, inTable: false }]);
    t.probes.set('a', false);
    t.probes.set('c', false);
    await t.tick(10_000);
    // 'a' falls first (quorum still up through 'c'), then 'c' takes the live weight to 0: quorum lost,
    // the sorry server goes in and inhibited 'c' stays at weight 0.
    const later = t.events.slice(sinceStart + 1).map((e) => (e.kind === 'realServer' ? `${e.realServer}:${e.inTable}:${e.weight}` : e.kind));
    expect(later).toEqual(['a:false:0', 'quorum', 'c:true:0', 'sorry:true:1']);
  });

  it('sorry_server_inhibit keeps the sorry server at weight 0 while not needed', async () => {
    const t = setup({
      virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] })], { sorryServer: { key: 'sorry', weight: 5, inhibit: true } })],
    });
    t.probes.set('a', false);
    await t.start();
    expect(t.rsEvents('sorry')[0]).toMatchObject({ inTable: true, weight: 0 });
    expect(t.rsEvents('sorry').at(-1)).toMatchObject({ inTable: true, weight: 5 });
  });

  it('alpha with a sorry server: starts with quorum down and the sorry server in', async () => {
    const t = setup({
      virtualServers: [vs([rs('a', { checkers: [tcp('a', { alpha: true })] })], { sorryServer: { key: 'sorry', weight: 1, inhibit: false } })],
    });
    t.probes.set('a', false);
    await t.start();
    expect(t.rsEvents('sorry')).toMatchObject([{ inTable: true, weight: 1 }]);
    expect(t.engine.snapshot().virtualServers[0]).toMatchObject({ quorumUp: false, sorryActive: true });
  });
});

describe('HealthCheckEngine: containment, reload, stop', () => {
  it('a probe that hangs is abandoned after its budget and counted as a failure', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] })])] });
    t.probes.verdict.set('a', () => 'hang');
    await t.start();
    await t.tick(3_000 + 900);
    expect(t.rsEvents('a')).toHaveLength(1);
    await t.tick(200);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: false });
    expect(t.rsEvents('a').at(-1)!.reason).toContain('hung');
    expect(t.engine.counters.probesHung).toBe(1);
  });

  it('a probe that throws is contained and counted', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] })])] });
    t.probes.verdict.set('a', () => 'throw');
    await t.start();
    await t.tick(100);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: false });
    expect(t.rsEvents('a').at(-1)!.reason).toContain('boom');
    expect(t.engine.counters.probesThrew).toBe(1);
  });

  it('a runner returning garbage is contained; delay_loop 0 is not a hot loop', async () => {
    const t = setup({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0, delayLoopMs: 0 })] })])] });
    t.probes.verdict.set('a', () => undefined as unknown as ProbeResult);
    await t.start();
    await t.tick(1_000);
    expect(t.rsEvents('a').at(-1)).toMatchObject({ alive: false });
    expect(t.rsEvents('a').at(-1)!.reason).toContain('no result');
    // At most one check per MIN_INTERVAL_MS (10 ms) over that second.
    expect(t.probes.calls.length).toBeLessThanOrEqual(101);
    expect(t.probes.calls.length).toBeGreaterThan(50);
  });

  it('reload keeps unchanged real servers\' state and emits only the difference', async () => {
    const plan = { virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] }), rs('b')])] };
    const t = setup(plan);
    t.probes.set('a', false);
    await t.start();
    const n = t.events.length;
    t.engine.reload({ virtualServers: [vs([rs('a', { checkers: [tcp('a', { retry: 0 })] }), rs('c')])] });
    await t.tick(100);
    const after = t.events.slice(n);
    // 'a' stays dead without an event; 'b' removed; 'c' added.
    expect(after.filter((e) => e.kind === 'realServer' && e.realServer === 'a')).toHaveLength(0);
    expect(after).toEqual(expect.arrayContaining([
      expect.objectContaining({ realServer: 'b', inTable: false }),
      expect.objectContaining({ realServer: 'c', inTable: true }),
    ]));
    const a = t.engine.snapshot().virtualServers[0]!.realServers.find((r) => r.key === 'a')!;
    expect(a).toMatchObject({ alive: false });
    // It keeps its schedule: the next check of 'a' still comes at 10 s, not at once.
    const callsA = t.probes.calls.filter((c) => c.host === 'a');
    expect(callsA.map((c) => c.at)).toEqual([0]);
    await t.tick(10_000);
    expect(t.probes.calls.filter((c) => c.host === 'a').map((c) => c.at)).toEqual([0, 10_000]);
  });

  it('omega: stop runs notify_down of alive real servers and quorum_down; without omega nothing', async () => {
    for (const omega of [true, false]) {
      const t = setup({ virtualServers: [vs([rs('a', { notifyDown: { argv: ['/down', 'a'] } })], { omega, quorumDown: { argv: ['/qdown'] } })] });
      await t.start();
      await t.tick(100);
      t.engine.stop();
      expect(t.scripts).toEqual(omega ? [{ argv: ['/down', 'a'] }, { argv: ['/qdown'] }] : []);
      const calls = t.probes.calls.length;
      await t.tick(30_000);
      expect(t.probes.calls.length).toBe(calls);
    }
  });
});
