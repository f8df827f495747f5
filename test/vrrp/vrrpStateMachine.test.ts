import { describe, expect, it } from 'vitest';
import { Harness, type SpecOverrides } from './harness.js';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/core/vrrpStateMachine.js';

const SKEW_100 = (156 * 1000) / 256; // 609.375 ms
const DOWN_100 = 3000 + SKEW_100;
const SKEW_150 = (106 * 1000) / 256; // 414.0625 ms
const DOWN_150 = 3000 + SKEW_150;

describe('timer formulas', () => {
  it('v2: skew = (256 − priority)/256 s, independent of the interval', () => {
    expect(skewTimeMs(2, 100, 1000)).toBe(SKEW_100);
    expect(skewTimeMs(2, 100, 5000)).toBe(SKEW_100);
    expect(skewTimeMs(2, 254, 1000)).toBeCloseTo(7.8125);
    expect(masterDownIntervalMs(2, 100, 1000)).toBe(DOWN_100);
  });
  it('v3: skew scales with the master advert interval', () => {
    expect(skewTimeMs(3, 100, 500)).toBe((156 * 500) / 256);
    expect(masterDownIntervalMs(3, 100, 500)).toBe(1500 + (156 * 500) / 256);
  });
});

describe('election from start', () => {
  it('starts as BACKUP and becomes MASTER exactly when the master-down interval passes', () => {
    const h = new Harness();
    h.machine.start();
    expect(h.machine.state).toBe('BACKUP');
    expect(h.kinds()).toEqual(['INIT->BACKUP']);
    h.advance(DOWN_100 - 0.5);
    expect(h.machine.state).toBe('BACKUP');
    h.advance(0.5);
    expect(h.machine.state).toBe('MASTER');
    expect(h.machine.counters.masterDownExpired).toBe(1);
    expect(h.machine.lastTransition).toMatchObject({ from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired' });
  });

  it('on becoming master: advert first, then VIPs, then the gratuitous ARP burst, then the notification', () => {
    const h = new Harness();
    h.machine.start();
    h.clear();
    h.waitFor('MASTER');
    expect(h.kinds()).toEqual(['advert:100', 'addVips', 'garp:5', 'BACKUP->MASTER']);
    expect(h.machine.masterIp).toBe('10.0.0.1');
    expect(h.machine.counters.becomeMaster).toBe(1);
  });

  it('a master advertises every advert_int', () => {
    const h = new Harness();
    h.machine.start();
    h.waitFor('MASTER');
    const t0 = h.machine.lastTransition!.at;
    h.clear();
    h.advance(10_000);
    const ats = h.adverts().map((a) => a.at - t0);
    expect(ats).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]);
    expect(h.adverts().every((a) => a.priority === 100)).toBe(true);
  });

  it('priority 255 (address owner) becomes master at once, whatever state says', () => {
    const h = new Harness({ priority: 255, initialState: 'BACKUP' });
    h.machine.start();
    expect(h.machine.state).toBe('MASTER');
    expect(h.kinds()).toEqual(['advert:255', 'addVips', 'garp:5', 'INIT->MASTER']);
  });

  it('`state MASTER` (not owner) starts as BACKUP with a down timer of one interval + minimum skew (keepalived)', () => {
    const h = new Harness({ initialState: 'MASTER' });
    h.machine.start();
    expect(h.machine.state).toBe('BACKUP');
    const waited = h.waitFor('MASTER', 10_000, 0.5);
    expect(waited).toBeCloseTo(1000 + 1000 / 256, 0);
  });

  it('`state MASTER` still yields to a higher priority heard in time', () => {
    const h = new Harness({ initialState: 'MASTER' });
    h.machine.start();
    h.advance(500);
    h.hear(200);
    h.advance(3000);
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.masterIp).toBe('10.0.0.2');
    expect(h.machine.masterPriority).toBe(200);
  });

  it('start twice is harmless', () => {
    const h = new Harness();
    h.machine.start();
    h.machine.start();
    expect(h.kinds()).toEqual(['INIT->BACKUP']);
  });
});

