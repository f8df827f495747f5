import { describe, expect, it } from 'vitest';
import type { LinkInfo } from '../../src/net/rtnetlink.js';
import type { RouteManager } from '../../src/net/routeManager.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import type { VrrpState } from '../../src/vrrp/core/vrrpStateMachine.js';
import { GratuitousArpSender } from '../../src/vrrp/edge/gratuitousArp.js';
import { NeighbourAdvertSender } from '../../src/vrrp/edge/neighbourAdvert.js';
import type { VipManager } from '../../src/vrrp/edge/vipManager.js';
import { MasterEffects, type EffectsInstance } from '../../src/vrrp/runtime/masterEffects.js';
import { model } from '../config/helpers.js';

// A master's bursts of gratuitous ARPs and unsolicited NAs on a FakeClock: the gaps of vrrp_garp_interval
// and vrrp_gna_interval are the clock's timers, so the frames leave only as the clock is advanced; a burst
// whose instance left MASTER, or whose service stops, ends at once and leaves no timer behind.

const ETH0: LinkInfo = { index: 2, name: 'eth0', mac: Buffer.from('02005e000001', 'hex'), adminUp: true, up: true };

/** Lets the burst's awaits (the link dump, a woken gap) run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(globalDefs = '') {
  const clock = new FakeClock();
  /** Each frame sent, as "at-ms kind" (kind arp or na). */
  const sent: string[] = [];
  const addon = {
    sendFrame: (_ifindex: number, frame: Buffer) => {
      sent.push(`${clock.now()} ${frame.readUInt16BE(12) === 0x0806 ? 'arp' : 'na'}`);
      return frame.length;
    },
  };
  const config = model(`global_defs {\n${globalDefs}\n}\n`);
  const flags = { stopping: false };
  const effects = new MasterEffects({
    logger: silentLogger(),
    netlink: { links: async () => [ETH0] },
    // Bursts touch neither VIPs nor routes.
    vipManager: {} as VipManager,
    routeManager: {} as RouteManager,
    model: () => config,
    clock,
    stopping: () => flags.stopping,
  });
  const instance = (name: string): EffectsInstance & { machine: { state: VrrpState } } => ({
    model: { name },
    machine: { state: 'MASTER', masterIp: undefined, masterPriority: undefined, faultReasons: [] },
    vips: [
      { address: '10.0.0.200', prefixLength: 24, dev: 'eth0' },
      { address: 'fd00::200', prefixLength: 64, dev: 'eth0' },
    ],
    routes: [],
    rules: [],
    garp: new GratuitousArpSender(addon),
    na: new NeighbourAdvertSender(addon, undefined, () => false),
    holdsRoutes: false,
    routeErrors: 0,
    vipErrors: 0,
    leftoverVips: [],
    queue: Promise.resolve(),
  });
  return { clock, sent, effects, flags, instance };
}

describe('MasterEffects: ARP and NA bursts on the Clock', () => {
  it('paces a burst by the clock: the next ARP after vrrp_garp_interval, the next NA after vrrp_gna_interval', async () => {
    const t = setup('  vrrp_garp_interval 1\n  vrrp_gna_interval 0.25');
    const rt = t.instance('VI_1');
    let done = false;
    void t.effects.garpBurst(rt, 3).then(() => (done = true));
    await flush();
    expect(t.sent).toEqual(['0 arp', '0 na']);
    t.clock.advance(249);
    await flush();
    expect(t.sent).toHaveLength(2);
    t.clock.advance(1);
    await flush();
    t.clock.advance(250);
    await flush();
    expect(t.sent).toEqual(['0 arp', '0 na', '250 na', '500 na']);
    t.clock.advance(499);
    await flush();
    expect(t.sent).toHaveLength(4);
    t.clock.advance(1);
    await flush();
    t.clock.advance(1000);
    await flush();
    expect(t.sent).toEqual(['0 arp', '0 na', '250 na', '500 na', '1000 arp', '2000 arp']);
    expect(done).toBe(true);
    expect(t.clock.pending).toBe(0);
  });

  it('a master that leaves MASTER mid-burst: endBursts cuts the gap short, nothing more is sent, no timer is left', async () => {
    const t = setup('  vrrp_garp_interval 1\n  vrrp_gna_interval 1');
    const rt = t.instance('VI_1');
    const burst = t.effects.garpBurst(rt, 3);
    await flush();
    expect(t.sent).toEqual(['0 arp', '0 na']);
    rt.machine.state = 'BACKUP';
    t.effects.endBursts(rt);
    await burst; // without the clock moving
    expect(t.clock.pending).toBe(0);
    t.clock.advance(5000);
    await flush();
    expect(t.sent).toEqual(['0 arp', '0 na']);
  });

  it('the service stops mid-burst: every burst ends at once, even with the state still MASTER', async () => {
    const t = setup('  vrrp_garp_interval 1');
    const [a, b] = [t.instance('VI_1'), t.instance('VI_2')];
    const bursts = Promise.all([t.effects.garpBurst(a, 3), t.effects.garpBurst(b, 3)]);
    await flush();
    expect(t.sent.filter((f) => f.endsWith('arp'))).toHaveLength(2);
    t.flags.stopping = true;
    t.effects.endBursts();
    await bursts;
    expect(t.clock.pending).toBe(0);
    t.clock.advance(5000);
    await flush();
    expect(t.sent.filter((f) => f.endsWith('arp'))).toHaveLength(2);
  });

  it("endBursts for one instance leaves another instance's burst to its pace", async () => {
    const t = setup('  vrrp_garp_interval 1');
    const [a, b] = [t.instance('VI_1'), { ...t.instance('VI_2'), vips: [{ address: '10.0.0.201', prefixLength: 24, dev: 'eth0' }] }];
    const bursts = Promise.all([t.effects.garpBurst(a, 2), t.effects.garpBurst(b, 2)]);
    await flush();
    a.machine.state = 'BACKUP';
    t.effects.endBursts(a);
    await flush();
    expect(t.clock.pending).toBe(1); // VI_2's gap
    t.clock.advance(1000);
    await bursts;
    expect(t.sent.filter((f) => f.endsWith('arp'))).toEqual(['0 arp', '0 arp', '1000 arp']);
  });

  it('with intervals of 0 (the default) sends the whole burst at once and arms no timer', async () => {
    const t = setup();
    await t.effects.garpBurst(t.instance('VI_1'), 3);
    expect(t.sent).toEqual(['0 arp', '0 arp', '0 arp', '0 na', '0 na', '0 na']);
    expect(t.clock.pending).toBe(0);
  });
});
