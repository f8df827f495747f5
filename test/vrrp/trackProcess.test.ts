import { describe, expect, it } from 'vitest';
import { InstanceTracking, ProcessTracker, type ProcessTrackerSpec } from '../../src/vrrp/core/trackers.js';
import { matchesProcess, needsCmdline, type ProcessPattern } from '../../src/trackProcess/match.js';

const pattern = (over: Partial<ProcessPattern>): ProcessPattern => ({ process: 'nginx', params: [], paramMatch: 'any', fullCommand: false, ...over });
const proc = (comm: string, ...argv: string[]) => ({ comm, argv });

describe('track_process matching (pure)', () => {
  it('by name: comm equals process; argv[0] does not matter', () => {
    expect(matchesProcess(pattern({}), proc('nginx', '/usr/sbin/nginx', '-g', 'x'))).toBe(true);
    expect(matchesProcess(pattern({}), proc('nginx-debug', 'nginx'))).toBe(false);
    expect(needsCmdline(pattern({}))).toBe(false);
  });

  it('full_command, or a name over 15 bytes, compares argv[0]', () => {
    expect(matchesProcess(pattern({ process: '/usr/sbin/nginx', fullCommand: true }), proc('nginx', '/usr/sbin/nginx'))).toBe(true);
    expect(matchesProcess(pattern({ process: '/usr/sbin/nginx', fullCommand: true }), proc('nginx', 'nginx'))).toBe(false);
    const long = 'a-very-long-process-name';
    expect(needsCmdline(pattern({ process: long }))).toBe(true);
    expect(matchesProcess(pattern({ process: long }), proc(long.slice(0, 15), long))).toBe(true);
    expect(matchesProcess(pattern({ process: long }), proc(long.slice(0, 15), `${long}x`))).toBe(false);
  });

  it('param_match as keepalived check_params: any, exact, partial (whole words), initial (text prefix)', () => {
    const p = (paramMatch: ProcessPattern['paramMatch'], ...params: string[]) => pattern({ process: 'sleep', params, paramMatch, fullCommand: true });
    const exact = proc('sleep', 'sleep', '10', 'xy');
    const longer = proc('sleep', 'sleep', '10', 'xy', 'z');
    const bare = proc('sleep', 'sleep');
    const all = [exact, longer, bare];
    expect(all.map((s) => matchesProcess(p('any'), s))).toEqual([true, true, true]);
    expect(all.map((s) => matchesProcess(p('exact', '10', 'xy'), s))).toEqual([true, false, false]);
    expect(all.map((s) => matchesProcess(p('exact'), s))).toEqual([false, false, true]);
    expect(all.map((s) => matchesProcess(p('partial', '10', 'xy'), s))).toEqual([true, true, false]);
    expect(all.map((s) => matchesProcess(p('partial', '10', 'x'), s))).toEqual([false, false, false]);
    expect(all.map((s) => matchesProcess(p('initial', '10', 'x'), s))).toEqual([true, true, false]);
    expect(matchesProcess(p('partial', 'xy'), exact)).toBe(false); // not anywhere: at the start
    expect(needsCmdline(pattern({}))).toBe(false);
    expect(needsCmdline(p('exact'))).toBe(true);
  });
});

const spec = (over: Partial<ProcessTrackerSpec> = {}): ProcessTrackerSpec => ({
  name: 'nginx', weight: 0, quorum: 1, quorumMax: Number.MAX_SAFE_INTEGER, forkDelayMs: 0, terminateDelayMs: 0, ...over,
});

describe('ProcessTracker: quorum and delays (pure)', () => {
  it('up while quorum <= count <= quorum_max; the first count decides at once', () => {
    const t = new ProcessTracker(spec({ quorum: 2, quorumMax: 3 }), 1);
    expect(t.status).toBe('down');
    expect(t.observe(2, 0)).toBe(true);
    expect(t.status).toBe('up');
    expect(t.observe(3, 1000)).toBe(false);
    expect(t.observe(4, 2000)).toBe(true);
    expect(t.status).toBe('down');
    expect(new ProcessTracker(spec()).status).toBe('init');
  });

  it('terminate_delay and fork_delay: a change must last; a return within the delay cancels it', () => {
    const t = new ProcessTracker(spec({ terminateDelayMs: 3000, forkDelayMs: 2000 }), 1);
    expect(t.observe(0, 10_000)).toBe(false);
    expect(t.observe(0, 12_000)).toBe(false);
    expect(t.observe(1, 12_500)).toBe(false); // back in time: cancelled
    expect(t.observe(0, 13_000)).toBe(false); // a new absence starts counting here
    expect(t.observe(0, 15_900)).toBe(false);
    expect(t.observe(0, 16_000)).toBe(true);
    expect(t.status).toBe('down');
    expect(t.observe(1, 17_000)).toBe(false);
    expect(t.observe(1, 19_000)).toBe(true);
    expect(t.status).toBe('up');
  });

  it('weights: 0 = FAULT while down; +W while up; -W while down; reverse swaps', () => {
    const outcome = (s: ProcessTrackerSpec, count?: number) => new InstanceTracking().addProcess(new ProcessTracker(s, count)).outcome();
    expect(outcome(spec(), 0)).toEqual({ priorityDelta: 0, faults: ['track_process nginx'] });
    expect(outcome(spec(), 1)).toEqual({ priorityDelta: 0, faults: [] });
    expect(outcome(spec({ weight: 10 }), 1).priorityDelta).toBe(10);
    expect(outcome(spec({ weight: 10 }), 0).priorityDelta).toBe(0);
    expect(outcome(spec({ weight: -10 }), 0).priorityDelta).toBe(-10);
    expect(outcome(spec({ weight: -10 }), 1).priorityDelta).toBe(0);
    expect(outcome(spec({ weight: 10, weightReverse: true }), 0).priorityDelta).toBe(10);
    expect(outcome(spec({ weight: 10, weightReverse: true }), 1).priorityDelta).toBe(0);
    expect(outcome(spec()).faults).toEqual(['track_process nginx (init)']);
  });

  it('refuses a quorum range that can never be met', () => {
    expect(() => new ProcessTracker(spec({ quorum: 3, quorumMax: 2 }))).toThrow(RangeError);
  });
});