describe('backup', () => {
  it('stays backup while a higher or equal priority master advertises', () => {
    const h = new Harness();
    h.machine.start();
    for (let i = 0; i < 30; i++) {
      h.advance(1000);
      h.hear(i % 2 ? 100 : 150);
    }
    expect(h.machine.state).toBe('BACKUP');
    expect(h.adverts()).toEqual([]);
  });

  it('an equal priority master is followed, whatever its address (RFC: ≥ resets the timer; no tie-break in BACKUP)', () => {
    const h = new Harness({ primaryIp: '10.0.0.200' });
    h.machine.start();
    for (let i = 0; i < 30; i++) {
      h.advance(1000);
      h.hear(100, '10.0.0.2'); // lower address than ours
    }
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.masterIp).toBe('10.0.0.2');
  });

  it('takes over 3 × advert_int + skew after the last advert (master crash)', () => {
    const h = new Harness();
    h.machine.start();
    h.advance(1000);
    h.hear(150);
    const last = h.t;
    const waited = h.waitFor('MASTER', 10_000, 0.125);
    expect(h.t - last).toBeCloseTo(DOWN_100, 0);
    expect(waited).toBeGreaterThan(3000);
  });

  it('priority 0 from the master: takes over after skew time only', () => {
    const h = new Harness();
    h.machine.start();
    h.advance(1000);
    h.hear(150);
    h.advance(300);
    h.hear(0);
    const t0 = h.t;
    h.waitFor('MASTER', 10_000, 0.125);
    expect(h.t - t0).toBeCloseTo(SKEW_100, 0);
    expect(h.machine.lastTransition?.reason).toBe('master sent priority 0');
  });

  it('the higher backup wins a priority-0 race: its skew is shorter', () => {
    expect(skewTimeMs(2, 200, 1000)).toBeLessThan(skewTimeMs(2, 100, 1000));
  });

  it('preempt (default): a higher backup ignores a lower master and takes over after its down timer', () => {
    const h = new Harness({ priority: 150 });
    h.machine.start();
    const tStart = h.t;
    for (let i = 0; i < 10; i++) {
      h.advance(500);
      h.hear(100);
      if (h.machine.state === 'MASTER') break;
    }
    h.waitFor('MASTER', 10_000, 0.125);
    // lower adverts never reset the timer
    expect(h.machine.lastTransition!.at - 1_000_000 - tStart).toBeCloseTo(DOWN_150, 3);
  });

  it('nopreempt: a higher backup keeps following a lower master', () => {
    const h = new Harness({ priority: 150, preempt: false });
    h.machine.start();
    for (let i = 0; i < 60; i++) {
      h.advance(1000);
      h.hear(100);
    }
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.masterPriority).toBe(100);
    // …but still takes over when that master dies.
    h.waitFor('MASTER', 10_000);
  });

  it('preempt_delay: follows a lower master until the delay has passed since start, then preempts', () => {
    const h = new Harness({ priority: 150, preemptDelayMs: 10_000 });
    h.machine.start();
    let tookOver = -1;
    for (let t = 500; t <= 20_000; t += 1000) {
      h.advance(t - h.t);
      if (h.machine.state === 'MASTER') {
        tookOver = h.t;
        break;
      }
      h.hear(100);
    }
    // Adverts before 10 s are accepted; the last accepted one is at 9.5 s; its down timer runs out at
    // 9.5 s + 3 × 1 s + skew(150).
    expect(tookOver).toBeGreaterThan(9_500 + DOWN_150 - 1);
    expect(tookOver).toBeLessThan(9_500 + DOWN_150 + 1000);
  });

  it('a held preemption follows a lower master (a silent one is still taken over); released, it preempts after the down timer', () => {
    const h = new Harness({ priority: 150 });
    h.machine.holdPreemption(true);
    h.machine.start();
    for (let t = 500; t <= 8_500; t += 1000) {
      h.advance(t - h.t);
      h.hear(100);
    }
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.masterPriority).toBe(100);
    h.machine.holdPreemption(false);
    let tookOver = -1;
    for (let t = 9_500; t <= 20_000; t += 1000) {
      h.advance(t - h.t);
      if (h.machine.state === 'MASTER') {
        tookOver = h.t;
        break;
      }
      h.hear(100);
    }
    // the last advert followed was at 8.5 s: its down timer runs out at 8.5 s + 3 s + skew(150)
    expect(tookOver).toBeGreaterThan(8_500 + DOWN_150 - 1);
    expect(tookOver).toBeLessThan(8_500 + DOWN_150 + 1000);
    // held again as backup: a master that goes silent is still replaced
    const g = new Harness({ priority: 150 });
    g.machine.holdPreemption(true);
    g.machine.start();
    g.waitFor('MASTER', 10_000);
  });

  it('a held preemption means nothing with nopreempt, and a higher master is followed either way', () => {
    const h = new Harness({ priority: 150, preempt: false });
    h.machine.holdPreemption(true);
    h.machine.start();
    h.advance(500);
    h.hear(100);
    h.machine.holdPreemption(false);
    for (let t = 1_500; t <= 12_500; t += 1000) {
      h.advance(t - h.t);
      h.hear(100);
    }
    expect(h.machine.state).toBe('BACKUP');
  });

  it('preempt_delay is cancelled by a higher master and restarted by the next lower one', () => {
    const h = new Harness({ priority: 150, preemptDelayMs: 5_000 });
    h.machine.start();
    h.advance(8_000 - h.t); // past the start delay without hearing anyone? the down timer fires first
    expect(h.machine.state).toBe('MASTER');
    // Yield to a higher one, then the higher one is replaced by a lower one: the delay starts afresh.
    h.hear(200);
    expect(h.machine.state).toBe('BACKUP');
    const t0 = h.t;
    let tookOver = -1;
    for (let i = 1; i <= 20; i++) {
      h.advance(t0 + i * 1000 - h.t);
      if (h.machine.state === 'MASTER') {
        tookOver = h.t - t0;
        break;
      }
      h.hear(i === 1 ? 200 : 100);
    }
    // Lower adverts from t0+2 s start a 5 s delay: accepted until t0+7 s, taken over by t0+6 s + DOWN_150.
    expect(tookOver).toBeGreaterThan(6_000 + DOWN_150 - 1);
    expect(tookOver).toBeLessThan(7_000 + DOWN_150 + 1);
  });

  it('adverts in INIT and FAULT change nothing', () => {
    const h = new Harness();
    h.hear(200);
    expect(h.machine.state).toBe('INIT');
    h.machine.interfaceDown();
    h.machine.start();
    h.hear(0);
    h.advance(10_000);
    expect(h.machine.state).toBe('FAULT');
  });
});

