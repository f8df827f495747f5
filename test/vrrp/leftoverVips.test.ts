import { describe, expect, it } from 'vitest';
import { judgeLeftoverVips, mayAdoptLeftoverVips } from '../../src/vrrp/core/leftoverVips.js';
import { Harness } from './harness.js';

describe('leftover VIPs at start: the rule', () => {
  it('only an owner or state MASTER may keep them', () => {
    expect(mayAdoptLeftoverVips({ priority: 255, initialState: 'BACKUP' })).toBe(true);
    expect(mayAdoptLeftoverVips({ priority: 150, initialState: 'MASTER' })).toBe(true);
    expect(mayAdoptLeftoverVips({ priority: 254, initialState: 'BACKUP' })).toBe(false);
  });

  it('MASTER adopts; BACKUP keeps while waiting, releases when following; FAULT keeps only for scripts not yet reported', () => {
    const view = (state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT', followingMaster = false, faultReasons: string[] = []) => ({ state, followingMaster, faultReasons });
    expect(judgeLeftoverVips(view('MASTER'))).toBe('adopted');
    expect(judgeLeftoverVips(view('BACKUP'))).toBe('keep');
    expect(judgeLeftoverVips(view('BACKUP', true))).toBe('release');
    expect(judgeLeftoverVips(view('FAULT', false, ['track_script chk (init)']))).toBe('keep');
    expect(judgeLeftoverVips(view('FAULT', false, ['track_script chk (init)', 'interface']))).toBe('release');
    expect(judgeLeftoverVips(view('FAULT', false, ['track_script chk']))).toBe('release');
    expect(judgeLeftoverVips(view('INIT'))).toBe('keep');
  });
});

describe('VrrpStateMachine.followingMaster', () => {
  it('false while waiting to take over, true once a winning master is heard, false again on its priority 0', () => {
    const h = new Harness({ priority: 150, initialState: 'MASTER' });
    h.machine.start();
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.followingMaster).toBe(false);
    h.hear(100); // lower: we will preempt
    expect(h.machine.followingMaster).toBe(false);
    h.hear(200);
    expect(h.machine.followingMaster).toBe(true);
    h.hear(0);
    expect(h.machine.followingMaster).toBe(false);
  });

  it('nopreempt follows even a lower master; a master that yields follows the winner', () => {
    const h = new Harness({ priority: 150, preempt: false });
    h.machine.start();
    h.hear(100);
    expect(h.machine.followingMaster).toBe(true);
    const m = new Harness({ priority: 150 });
    m.machine.start();
    m.waitFor('MASTER');
    expect(m.machine.followingMaster).toBe(false);
    m.hear(200);
    expect(m.machine.state).toBe('BACKUP');
    expect(m.machine.followingMaster).toBe(true);
  });
});
