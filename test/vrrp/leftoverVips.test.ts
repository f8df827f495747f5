import { describe, expect, it } from 'vitest';
import { judgeLeftoverVips, mayAdoptLeftoverVips } from '../../src/vrrp/core/leftoverVips.js';

describe('leftover VIPs at start: the rule', () => {
  it('only an owner or state MASTER may keep them', () => {
    expect(mayAdoptLeftoverVips({ priority: 255, initialState: 'BACKUP' })).toBe(true);
    expect(mayAdoptLeftoverVips({ priority: 150, initialState: 'MASTER' })).toBe(true);
    expect(mayAdoptLeftoverVips({ priority: 254, initialState: 'BACKUP' })).toBe(false);
  });

  it('MASTER adopts; BACKUP keeps until it hears a live master (any priority); FAULT keeps only for scripts not yet reported', () => {
    const view = (state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT', masterPriority?: number, faultReasons: string[] = []) => ({ state, masterPriority, faultReasons });
    expect(judgeLeftoverVips(view('MASTER', 150))).toBe('adopted');
    expect(judgeLeftoverVips(view('BACKUP'))).toBe('keep');
    expect(judgeLeftoverVips(view('BACKUP', 0))).toBe('keep'); // that master said goodbye: we take over
    expect(judgeLeftoverVips(view('BACKUP', 200))).toBe('release');
    expect(judgeLeftoverVips(view('BACKUP', 50))).toBe('release'); // a lower master holds it until we preempt
    expect(judgeLeftoverVips(view('FAULT', undefined, ['track_script chk (init)']))).toBe('keep');
    expect(judgeLeftoverVips(view('FAULT', undefined, ['track_script chk (init)', 'interface']))).toBe('release');
    expect(judgeLeftoverVips(view('FAULT', undefined, ['track_script chk']))).toBe('release');
    expect(judgeLeftoverVips(view('INIT'))).toBe('keep');
  });
});

describe('the rule on a real state machine', () => {
  it('a state MASTER start-up: keep while nobody speaks, release on the first live advert, keep on a goodbye', async () => {
    const { Harness } = await import('./harness.js');
    const h = new Harness({ priority: 150, initialState: 'MASTER' });
    h.machine.start();
    expect(judgeLeftoverVips(h.machine)).toBe('keep');
    h.hear(0);
    expect(judgeLeftoverVips(h.machine)).toBe('keep');
    h.hear(100);
    expect(judgeLeftoverVips(h.machine)).toBe('release');
    h.waitFor('MASTER');
    expect(judgeLeftoverVips(h.machine)).toBe('adopted');
  });
});