describe('master', () => {
  function master(over: SpecOverrides = {}): Harness {
    const h = new Harness(over);
    h.machine.start();
    h.waitFor('MASTER');
    h.clear();
    return h;
  }

  it('hearing a higher priority: becomes backup, removes VIPs, sends no priority 0', () => {
    const h = master();
    h.hear(150);
    expect(h.machine.state).toBe('BACKUP');
    expect(h.kinds()).toEqual(['removeVips', 'MASTER->BACKUP']);
    expect(h.machine.counters.releaseMaster).toBe(1);
    expect(h.machine.masterIp).toBe('10.0.0.2');
    // and no more adverts or GARPs from it
    h.clear();
    h.advance(3000);
    expect(h.adverts()).toEqual([]);
    expect(h.garps()).toEqual([]);
  });

  it('higherPrioritySendAdvert: sends one last advert before yielding', () => {
    const h = master({ higherPrioritySendAdvert: true });
    h.hear(150);
    expect(h.kinds()).toEqual(['advert:100', 'removeVips', 'MASTER->BACKUP']);
  });

  it('hearing a lower priority: answers at once with its own advert (keepalived split-brain healing)', () => {
    const h = master();
    h.advance(300);
    h.hear(50);
    expect(h.machine.state).toBe('MASTER');
    expect(h.adverts()).toEqual([{ at: h.clock.now(), priority: 100 }]);
    expect(h.machine.counters.lowerPriorityAnswered).toBe(1);
    // the advert timer restarts from the answer
    h.clear();
    h.advance(999);
    expect(h.adverts()).toEqual([]);
    h.advance(1);
    expect(h.adverts().length).toBe(1);
  });

  it('lowerPriorityNoAdvert: discards a lower priority advert (RFC behaviour)', () => {
    const h = master({ lowerPriorityNoAdvert: true });
    h.hear(50);
    expect(h.adverts()).toEqual([]);
    expect(h.machine.state).toBe('MASTER');
  });

  it('equal priority: the higher primary IP wins (numerically)', () => {
    const h = master({ primaryIp: '10.0.0.9' });
    h.hear(100, '10.0.0.8');
    expect(h.machine.state).toBe('MASTER');
    expect(h.adverts().length).toBe(1); // answered, it is "lower"
    h.hear(100, '10.0.0.10'); // 10 > 9 numerically, though "10" < "9" as text
    expect(h.machine.state).toBe('BACKUP');
    expect(h.machine.lastTransition?.reason).toContain('equal priority');
  });

  it('equal priority with our own address is ignored', () => {
    const h = master();
    h.hear(100, '10.0.0.1');
    expect(h.machine.state).toBe('MASTER');
    expect(h.effects).toEqual([]);
  });

  it('two masters both resolve: exactly one stays master', () => {
    const a = master({ primaryIp: '10.0.0.1', priority: 100 });
    const b = master({ primaryIp: '10.0.0.2', priority: 100 });
    a.hear(100, '10.0.0.2');
    b.hear(100, '10.0.0.1');
    expect([a.machine.state, b.machine.state].sort()).toEqual(['BACKUP', 'MASTER']);
    expect(b.machine.state).toBe('MASTER');
  });

  it('hearing priority 0 from another master: sends an advert at once and stays master', () => {
    const h = master();
    h.advance(400);
    h.hear(0);
    expect(h.machine.state).toBe('MASTER');
    expect(h.adverts()).toEqual([{ at: h.clock.now(), priority: 100 }]);
  });

  it('two address owners: a configuration error — steps down to 254 and yields (keepalived)', () => {
    const h = master({ priority: 255, primaryIp: '10.0.0.5' });
    h.hear(255, '10.0.0.2');
    expect(h.machine.effectivePriority).toBe(254);
    expect(h.machine.state).toBe('BACKUP');
    // reconfiguring the priority clears the step-down
    h.machine.reconfigure({ ...h.machine.currentSpec, priority: 200 });
    expect(h.machine.effectivePriority).toBe(200);
  });
});

