/**
 * Several state machines on one simulated LAN (a FakeClock and a wire that delivers each advert to every
 * other live router 1 ms later): elections converge to exactly one master, the right one, and the VIP is
 * never held by two routers once the election has settled. Randomised, seeded, so failures reproduce.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { AUTH_NONE } from '../../src/vrrp/codec/advertCodec.js';
import { VRRP_SPEC_DEFAULTS, VrrpStateMachine, type VrrpInstanceSpec } from '../../src/vrrp/core/vrrpStateMachine.js';

interface Router {
  ip: string;
  machine: VrrpStateMachine;
  alive: boolean;
  holdsVip: boolean;
  priority: number;
}

class Lan {
  readonly clock = new FakeClock(0);
  readonly routers: Router[] = [];
  /** Times at which more than one router held the VIP. */
  readonly overlaps: number[] = [];

  add(ip: string, over: Partial<VrrpInstanceSpec>): Router {
    const router: Router = { ip, alive: true, holdsVip: false, priority: over.priority ?? 100, machine: undefined as unknown as VrrpStateMachine };
    const spec: VrrpInstanceSpec = { ...VRRP_SPEC_DEFAULTS, name: `R${ip}`, vrid: 1, primaryIp: ip, ...over };
    router.machine = new VrrpStateMachine(spec, this.clock, {
      sendAdvert: (priority) => this.broadcast(router, priority),
      addVips: () => {
        router.holdsVip = true;
        if (this.routers.filter((r) => r.holdsVip).length > 1) this.overlaps.push(this.clock.now());
      },
      removeVips: () => {
        router.holdsVip = false;
      },
      sendGratuitousArp: () => {},
      onTransition: () => {},
    });
    this.routers.push(router);
    return router;
  }

  private broadcast(from: Router, priority: number): void {
    if (!from.alive) return;
    const version = from.machine.currentSpec.version;
    const intervalMs = from.machine.currentSpec.advertIntervalMs;
    for (const to of this.routers) {
      if (to === from) continue;
      this.clock.setTimer(1, () => {
        if (!to.alive) return;
        to.machine.receiveAdvert(
          {
            version,
            vrid: 1,
            priority,
            addresses: ['10.0.0.100'],
            advertInt: intervalMs / 1000,
            maxAdvertIntCs: intervalMs / 10,
            authType: AUTH_NONE,
            authData: new Uint8Array(8),
          },
          from.ip,
        );
      });
    }
  }

  /** kill -9: no goodbye; its VIP stays on a dead box, which no longer counts. */
  crash(r: Router): void {
    r.alive = false;
    r.holdsVip = false;
    r.machine.shutdown(); // stops its timers; its priority-0 advert is not delivered (dead)
  }

  masters(): Router[] {
    return this.routers.filter((r) => r.alive && r.machine.state === 'MASTER');
  }
}

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

