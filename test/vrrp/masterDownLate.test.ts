import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { LateClock } from './lateClock.js';
import { Harness } from './harness.js';

const DOWN_100 = 3000 + (156 * 1000) / 256;

function backupOn(lateMs: number): { base: FakeClock; late: LateClock; h: Harness } {
  const base = new FakeClock(1_000_000);
  const late = new LateClock(base, lateMs);
  const h = new Harness({ priority: 100, advertIntervalMs: 1000 }, late as unknown as FakeClock);
  h.machine.start();
  return { base, late, h };
}

describe('a master-down timer that fires late', () => {
  it('on time (or a few ms late): takes over at once, nothing deferred', () => {
    const { base, h } = backupOn(20);
    base.advance(DOWN_100 + 20);
    expect(h.machine.state).toBe('MASTER');
    expect(h.machine.counters.masterDownDeferred).toBe(0);
  });

  it('held 2 s past it: listens a tenth of the interval more (not 2 s), then takes over', () => {
    const { base, h } = backupOn(2000);
    base.advance(DOWN_100 + 2000);
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.counters.masterDownDeferred).toBe(1);
    expect(h.effects.filter((e) => e.kind === 'masterDownLate')).toEqual([{ at: 1_000_000 + DOWN_100 + 2000, kind: 'masterDownLate', lateMs: 2000, listenMs: 100 }]);
    base.advance(100 + 2000 - 1); // the extra 100 ms, itself fired 2 s late by this clock
    expect(h.machine.state).toBe('BACKUP');
    base.advance(1);
    expect(h.machine.state).toBe('MASTER');
    expect(h.machine.counters.masterDownExpired).toBe(1);
  });

  it('an advert read in that extra time (it waited in the socket) keeps it backup: no second master', () => {
    const { base, late, h } = backupOn(2000);
    base.advance(DOWN_100 + 2000);
    late.lateMs = 0;
    base.advance(1); // the next turn of the loop reads the queued advert of the master
    h.hear(150);
    base.advance(DOWN_100 - 1);
    expect(h.machine.state).toBe('BACKUP');
    expect(h.kinds().filter((k) => k === 'BACKUP->MASTER')).toEqual([]);
    base.advance(2);
    expect(h.machine.state).toBe('MASTER'); // the master really went quiet: the normal interval later
  });

  it('v3: "late" is measured against the interval learnt from the master, not the configured one', () => {
    const base = new FakeClock(1_000_000);
    const late = new LateClock(base, 0);
    const h = new Harness({ version: 3, priority: 100, advertIntervalMs: 1000 }, late as unknown as FakeClock);
    h.machine.start();
    late.lateMs = 200; // twice the master's interval, a fifth of ours
    h.hear(150, '10.0.0.2', { version: 3, maxAdvertIntCs: 10 }); // the master sends every 100 ms
    base.advance(3 * 100 + (156 * 100) / 256 + 200);
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.counters.masterDownDeferred).toBe(1);
  });

  it('held again in the extra time: takes over then (deferred once, never twice)', () => {
    const { base, h } = backupOn(800);
    base.advance(DOWN_100 + 800); // fired 800 ms late: listen 100 more (+ 800 late again)
    expect(h.machine.state).toBe('BACKUP');
    base.advance(900);
    expect(h.machine.state).toBe('MASTER');
    expect(h.machine.counters.masterDownDeferred).toBe(1);
  });
});