describe('gratuitous ARP schedule', () => {
  it('repeat per burst, again after garp_master_delay, then nothing without refresh', () => {
    const h = new Harness({ garpMasterRepeat: 3, garpMasterDelayMs: 5000 });
    h.machine.start();
    h.waitFor('MASTER');
    const t0 = h.machine.lastTransition!.at;
    h.advance(60_000);
    expect(h.garps()).toEqual([
      { at: t0, repeat: 3 },
      { at: t0 + 5000, repeat: 3 },
    ]);
    expect(h.machine.counters.gratuitousArpBursts).toBe(2);
  });

  it('garp_master_refresh repeats every interval with garp_master_refresh_repeat', () => {
    const h = new Harness({ garpMasterRefreshMs: 20_000, garpMasterRefreshRepeat: 2 });
    h.machine.start();
    h.waitFor('MASTER');
    const t0 = h.machine.lastTransition!.at;
    h.advance(65_000);
    expect(h.garps()).toEqual([
      { at: t0, repeat: 5 },
      { at: t0 + 5000, repeat: 5 },
      { at: t0 + 20_000, repeat: 2 },
      { at: t0 + 40_000, repeat: 2 },
      { at: t0 + 60_000, repeat: 2 },
    ]);
  });

  it('garp_master_delay 0: a single burst', () => {
    const h = new Harness({ garpMasterDelayMs: 0 });
    h.machine.start();
    h.waitFor('MASTER');
    h.advance(30_000);
    expect(h.garps().length).toBe(1);
  });

  it('leaving master cancels the delayed and refresh bursts', () => {
    const h = new Harness({ garpMasterRefreshMs: 10_000 });
    h.machine.start();
    h.waitFor('MASTER');
    h.advance(1000);
    h.hear(200);
    h.clear();
    for (let i = 0; i < 30; i++) {
      h.advance(1000);
      h.hear(200);
    }
    expect(h.garps()).toEqual([]);
  });
});

