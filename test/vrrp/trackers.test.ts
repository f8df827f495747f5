import { describe, expect, it } from 'vitest';
import { InstanceTracking, InterfaceTracker, ScriptTracker } from '../../src/vrrp/core/trackers.js';
import { Harness } from './harness.js';

describe('ScriptTracker', () => {
  it('first result decides, then rise/fall consecutive results are needed', () => {
    const s = new ScriptTracker({ name: 'chk', weight: -20, rise: 2, fall: 3 });
    expect(s.status).toBe('init');
    expect(s.report(true)).toBe(true);
    expect(s.status).toBe('up');
    expect(s.report(false)).toBe(false);
    expect(s.report(false)).toBe(false);
    expect(s.report(true)).toBe(false); // streak broken
    expect(s.report(false)).toBe(false);
    expect(s.report(false)).toBe(false);
    expect(s.report(false)).toBe(true);
    expect(s.status).toBe('down');
    expect(s.report(true)).toBe(false);
    expect(s.report(false)).toBe(false);
    expect(s.report(true)).toBe(false);
    expect(s.report(true)).toBe(true);
    expect(s.status).toBe('up');
  });

  it('first failure goes down at once; init_fail starts down', () => {
    const s = new ScriptTracker({ name: 'chk', weight: 0, rise: 5, fall: 5 });
    s.report(false);
    expect(s.status).toBe('down');
    expect(new ScriptTracker({ name: 'x', weight: 0, rise: 1, fall: 1, initFail: true }).status).toBe('down');
  });

  it('refuses bad rise/fall/weight', () => {
    expect(() => new ScriptTracker({ name: 'x', weight: 0, rise: 0, fall: 1 })).toThrow(RangeError);
    expect(() => new ScriptTracker({ name: 'x', weight: 0, rise: 1, fall: 0 })).toThrow(RangeError);
    expect(() => new ScriptTracker({ name: 'x', weight: 300, rise: 1, fall: 1 })).toThrow(RangeError);
    expect(() => new InterfaceTracker({ name: 'eth0', weight: 1.5 }, true)).toThrow(RangeError);
  });
});

describe('InstanceTracking → priority delta and faults', () => {
  it('positive weight while up, negative while down, reverse swaps', () => {
    const plus = new ScriptTracker({ name: 'plus', weight: 10, rise: 1, fall: 1 });
    const minus = new ScriptTracker({ name: 'minus', weight: -30, rise: 1, fall: 1 });
    const rev = new ScriptTracker({ name: 'rev', weight: 5, weightReverse: true, rise: 1, fall: 1 });
    const t = new InstanceTracking().addScript(plus).addScript(minus).addScript(rev);
    plus.report(true);
    minus.report(true);
    rev.report(true);
    expect(t.outcome()).toEqual({ priorityDelta: 10, faults: [] });
    plus.report(false);
    minus.report(false);
    rev.report(false);
    expect(t.outcome()).toEqual({ priorityDelta: -30 + 5, faults: [] });
  });

  it('weight 0 down → FAULT; scripts still in init → FAULT (init)', () => {
    const s = new ScriptTracker({ name: 'chk', weight: 0, rise: 1, fall: 1 });
    const eth = new InterfaceTracker({ name: 'eth1', weight: 0 }, false);
    const t = new InstanceTracking().addScript(s).addInterface(eth);
    expect(t.outcome().faults).toEqual(['track_script chk (init)', 'track_interface eth1']);
    s.report(true);
    eth.setLink(true);
    expect(t.outcome()).toEqual({ priorityDelta: 0, faults: [] });
  });

  it('track_interface with weight', () => {
    const eth = new InterfaceTracker({ name: 'eth1', weight: -50 }, true);
    const t = new InstanceTracking().addInterface(eth);
    expect(t.outcome().priorityDelta).toBe(0);
    expect(eth.setLink(false)).toBe(true);
    expect(eth.setLink(false)).toBe(false);
    expect(t.outcome().priorityDelta).toBe(-50);
  });

  it('applied to a machine: a failing weighted script lowers the advertised priority', () => {
    const h = new Harness({ priority: 150 });
    const chk = new ScriptTracker({ name: 'chk', weight: -60, rise: 1, fall: 2 });
    const tracking = new InstanceTracking().addScript(chk);
    tracking.applyTo(h.machine);
    h.machine.start();
    expect(h.machine.state).toBe('FAULT'); // waiting for the script's first result
    chk.report(true);
    tracking.applyTo(h.machine);
    expect(h.machine.state).toBe('BACKUP');
    h.waitFor('MASTER');
    chk.report(false);
    chk.report(false);
    expect(tracking.applyTo(h.machine).priorityDelta).toBe(-60);
    expect(h.machine.effectivePriority).toBe(90);
    h.clear();
    h.advance(1000);
    expect(h.adverts().map((a) => a.priority)).toEqual([90]);
  });

  it('applied to a machine: weight 0 failure is FAULT, recovery back to BACKUP', () => {
    const h = new Harness();
    const chk = new ScriptTracker({ name: 'chk', weight: 0, rise: 2, fall: 1 });
    const tracking = new InstanceTracking().addScript(chk);
    chk.report(true);
    tracking.applyTo(h.machine);
    h.machine.start();
    h.waitFor('MASTER');
    chk.report(false);
    tracking.applyTo(h.machine);
    expect(h.machine.state).toBe('FAULT');
    expect(h.machine.faultReasons).toEqual(['track_script chk']);
    chk.report(true);
    tracking.applyTo(h.machine);
    expect(h.machine.state).toBe('FAULT'); // rise 2
    chk.report(true);
    tracking.applyTo(h.machine);
    expect(h.machine.state).toBe('BACKUP');
    const transitions = h.kinds().filter((k) => k.includes('->'));
    expect(transitions).toEqual(['INIT->BACKUP', 'BACKUP->MASTER', 'MASTER->FAULT', 'FAULT->BACKUP']);
  });

  it('init → first result never lets the instance out of FAULT in between when that result is a failure', () => {
    const h = new Harness();
    const chk = new ScriptTracker({ name: 'chk', weight: 0, rise: 1, fall: 1 });
    const tracking = new InstanceTracking().addScript(chk);
    tracking.applyTo(h.machine);
    h.machine.start();
    chk.report(false);
    tracking.applyTo(h.machine);
    expect(h.kinds()).toEqual(['INIT->FAULT']);
  });
});