describe('simulated LAN', () => {
  it('the highest priority wins; the others stay backup; one VIP holder', () => {
    const lan = new Lan();
    const a = lan.add('10.0.0.1', { priority: 100 });
    const b = lan.add('10.0.0.2', { priority: 200 });
    const c = lan.add('10.0.0.3', { priority: 150 });
    for (const r of lan.routers) r.machine.start();
    lan.clock.advance(20_000);
    expect(lan.masters()).toEqual([b]);
    expect([a.machine.state, c.machine.state]).toEqual(['BACKUP', 'BACKUP']);
    expect(lan.routers.filter((r) => r.holdsVip)).toEqual([b]);
    expect(a.machine.masterIp).toBe('10.0.0.2');
  });

  it('crash of the master: the next highest takes over within 3 × advert_int + its skew', () => {
    const lan = new Lan();
    lan.add('10.0.0.1', { priority: 100 });
    const b = lan.add('10.0.0.2', { priority: 200 });
    const c = lan.add('10.0.0.3', { priority: 150 });
    for (const r of lan.routers) r.machine.start();
    lan.clock.advance(20_000);
    lan.crash(b);
    const t0 = lan.clock.now();
    while (lan.masters().length === 0) lan.clock.advance(1);
    expect(lan.masters()).toEqual([c]);
    expect(lan.clock.now() - t0).toBeLessThanOrEqual(3000 + ((256 - 150) * 1000) / 256 + 2);
  });

  it('graceful stop of the master: the next highest takes over after its skew only', () => {
    const lan = new Lan();
    lan.add('10.0.0.1', { priority: 100 });
    const b = lan.add('10.0.0.2', { priority: 200 });
    const c = lan.add('10.0.0.3', { priority: 150 });
    for (const r of lan.routers) r.machine.start();
    lan.clock.advance(20_000);
    b.machine.shutdown(); // sends priority 0, delivered 1 ms later
    const t0 = lan.clock.now();
    while (lan.masters().length === 0) lan.clock.advance(1);
    expect(lan.masters()).toEqual([c]);
    expect(lan.clock.now() - t0).toBeLessThanOrEqual(1 + ((256 - 150) * 1000) / 256 + 1);
    expect(lan.overlaps).toEqual([]);
  });

  it('the returning higher priority preempts; with nopreempt it does not', () => {
    for (const preempt of [true, false]) {
      const lan = new Lan();
      const a = lan.add('10.0.0.1', { priority: 200, preempt });
      const b = lan.add('10.0.0.2', { priority: 100, preempt });
      b.machine.start();
      lan.clock.advance(10_000);
      expect(lan.masters()).toEqual([b]);
      a.machine.start();
      lan.clock.advance(10_000);
      expect(lan.masters()).toEqual([preempt ? a : b]);
    }
  });

  it('equal priorities: the higher address wins, even when both start as masters at once', () => {
    const lan = new Lan();
    lan.add('10.0.0.9', { priority: 100, initialState: 'MASTER' });
    const hi = lan.add('10.0.0.10', { priority: 100, initialState: 'MASTER' });
    for (const r of lan.routers) r.machine.start();
    lan.clock.advance(20_000);
    expect(lan.masters()).toEqual([hi]);
  });

  it('split brain heals when the wire comes back (the lower master yields at once)', () => {
    const lan = new Lan();
    const a = lan.add('10.0.0.1', { priority: 150 });
    const b = lan.add('10.0.0.2', { priority: 100 });
    // partition: neither hears the other
    a.alive = b.alive = true;
    const realA = a.machine.receiveAdvert.bind(a.machine);
    const realB = b.machine.receiveAdvert.bind(b.machine);
    let partitioned = true;
    a.machine.receiveAdvert = (adv, ip) => (partitioned ? undefined : realA(adv, ip));
    b.machine.receiveAdvert = (adv, ip) => (partitioned ? undefined : realB(adv, ip));
    a.machine.start();
    b.machine.start();
    lan.clock.advance(10_000);
    expect(lan.masters().length).toBe(2);
    partitioned = false;
    lan.clock.advance(1_100); // one advert interval is enough
    expect(lan.masters()).toEqual([a]);
  });

  it('random scenarios: after every settle period exactly one master, the best live one', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const lan = new Lan();
      const n = 2 + Math.floor(rand() * 3);
      const version = rand() < 0.5 ? 2 : 3;
      for (let i = 0; i < n; i++) {
        lan.add(`10.0.0.${i + 1}`, {
          priority: 1 + Math.floor(rand() * 254),
          version,
          advertIntervalMs: version === 2 ? 1000 : 200 + 100 * Math.floor(rand() * 5),
        });
      }
      for (const r of lan.routers) r.machine.start();
      for (let step = 0; step < 6; step++) {
        lan.clock.advance(15_000);
        const alive = lan.routers.filter((r) => r.alive);
        const masters = lan.masters();
        const context = `seed ${seed} step ${step}: ${lan.routers.map((r) => `${r.ip}/${r.priority}/${r.alive ? r.machine.state : 'dead'}`).join(' ')}`;
        expect(masters.length, context).toBe(alive.length > 0 ? 1 : 0);
        if (alive.length > 0) {
          const best = [...alive].sort((x, y) => y.priority - x.priority || Number(y.ip.split('.')[3]) - Number(x.ip.split('.')[3]))[0];
          expect(masters[0], context).toBe(best);
        }
        expect(lan.routers.filter((r) => r.holdsVip).length, context).toBeLessThanOrEqual(1);
        // perturb: crash, graceful stop, or restart someone
        const victim = lan.routers[Math.floor(rand() * lan.routers.length)];
        const action = rand();
        if (!victim.alive) {
          victim.alive = true;
          victim.machine.start();
        } else if (action < 0.5) lan.crash(victim);
        else victim.machine.shutdown();
        if (!victim.alive || victim.machine.state === 'INIT') {
          // a gracefully stopped router stays down until restarted later
          if (victim.machine.state === 'INIT') victim.alive = false;
        }
      }
    }
  });
});