describe('fault', () => {
  it('master → FAULT on interface down: priority 0, VIPs removed, silent until up', () => {
    const h = new Harness();
    h.machine.start();
    h.waitFor('MASTER');
    h.clear();
    h.machine.interfaceDown();
    expect(h.kinds()).toEqual(['advert:0', 'removeVips', 'MASTER->FAULT']);
    expect(h.machine.counters.priorityZeroRequested).toBe(1);
    h.clear();
    h.advance(30_000);
    expect(h.effects).toEqual([]);
    expect(h.machine.masterIp).toBeUndefined();
  });

  it('FAULT → BACKUP on recovery, then the normal election', () => {
    const h = new Harness();
    h.machine.start();
    h.machine.interfaceDown();
    expect(h.machine.state).toBe('FAULT');
    h.advance(10_000);
    expect(h.machine.state).toBe('FAULT'); // no master-down timer in FAULT
    h.machine.interfaceUp();
    expect(h.machine.state).toBe('BACKUP');
    const waited = h.waitFor('MASTER', 10_000, 0.125);
    expect(waited).toBeCloseTo(DOWN_100, 0);
  });

  it('an owner leaves FAULT straight to MASTER', () => {
    const h = new Harness({ priority: 255 });
    h.machine.interfaceDown();
    h.machine.start();
    expect(h.machine.state).toBe('FAULT');
    h.machine.interfaceUp();
    expect(h.machine.state).toBe('MASTER');
  });

  it('stays in FAULT until every fault source has cleared', () => {
    const h = new Harness();
    h.machine.start();
    h.machine.setFault('track_script chk', true);
    h.machine.interfaceDown();
    h.machine.interfaceUp();
    expect(h.machine.state).toBe('FAULT');
    expect(h.machine.faultReasons).toEqual(['track_script chk']);
    h.machine.setFault('track_script chk', false);
    expect(h.machine.state).toBe('BACKUP');
    expect(h.kinds().filter((k) => k.includes('->'))).toEqual(['INIT->BACKUP', 'BACKUP->FAULT', 'FAULT->BACKUP']);
  });

  it('starting with a fault goes INIT → FAULT', () => {
    const h = new Harness();
    h.machine.interfaceDown();
    h.machine.start();
    expect(h.kinds()).toEqual(['INIT->FAULT']);
  });
});

describe('shutdown', () => {
  it('master: priority 0 advert, VIPs removed, to INIT, no timers left', () => {
    const h = new Harness({ garpMasterRefreshMs: 10_000 });
    h.machine.start();
    h.waitFor('MASTER');
    h.clear();
    h.machine.shutdown();
    expect(h.kinds()).toEqual(['advert:0', 'removeVips', 'MASTER->INIT']);
    expect(h.machine.state).toBe('INIT');
    expect(h.machine.masterIp).toBeUndefined();
    expect(h.clock.pending).toBe(0);
    h.advance(60_000);
    expect(h.kinds()).toEqual(['advert:0', 'removeVips', 'MASTER->INIT']);
  });

  it('backup: no advert, no VIP change', () => {
    const h = new Harness();
    h.machine.start();
    h.clear();
    h.machine.shutdown();
    expect(h.kinds()).toEqual(['BACKUP->INIT']);
    expect(h.machine.state).toBe('INIT');
    expect(h.clock.pending).toBe(0);
  });

  it('can start again after shutdown, and elects as from scratch', () => {
    const h = new Harness();
    h.machine.start();
    h.waitFor('MASTER');
    h.machine.shutdown();
    h.machine.start();
    expect(h.machine.state).toBe('BACKUP');
    const waited = h.waitFor('MASTER', 10_000, 0.125);
    expect(waited).toBeCloseTo(DOWN_100, 0);
  });

  it('from FAULT: no advert, no VIP change, to INIT', () => {
    const h = new Harness();
    h.machine.start();
    h.machine.interfaceDown();
    h.clear();
    h.machine.shutdown();
    expect(h.kinds()).toEqual(['FAULT->INIT']);
    expect(h.clock.pending).toBe(0);
  });

  it('before start: nothing', () => {
    const h = new Harness();
    h.machine.shutdown();
    expect(h.effects).toEqual([]);
  });
});

