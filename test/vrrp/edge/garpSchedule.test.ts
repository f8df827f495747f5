import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/util/clock.js';
import { GarpSchedule } from '../../../src/vrrp/edge/garpSchedule.js';

function setup(spec: Partial<ConstructorParameters<typeof GarpSchedule>[1]> = {}) {
  const clock = new FakeClock();
  const sent: number[] = [];
  const schedule = new GarpSchedule(
    clock,
    { repeat: 5, delaySeconds: 5, refreshSeconds: 0, refreshRepeat: 1, intervalSeconds: 0, ...spec },
    () => sent.push(clock.now()),
  );
  return { clock, sent, schedule };
}

describe('gratuitous ARP schedule (garp_master_*)', () => {
  it('sends garp_master_repeat at once and again after garp_master_delay, then stops', () => {
    const { clock, sent, schedule } = setup();
    schedule.start();
    expect(sent).toEqual([0, 0, 0, 0, 0]);
    clock.advance(4999);
    expect(sent.length).toBe(5);
    clock.advance(1);
    expect(sent.slice(5)).toEqual([5000, 5000, 5000, 5000, 5000]);
    clock.advance(60_000);
    expect(sent.length).toBe(10);
    expect(schedule.pendingTimers).toBe(0);
  });

  it('spaces frames by vrrp_garp_interval within a burst', () => {
    const { clock, sent, schedule } = setup({ repeat: 3, delaySeconds: 0, intervalSeconds: 0.1 });
    schedule.start();
    clock.advance(1000);
    expect(sent).toEqual([0, 100, 200]);
  });

  it('refreshes every garp_master_refresh with garp_master_refresh_repeat frames while master', () => {
    const { clock, sent, schedule } = setup({ repeat: 1, delaySeconds: 0, refreshSeconds: 10, refreshRepeat: 2 });
    schedule.start();
    clock.advance(30_000);
    expect(sent).toEqual([0, 10_000, 10_000, 20_000, 20_000, 30_000, 30_000]);
  });

  it('stop() cancels the delayed burst and refreshes (leaving master)', () => {
    const { clock, sent, schedule } = setup({ refreshSeconds: 10 });
    schedule.start();
    clock.advance(1000);
    schedule.stop();
    clock.advance(60_000);
    expect(sent.length).toBe(5);
    expect(schedule.pendingTimers).toBe(0);
  });

  it('restarting (master again) does not stack schedules', () => {
    const { clock, sent, schedule } = setup({ repeat: 1 });
    schedule.start();
    schedule.start();
    clock.advance(5000);
    expect(sent).toEqual([0, 0, 5000]);
  });
});
