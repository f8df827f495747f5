import { describe, expect, it } from 'vitest';
import type { CheckerSnapshot, HealthSnapshot, VirtualServerSnapshot } from '../../src/healthcheck/events.js';
import { HealthSnapshotView, mergeSnapshots } from '../../src/healthcheck/snapshotView.js';
import { encodeSnapshot } from '../../src/healthcheck/worker/snapshotCodec.js';

const counters = (probes: number, behindSchedule = 0): HealthSnapshot['counters'] => ({
  probes, probeFailures: 1, probesHung: 0, probesThrew: 0, scriptsRun: 2, behindSchedule, verdictsDeferred: 0,
});

const checker = (type: string, checks: number, lastDurationMs: number | null = 2, lastReason: string | null = 'connected'): CheckerSnapshot => ({
  type, up: true, hasRun: checks > 0, retryIt: 0, lastDurationMs, lastReason, checks, failures: 0,
});

const vs = (key: string, quorumUp: boolean, realServers: Array<[string, CheckerSnapshot[], string?]>): VirtualServerSnapshot => ({
  key, quorumUp, liveWeight: 1, quorum: 1, hysteresis: 0, sorryActive: false,
  realServers: realServers.map(([rsKey, checkers, reason]) => ({ key: rsKey, alive: true, inTable: true, weight: 1, reason: reason ?? 'start', checkers })),
});

const snap = (virtualServers: VirtualServerSnapshot[], probes = 0, behindSchedule = 0, scheduleLatenessMs?: number): HealthSnapshot => ({
  virtualServers, counters: counters(probes, behindSchedule), scheduleLatenessMs,
});

/** Every (type, duration, probes) the view reports against `previous`. */
function newProbes(view: HealthSnapshotView, previous?: HealthSnapshotView): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  view.forEachNewProbes(previous, (type, ms, n) => out.push([type, ms, n]));
  return out;
}