describe('tracked priority', () => {
  it('adds the tracker delta, clamped to 1..254', () => {
    const h = new Harness({ priority: 100 });
    h.machine.setTrackedPriorityDelta(-30);
    expect(h.machine.effectivePriority).toBe(70);
    h.machine.setTrackedPriorityDelta(-500);
    expect(h.machine.effectivePriority).toBe(1);
    h.machine.setTrackedPriorityDelta(+500);
    expect(h.machine.effectivePriority).toBe(254);
  });

  it('an owner ignores tracker weights (keepalived)', () => {
    const h = new Harness({ priority: 255 });
    h.machine.setTrackedPriorityDelta(-50);
    expect(h.machine.effectivePriority).toBe(255);
  });

  it('a master advertises its lowered priority, and a backup above it preempts', () => {
    const m = new Harness({ priority: 150 });
    m.machine.start();
    m.waitFor('MASTER');
    m.clear();
    m.machine.setTrackedPriorityDelta(-60);
    m.advance(1000);
    expect(m.adverts()).toEqual([{ at: m.machine.lastTransition!.at + 1000, priority: 90 }]);

    const b = new Harness({ priority: 100, primaryIp: '10.0.0.2' });
    b.machine.start();
    b.advance(500);
    b.hear(150, '10.0.0.1');
    for (let i = 0; i < 10; i++) {
      b.advance(1000);
      b.hear(90, '10.0.0.1');
    }
    expect(b.machine.state).toBe('MASTER');
  });

  it('refuses a non-finite delta', () => {
    const h = new Harness();
    expect(() => h.machine.setTrackedPriorityDelta(Number.NaN)).toThrow(RangeError);
  });
});

describe('VRRPv3', () => {
  it('advertises every advert_int in centiseconds precision', () => {
    const h = new Harness({ version: 3, advertIntervalMs: 250 });
    h.machine.start();
    const waited = h.waitFor('MASTER', 10_000, 0.125);
    expect(waited).toBeCloseTo(750 + (156 * 250) / 256, 0);
    h.clear();
    h.advance(1000);
    expect(h.adverts().length).toBe(4);
  });

  it('a backup learns the master interval from its adverts (RFC 5798 §6.4.2)', () => {
    const h = new Harness({ version: 3, advertIntervalMs: 1000 });
    h.machine.start();
    h.advance(100);
    h.hear(150, '10.0.0.2', { maxAdvertIntCs: 20, advertInt: 0.2 });
    expect(h.machine.masterAdvertIntervalMs).toBe(200);
    const t0 = h.t;
    h.waitFor('MASTER', 10_000, 0.125);
    expect(h.t - t0).toBeCloseTo(600 + (156 * 200) / 256, 0);
    // as master it uses its own interval again
    expect(h.machine.masterAdvertIntervalMs).toBe(1000);
    h.clear();
    h.advance(2000);
    expect(h.adverts().length).toBe(2);
  });

  it('a master yielding to a higher v3 master takes its interval for the down timer', () => {
    const h = new Harness({ version: 3, advertIntervalMs: 1000 });
    h.machine.start();
    h.waitFor('MASTER');
    h.hear(200, '10.0.0.2', { maxAdvertIntCs: 10, advertInt: 0.1 });
    expect(h.machine.state).toBe('BACKUP');
    const waited = h.waitFor('MASTER', 10_000, 0.125);
    expect(waited).toBeCloseTo(300 + (156 * 100) / 256, 0);
  });
});

