import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { VrrpSyncGroup, type SyncGroupState } from '../../src/vrrp/core/syncGroup.js';
import { Harness, type SpecOverrides } from './harness.js';

function group(n = 2, over: SpecOverrides = {}) {
  const clock = new FakeClock(1_000_000);
  const members = Array.from({ length: n }, (_, i) => new Harness({ name: `VI_${i + 1}`, vrid: 51 + i, ...over }, clock));
  const groupTransitions: Array<[SyncGroupState, SyncGroupState]> = [];
  const g = new VrrpSyncGroup(
    'G1',
    members.map((m) => m.machine),
    { onGroupTransition: (from, to) => groupTransitions.push([from, to]) },
  );
  const states = (): string[] => members.map((m) => m.machine.state);
  return { clock, members, g, groupTransitions, states };
}

describe('vrrp_sync_group', () => {
  it('members start and elect together', () => {
    const { members, states, g, clock } = group(3);
    members.forEach((m) => m.machine.start());
    expect(states()).toEqual(['BACKUP', 'BACKUP', 'BACKUP']);
    expect(g.state).toBe('BACKUP');
    clock.advance(5000);
    expect(states()).toEqual(['MASTER', 'MASTER', 'MASTER']);
    expect(g.state).toBe('MASTER');
  });

  it('one member becoming MASTER takes the others along at once', () => {
    const { members, states, clock } = group(2);
    members.forEach((m) => m.machine.start());
    // the second member keeps hearing a master, the first does not
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      members[1].hear(200);
    }
    clock.advance(700);
    expect(states()).toEqual(['MASTER', 'MASTER']);
    expect(members[1].machine.lastTransition?.reason).toContain('sync group G1: VI_1 became MASTER');
    expect(members[1].kinds()).toContain('addVips');
  });

  it('one member yielding to a higher priority takes the others to BACKUP', () => {
    const { members, states, clock, groupTransitions } = group(2);
    members.forEach((m) => m.machine.start());
    clock.advance(5000);
    members[0].hear(250);
    expect(states()).toEqual(['BACKUP', 'BACKUP']);
    expect(members[1].kinds().slice(-2)).toEqual(['removeVips', 'MASTER->BACKUP']);
    expect(groupTransitions).toEqual([
      ['INIT', 'BACKUP'],
      ['BACKUP', 'MASTER'],
      ['MASTER', 'BACKUP'],
    ]);
  });

  it('one member in FAULT puts all in FAULT; all leave when it recovers', () => {
    const { members, states, clock, g } = group(3);
    members.forEach((m) => m.machine.start());
    clock.advance(5000);
    members[2].machine.interfaceDown();
    expect(states()).toEqual(['FAULT', 'FAULT', 'FAULT']);
    expect(g.state).toBe('FAULT');
    // the masters sent priority 0 and released their VIPs
    expect(members[0].kinds().slice(-3)).toEqual(['advert:0', 'removeVips', 'MASTER->FAULT']);
    clock.advance(10_000);
    expect(states()).toEqual(['FAULT', 'FAULT', 'FAULT']);
    members[2].machine.interfaceUp();
    expect(states()).toEqual(['BACKUP', 'BACKUP', 'BACKUP']);
    clock.advance(5000);
    expect(states()).toEqual(['MASTER', 'MASTER', 'MASTER']);
  });

  it('stays in FAULT until every member with its own fault recovers (no deadlock)', () => {
    const { members, states } = group(2);
    members.forEach((m) => m.machine.start());
    members[0].machine.setFault('track_script a', true);
    members[1].machine.setFault('track_script b', true);
    members[0].machine.setFault('track_script a', false);
    expect(states()).toEqual(['FAULT', 'FAULT']);
    members[1].machine.setFault('track_script b', false);
    expect(states()).toEqual(['BACKUP', 'BACKUP']);
    expect(members.every((m) => m.machine.faultReasons.length === 0)).toBe(true);
  });

  it('a fault raised before start makes every member start in FAULT', () => {
    const { members, states } = group(2);
    members[0].machine.interfaceDown();
    members.forEach((m) => m.machine.start());
    expect(states()).toEqual(['FAULT', 'FAULT']);
  });

  it('a member started after another became MASTER (owner) joins it at once', () => {
    const clock = new FakeClock(0);
    const owner = new Harness({ name: 'VI_1', vrid: 1, priority: 255 }, clock);
    const late = new Harness({ name: 'VI_2', vrid: 2, priority: 100 }, clock);
    const g = new VrrpSyncGroup('G', [owner.machine, late.machine]);
    owner.machine.start();
    late.machine.start();
    expect([owner.machine.state, late.machine.state]).toEqual(['MASTER', 'MASTER']);
    expect(late.kinds()).toEqual(['INIT->BACKUP', 'advert:100', 'addVips', 'garp:5', 'BACKUP->MASTER']);
    expect(g.state).toBe('MASTER');
  });

  it('refuses a duplicate member', () => {
    const h = new Harness();
    expect(() => new VrrpSyncGroup('G', [h.machine, h.machine])).toThrow(RangeError);
  });
});