describe('HealthSnapshotView (the checkers’ detail read in place)', () => {
  it('sums the workers’ counters, takes the laggard’s lateness and reads each virtual server’s quorum', () => {
    const a = encodeSnapshot(snap([vs('10.0.0.1:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', 3)]]])], 10, 1, 40));
    const b = encodeSnapshot(snap([vs('10.0.0.2:80/TCP', false, []), vs('fwmark:7/IPv4', true, [])], 5, 2, 90));
    const view = new HealthSnapshotView([a, b]);
    expect(view.counters).toEqual({ probes: 15, probeFailures: 2, probesHung: 0, probesThrew: 0, scriptsRun: 4, behindSchedule: 3, verdictsDeferred: 0 });
    expect(view.scheduleLatenessMs).toBe(90);
    expect([...view.quorums()]).toEqual([['10.0.0.1:80/TCP', true], ['10.0.0.2:80/TCP', false], ['fwmark:7/IPv4', true]]);
    expect(new HealthSnapshotView([]).scheduleLatenessMs).toBeUndefined();
  });

  it('builds the object form only when asked, once, equal to the workers’ snapshots merged', () => {
    const parts = [
      snap([vs('10.0.0.1:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', 3), checker('HTTP_GET', 1, null, null)], 'TCP_CHECK: connected']])], 3),
      snap([vs('10.0.0.2:80/TCP', false, [['192.168.1.2:80', [], 'down']])], 4, 0, 12),
    ];
    const view = new HealthSnapshotView(parts.map(encodeSnapshot));
    const decoded = view.decoded();
    expect(decoded).toEqual(mergeSnapshots(parts));
    expect(decoded.virtualServers.map((v) => v.key)).toEqual(['10.0.0.1:80/TCP', '10.0.0.2:80/TCP']);
    expect(view.decoded()).toBe(decoded);
  });

  it('the first look counts every probe; later looks the probes since, whatever the reasons now say', () => {
    const at = (checks: number[], reason: string): HealthSnapshotView =>
      HealthSnapshotView.of(snap([
        vs('10.0.0.1:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', checks[0]!, 2, reason)], reason], ['192.168.1.2:80', [checker('HTTP_GET', checks[1]!, 7, reason)], reason]]),
      ]));
    const first = at([3, 1], 'start');
    expect(newProbes(first)).toEqual([['TCP_CHECK', 2, 3], ['HTTP_GET', 7, 1]]);
    // New reasons intern differently; the layout (the keys) is the same, so positions match.
    const second = at([5, 1], 'TCP_CHECK: connection refused, then connected');
    expect(newProbes(second, first)).toEqual([['TCP_CHECK', 2, 2]]);
  });

  it('after a reload (another layout) checkers are matched by identity: new ones count from zero', () => {
    const before = HealthSnapshotView.of(snap([
      vs('10.0.0.1:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', 10)]], ['192.168.1.2:80', [checker('TCP_CHECK', 4)]]]),
    ]));
    // 192.168.1.2 removed, 192.168.1.3 added before 192.168.1.1, a second checker on .1, and a new virtual server.
    const after = HealthSnapshotView.of(snap([
      vs('10.0.0.9:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', 2)]]]),
      vs('10.0.0.1:80/TCP', true, [['192.168.1.3:80', [checker('TCP_CHECK', 1)]], ['192.168.1.1:80', [checker('TCP_CHECK', 12), checker('SMTP_CHECK', 1, 30)]]]),
    ]));
    expect(newProbes(after, before)).toEqual([['TCP_CHECK', 2, 2], ['TCP_CHECK', 2, 1], ['TCP_CHECK', 2, 2], ['SMTP_CHECK', 30, 1]]);
  });

  it('skips a checker whose count went down (its worker restarted) or that has no duration yet', () => {
    const one = (checks: number, duration: number | null): HealthSnapshotView =>
      HealthSnapshotView.of(snap([vs('10.0.0.1:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', checks, duration)]]])]));
    const before = one(50, 2);
    expect(newProbes(one(3, 2), before)).toEqual([]);
    expect(newProbes(one(60, null), before)).toEqual([]);
    expect(newProbes(one(60, 4), one(3, 2))).toEqual([['TCP_CHECK', 4, 57]]);
  });

  it('two workers: positions are per worker; a different number of workers is another layout', () => {
    const part = (key: string, checks: number) => encodeSnapshot(snap([vs(key, true, [['192.168.1.1:80', [checker('TCP_CHECK', checks)]]])]));
    const before = new HealthSnapshotView([part('10.0.0.1:80/TCP', 5), part('10.0.0.2:80/TCP', 7)]);
    expect(newProbes(new HealthSnapshotView([part('10.0.0.1:80/TCP', 6), part('10.0.0.2:80/TCP', 10)]), before)).toEqual([['TCP_CHECK', 2, 1], ['TCP_CHECK', 2, 3]]);
    // One worker now runs both: matched by identity, not by position.
    const merged = encodeSnapshot(snap([
      vs('10.0.0.2:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', 9)]]]),
      vs('10.0.0.1:80/TCP', true, [['192.168.1.1:80', [checker('TCP_CHECK', 8)]]]),
    ]));
    expect(newProbes(new HealthSnapshotView([merged]), before)).toEqual([['TCP_CHECK', 2, 2], ['TCP_CHECK', 2, 3]]);
  });

  it('reads ten thousand checkers and keys with the empty string among them', () => {
    const many = (checks: number): HealthSnapshotView => HealthSnapshotView.of(snap(Array.from({ length: 100 }, (_, v) =>
      vs(`10.0.${v}.1:80/TCP`, v % 2 === 0, Array.from({ length: 100 }, (_, r): [string, CheckerSnapshot[]] => [`192.168.${v}.${r}:80`, [checker('TCP_CHECK', checks + r)]])))));
    const first = many(1);
    const second = many(3);
    let total = 0;
    second.forEachNewProbes(first, (_type, _ms, n) => (total += n));
    expect(total).toBe(2 * 10_000);
    expect(second.quorums().get('10.0.99.1:80/TCP')).toBe(false);
    const odd = HealthSnapshotView.of(snap([vs('', true, [['', [checker('', 1)]]])]));
    expect([...odd.quorums()]).toEqual([['', true]]);
    expect(newProbes(odd)).toEqual([['', 2, 1]]);
  });
});