describe('reconfigure (SIGHUP)', () => {
  it('a master stays master and advertises at the new interval', () => {
    const h = new Harness();
    h.machine.start();
    h.waitFor('MASTER');
    h.clear();
    h.machine.reconfigure({ ...h.machine.currentSpec, advertIntervalMs: 2000, priority: 120 });
    expect(h.machine.state).toBe('MASTER');
    h.advance(6000);
    expect(h.adverts().map((a) => a.priority)).toEqual([120, 120, 120]);
    expect(h.kinds().some((k) => k.includes('->'))).toBe(false);
  });

  it('a backup raised to 255 takes over at once', () => {
    const h = new Harness();
    h.machine.start();
    h.hear(200);
    h.machine.reconfigure({ ...h.machine.currentSpec, priority: 255 });
    expect(h.machine.state).toBe('MASTER');
  });

  it('a backup re-arms its down timer with the new priority', () => {
    const h = new Harness();
    h.machine.start();
    h.advance(1000);
    h.machine.reconfigure({ ...h.machine.currentSpec, priority: 150 });
    const waited = h.waitFor('MASTER', 10_000, 0.125);
    expect(waited).toBeCloseTo(DOWN_150, 0);
  });

  it('in FAULT it stays FAULT (and an owner-to-be waits for recovery)', () => {
    const h = new Harness();
    h.machine.start();
    h.machine.interfaceDown();
    h.machine.reconfigure({ ...h.machine.currentSpec, priority: 255 });
    expect(h.machine.state).toBe('FAULT');
    h.machine.interfaceUp();
    expect(h.machine.state).toBe('MASTER');
  });

  it('refuses a VRID change and bad values', () => {
    const h = new Harness();
    expect(() => h.machine.reconfigure({ ...h.machine.currentSpec, vrid: 52 })).toThrow(RangeError);
    expect(() => h.machine.reconfigure({ ...h.machine.currentSpec, priority: 0 })).toThrow(RangeError);
    expect(() => new Harness({ advertIntervalMs: 0 })).toThrow(RangeError);
    expect(() => new Harness({ vrid: 256 })).toThrow(RangeError);
  });
});

describe('forced transitions (sync groups)', () => {
  it('forceMaster from BACKUP, forceBackup from MASTER; ignored otherwise', () => {
    const h = new Harness();
    h.machine.forceMaster('group');
    expect(h.machine.state).toBe('INIT');
    h.machine.start();
    h.machine.forceBackup('group');
    expect(h.machine.state).toBe('BACKUP');
    h.machine.forceMaster('group');
    expect(h.machine.state).toBe('MASTER');
    expect(h.machine.lastTransition?.reason).toBe('group');
    h.machine.forceBackup('group 2');
    expect(h.machine.state).toBe('BACKUP');
    expect(h.kinds().slice(-2)).toEqual(['removeVips', 'MASTER->BACKUP']);
  });
});

describe('garp_lower_prio_repeat', () => {
  it('a master hearing a lower priority also sends a GARP burst, and again after garp_lower_prio_delay', () => {
    const h = new Harness({ garpLowerPrioRepeat: 2, garpLowerPrioDelayMs: 3000, garpMasterDelayMs: 0 });
    h.machine.start();
    h.waitFor('MASTER');
    h.clear();
    h.hear(50);
    const t0 = h.clock.now();
    h.hear(50); // a second one does not stack another delayed burst
    h.advance(10_000);
    expect(h.garps()).toEqual([
      { at: t0, repeat: 2 },
      { at: t0, repeat: 2 },
      { at: t0 + 3000, repeat: 2 },
    ]);
  });

  it('off by default', () => {
    const h = new Harness({ garpMasterDelayMs: 0 });
    h.machine.start();
    h.waitFor('MASTER');
    h.clear();
    h.hear(50);
    h.advance(10_000);
    expect(h.garps()).toEqual([]);
  });
});

describe('defensive', () => {
  it('a v3 backup never learns an interval below 10 ms, even from an unvalidated advert', () => {
    const h = new Harness({ version: 3, advertIntervalMs: 1000 });
    h.machine.start();
    h.hear(200, '10.0.0.2', { maxAdvertIntCs: 0, advertInt: 0 });
    expect(h.machine.masterAdvertIntervalMs).toBe(10);
    h.advance(5);
    expect(h.machine.state).toBe('BACKUP');
  });
});
