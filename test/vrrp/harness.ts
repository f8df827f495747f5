/** Test harness: a VrrpStateMachine on a FakeClock whose effects are recorded with their time. */
import { FakeClock } from '../../src/util/clock.js';
import { AUTH_NONE, type VrrpAdvert } from '../../src/vrrp/codec/advertCodec.js';
import {
  VRRP_SPEC_DEFAULTS,
  VrrpStateMachine,
  type VrrpEffects,
  type VrrpInstanceSpec,
  type VrrpState,
} from '../../src/vrrp/core/vrrpStateMachine.js';

export type Effect =
  | { at: number; kind: 'advert'; priority: number }
  | { at: number; kind: 'addVips' }
  | { at: number; kind: 'removeVips' }
  | { at: number; kind: 'garp'; repeat: number }
  | { at: number; kind: 'transition'; from: VrrpState; to: VrrpState; reason: string }
  | { at: number; kind: 'advertLate'; latenessMs: number }
  | { at: number; kind: 'masterDownLate'; lateMs: number; listenMs: number };

export type SpecOverrides = Partial<VrrpInstanceSpec>;

export function spec(over: Partial<VrrpInstanceSpec> = {}): VrrpInstanceSpec {
  return { ...VRRP_SPEC_DEFAULTS, name: 'VI_1', vrid: 51, primaryIp: '10.0.0.1', ...over };
}

export class Harness {
  readonly clock: FakeClock;
  readonly effects: Effect[] = [];
  readonly machine: VrrpStateMachine;

  constructor(over: Partial<VrrpInstanceSpec> = {}, clock = new FakeClock(1_000_000)) {
    this.clock = clock;
    type Unstamped = Effect extends infer E ? (E extends Effect ? Omit<E, 'at'> : never) : never;
    const record = (e: Unstamped): void => {
      this.effects.push({ at: this.clock.now(), ...e } as Effect);
    };
    const fx: VrrpEffects = {
      sendAdvert: (priority) => record({ kind: 'advert', priority }),
      addVips: () => record({ kind: 'addVips' }),
      removeVips: () => record({ kind: 'removeVips' }),
      sendGratuitousArp: (repeat) => record({ kind: 'garp', repeat }),
      onTransition: (from, to, reason) => record({ kind: 'transition', from, to, reason }),
      advertLate: (latenessMs) => record({ kind: 'advertLate', latenessMs }),
      masterDownLate: (lateMs, listenMs) => record({ kind: 'masterDownLate', lateMs, listenMs }),
    };
    this.machine = new VrrpStateMachine(spec(over), this.clock, fx);
  }

  /** Milliseconds since the harness clock's origin. */
  get t(): number {
    return this.clock.now() - 1_000_000;
  }

  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** Advance in small steps until the machine is in `state`; returns ms waited (throws past maxMs). */
  waitFor(state: VrrpState, maxMs = 60_000, stepMs = 1): number {
    const start = this.clock.now();
    while (this.machine.state !== state) {
      if (this.clock.now() - start > maxMs) throw new Error(`still ${this.machine.state} after ${maxMs} ms`);
      this.clock.advance(stepMs);
    }
    return this.clock.now() - start;
  }

  kinds(): string[] {
    return this.effects.map((e) => (e.kind === 'advert' ? `advert:${e.priority}` : e.kind === 'garp' ? `garp:${e.repeat}` : e.kind === 'transition' ? `${e.from}->${e.to}` : e.kind));
  }

  adverts(): Array<{ at: number; priority: number }> {
    return this.effects.flatMap((e) => (e.kind === 'advert' ? [{ at: e.at, priority: e.priority }] : []));
  }

  garps(): Array<{ at: number; repeat: number }> {
    return this.effects.flatMap((e) => (e.kind === 'garp' ? [{ at: e.at, repeat: e.repeat }] : []));
  }

  clear(): void {
    this.effects.length = 0;
  }

  /** Feed an advert from a peer. */
  hear(priority: number, srcIp = '10.0.0.2', over: Partial<VrrpAdvert> = {}): void {
    const version = this.machine.currentSpec.version;
    this.machine.receiveAdvert(
      {
        version,
        vrid: this.machine.currentSpec.vrid,
        priority,
        addresses: ['10.0.0.100'],
        advertInt: 1,
        maxAdvertIntCs: 100,
        authType: AUTH_NONE,
        authData: new Uint8Array(8),
        ...over,
      },
      srcIp,
    );
  }
}
