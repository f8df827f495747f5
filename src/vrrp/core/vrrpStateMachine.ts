/**
 * The VRRP state machine of one instance (pure): INIT / BACKUP / MASTER / FAULT, driven by explicit
 * events, with time from an injected Clock and every effect (adverts, VIPs, gratuitous ARP, notifications)
 * through the VrrpEffects interface the edge implements. It never does I/O itself.
 *
 * Follows RFC 3768 (v2) / RFC 5798 (v3) as keepalived 2.2.7 implements them; every place where keepalived
 * and the RFCs differ is marked "keepalived:" below and listed in src/vrrp/core/README.md.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { advertIntervalMs, type VrrpAdvert } from '../codec/advertCodec.js';
import { compareIp } from '../codec/ipAddressOrder.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

export const PRIORITY_OWNER = 255;
export const PRIORITY_STOP = 0;

export interface VrrpEffects {
  /** Send one advertisement now with this priority (0 on shutdown / leaving master for FAULT). */
  sendAdvert(priority: number): void;
  /** Add the instance's virtual (and excluded) addresses; idempotent at the edge. */
  addVips(): void;
  /** Remove them. */
  removeVips(): void;
  /**
   * Send one burst: `repeat` gratuitous ARPs per VIP, now. The core schedules the later bursts
   * (garp_master_delay, garp_master_refresh). (An implementation without the parameter sends one.)
   */
  sendGratuitousArp(repeat: number): void;
  /** Every state change, after its effects: logs, notify scripts, metrics. */
  onTransition(from: VrrpState, to: VrrpState, reason: string): void;
  /**
   * A periodic advert went out `latenessMs` after its time, at least half an interval: whatever held the
   * process used up that much of the backups' 3 × advert_int + skew. (Optional: a fake need not listen.)
   */
  advertLate?(latenessMs: number): void;
  /** The master-down timer fired `lateMs` late: the backup listens `listenMs` more before taking over. */
  masterDownLate?(lateMs: number, listenMs: number): void;
}

export interface VrrpInstanceSpec {
  name: string;
  vrid: number;
  version: 2 | 3;
  /** Configured priority 1..255 (255 = address owner). */
  priority: number;
  /** advert_int in ms (v2: whole seconds; v3: centiseconds). */
  advertIntervalMs: number;
  /** Our primary address on the interface (or unicast_src_ip): the equal-priority tie-break. */
  primaryIp: string;
  /** `state MASTER|BACKUP` from the config; MASTER only shortens the first down timer (keepalived). */
  initialState: 'MASTER' | 'BACKUP';
  /** false for `nopreempt`. */
  preempt: boolean;
  /** preempt_delay in ms (0 = none). */
  preemptDelayMs: number;
  /** garp_master_repeat (keepalived default 5). */
  garpMasterRepeat: number;
  /** garp_master_delay in ms (keepalived default 5 s; 0 = no second burst). */
  garpMasterDelayMs: number;
  /** garp_master_refresh in ms (0 = off, the default). */
  garpMasterRefreshMs: number;
  /** garp_master_refresh_repeat (default 1). */
  garpMasterRefreshRepeat: number;
  /**
   * keepalived's vrrp_lower_prio_no_advert: when false (default) a master that hears a lower priority
   * advert answers at once with its own (split-brain healing); the RFC says to discard it.
   */
  lowerPriorityNoAdvert?: boolean;
  /**
   * garp_lower_prio_repeat: a master that hears a lower priority also sends this many gratuitous ARPs per
   * VIP (0 = none, the default), and again after garpLowerPrioDelayMs (garp_lower_prio_delay, 0 = once).
   */
  garpLowerPrioRepeat?: number;
  garpLowerPrioDelayMs?: number;
  /**
   * keepalived's vrrp_higher_prio_send_advert: a master that hears a higher priority sends one more
   * advert before yielding (default false).
   */
  higherPrioritySendAdvert?: boolean;
}

/** Defaults as keepalived 2.2.7 has them, for callers that build a spec by hand. */
export const VRRP_SPEC_DEFAULTS = {
  version: 2,
  priority: 100,
  advertIntervalMs: 1000,
  initialState: 'BACKUP',
  preempt: true,
  preemptDelayMs: 0,
  garpMasterRepeat: 5,
  garpMasterDelayMs: 5000,
  garpMasterRefreshMs: 0,
  garpMasterRefreshRepeat: 1,
  lowerPriorityNoAdvert: false,
  higherPrioritySendAdvert: false,
  garpLowerPrioRepeat: 0,
  garpLowerPrioDelayMs: 0,
} as const satisfies Partial<VrrpInstanceSpec>;

export interface VrrpMachineCounters {
  becomeMaster: number;
  releaseMaster: number;
  /** Adverts the machine asked the edge to send (the edge counts what the kernel accepted). */
  advertisementsRequested: number;
  priorityZeroRequested: number;
  /** Master heard a lower priority and answered with its own advert (split-brain healing). */
  lowerPriorityAnswered: number;
  /** Gratuitous ARP bursts asked of the edge. */
  gratuitousArpBursts: number;
  /** Master-down timer expiries (BACKUP → MASTER). */
  masterDownExpired: number;
  /** Periodic adverts sent half an interval or more after their time (see VrrpEffects.advertLate). */
  advertsLate: number;
  /** Master-down timers that fired late and listened once more before taking over (masterDownTimerFired). */
  masterDownDeferred: number;
}

export interface VrrpTransition {
  from: VrrpState;
  to: VrrpState;
  reason: string;
  /** Clock.now() when it happened. */
  at: number;
}

type TransitionListener = (transition: VrrpTransition) => void;
type FaultListener = (reasons: readonly string[]) => void;

/** Skew_Time in ms. keepalived uses the effective priority (RFC: "Priority"), v3 scales by the master's interval. */
export function skewTimeMs(version: 2 | 3, priority: number, masterAdvertIntervalMs: number): number {
  return version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * masterAdvertIntervalMs) / 256;
}

/** Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(version: 2 | 3, priority: number, masterAdvertIntervalMs: number): number {
  return 3 * masterAdvertIntervalMs + skewTimeMs(version, priority, masterAdvertIntervalMs);
}

/** RFC 5798 §6.4.2 Master_Adver_Interval from a v3 advert; never below 10 ms (1 cs), even if unvalidated. */
function learntInterval(advert: VrrpAdvert): number {
  return Math.max(10, advertIntervalMs(advert));
}

function checkSpec(spec: VrrpInstanceSpec): void {
  const bad = (what: string): never => {
    throw new RangeError(`vrrp_instance ${spec.name}: ${what}`);
  };
  if (!Number.isInteger(spec.vrid) || spec.vrid < 1 || spec.vrid > 255) bad(`virtual_router_id ${spec.vrid}`);
  if (!Number.isInteger(spec.priority) || spec.priority < 1 || spec.priority > 255) bad(`priority ${spec.priority}`);
  if (!(spec.advertIntervalMs > 0)) bad(`advert_int ${spec.advertIntervalMs} ms`);
  if (spec.preemptDelayMs < 0 || spec.garpMasterDelayMs < 0 || spec.garpMasterRefreshMs < 0) bad('negative delay');
  if ((spec.garpLowerPrioDelayMs ?? 0) < 0) bad('negative delay');
}

export class VrrpStateMachine {
  private spec: VrrpInstanceSpec;
  private currentState: VrrpState = 'INIT';
  private started = false;
  private trackedDelta = 0;
  /** Why we are (or would be) in FAULT: interface down, tracker, sync group. Empty = healthy. */
  private readonly faults = new Set<string>();
  /** Master_Adver_Interval: ours, or (v3, in BACKUP) the one the master announces. */
  private masterAdvertMs: number;
  private currentMasterIp: string | undefined;
  private currentMasterPriority: number | undefined;
  /** preempt_delay: until this Clock time a lower priority master is still accepted. */
  private preemptDeadline: number | undefined;
  /** Held by the daemon (IPVS connection sync catching up): a lower priority master is still accepted. */
  private preemptionHeld = false;
  private last: VrrpTransition | undefined;
  /** keepalived: two address owners on the wire — we step down to 254 until reconfigured. */
  private ownerConflict = false;

  private masterDownTimer: TimerHandle | undefined;
  private advertTimer: TimerHandle | undefined;
  /** When the next periodic advert is due (Clock time), so adverts keep their period without drift. */
  private nextAdvertAt = 0;
  private garpDelayTimer: TimerHandle | undefined;
  private garpRefreshTimer: TimerHandle | undefined;
  private garpLowerPrioTimer: TimerHandle | undefined;
  private readonly listeners: TransitionListener[] = [];
  private readonly faultListeners: FaultListener[] = [];

  readonly counters: VrrpMachineCounters = {
    becomeMaster: 0,
    releaseMaster: 0,
    advertisementsRequested: 0,
    priorityZeroRequested: 0,
    lowerPriorityAnswered: 0,
    gratuitousArpBursts: 0,
    masterDownExpired: 0,
    advertsLate: 0,
    masterDownDeferred: 0,
  };

  constructor(
    spec: VrrpInstanceSpec,
    private readonly clock: Clock,
    private readonly effects: VrrpEffects,
  ) {
    checkSpec(spec);
    this.spec = spec;
    this.masterAdvertMs = spec.advertIntervalMs;
  }

  // ---- getters ---------------------------------------------------------------------------------------

  get name(): string {
    return this.spec.name;
  }

  get state(): VrrpState {
    return this.currentState;
  }

  /** Configured priority plus tracker weights, clamped to 1..254; 255 stays 255 (owner). */
  get effectivePriority(): number {
    const base = this.ownerConflict ? PRIORITY_OWNER - 1 : this.spec.priority;
    // keepalived ignores tracking weights on an address owner: it must always win.
    if (base === PRIORITY_OWNER) return PRIORITY_OWNER;
    return Math.min(PRIORITY_OWNER - 1, Math.max(1, base + this.trackedDelta));
  }

  /** The current master's address: ours when MASTER, the advertiser's in BACKUP, else undefined. */
  get masterIp(): string | undefined {
    if (this.currentState === 'MASTER') return this.spec.primaryIp;
    if (this.currentState === 'BACKUP') return this.currentMasterIp;
    return undefined;
  }

  /** Priority of the master we follow (BACKUP), ours when MASTER. */
  get masterPriority(): number | undefined {
    if (this.currentState === 'MASTER') return this.effectivePriority;
    if (this.currentState === 'BACKUP') return this.currentMasterPriority;
    return undefined;
  }

  /** The interval the master advertises at (v3 backups learn it from the master). */
  get masterAdvertIntervalMs(): number {
    return this.masterAdvertMs;
  }

  get lastTransition(): VrrpTransition | undefined {
    return this.last;
  }

  get faultReasons(): string[] {
    return [...this.faults];
  }

  get currentSpec(): Readonly<VrrpInstanceSpec> {
    return this.spec;
  }

  /** For sync groups and metrics: called after onTransition, same arguments plus the time. */
  addTransitionListener(listener: TransitionListener): void {
    this.listeners.push(listener);
  }

  /** Called whenever the set of fault sources changes (sync groups watch their members' own faults). */
  addFaultListener(listener: FaultListener): void {
    this.faultListeners.push(listener);
  }

  // ---- events ----------------------------------------------------------------------------------------

  /** Leaves INIT: FAULT if a fault is pending, MASTER at once for an owner (255), else BACKUP. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.faults.size > 0) {
      this.enterFault(`start with fault: ${this.faultReasons.join(', ')}`);
    } else if (this.effectivePriority === PRIORITY_OWNER) {
      this.becomeMaster('priority 255 (address owner)');
    } else {
      this.enterBackup('start', this.spec.initialState === 'MASTER');
    }
  }

  /** A validated advert for this instance (see ReceiveValidator), from srcIp. */
  receiveAdvert(advert: VrrpAdvert, srcIp: string): void {
    if (!this.started) return;
    if (this.currentState === 'BACKUP') this.backupReceive(advert, srcIp);
    else if (this.currentState === 'MASTER') this.masterReceive(advert, srcIp);
    // INIT and FAULT: not participating; the validator has counted it.
  }

  /** The VRRP interface lost carrier / went down. */
  interfaceDown(): void {
    this.setFault('interface', true);
  }

  interfaceUp(): void {
    this.setFault('interface', false);
  }

  /**
   * Raise or clear one named fault source (e.g. 'interface', 'track_script chk_nginx', 'sync group').
   * The instance is in FAULT while any source is raised.
   */
  setFault(source: string, faulted: boolean): void {
    if (this.faults.has(source) === faulted) return;
    const had = this.faults.size > 0;
    if (faulted) this.faults.add(source);
    else this.faults.delete(source);
    if (this.started) {
      const has = this.faults.size > 0;
      if (has && !had) this.enterFault(`fault: ${source}`);
      else if (!has && had) this.leaveFault(`recovered: ${source}`);
    }
    const reasons = this.faultReasons;
    for (const listener of this.faultListeners) listener(reasons);
  }

  /** Sum of tracker weights (vrrp_script / track_interface). Takes effect in the next advert. */
  /**
   * While held, a BACKUP follows a lower-priority master instead of preempting it (as during preempt_delay);
   * released, the next lower-priority advert is discarded and the down timer takes over (RFC 3768 §6.4.2).
   * It never delays a takeover from a master that went silent, and means nothing with nopreempt.
   */
  holdPreemption(held: boolean): void {
    this.preemptionHeld = held;
  }

  get preemptionIsHeld(): boolean {
    return this.preemptionHeld;
  }

  setTrackedPriorityDelta(delta: number): void {
    if (!Number.isFinite(delta)) throw new RangeError(`priority delta ${delta}`);
    this.trackedDelta = Math.trunc(delta);
    // A master keeps advertising at its new priority: a backup above it preempts by ignoring it.
    // A backup's new skew applies from the next master-down reset.
  }

  /** Stop: a master sends priority 0 (the backup takes over after its skew) and releases the VIPs. */
  shutdown(): void {
    if (!this.started) return;
    const from = this.currentState;
    if (from === 'MASTER') {
      this.stopMasterTimers();
      this.sendAdvert(PRIORITY_STOP);
      this.effects.removeVips();
      this.counters.releaseMaster++;
    }
    this.clearMasterDown();
    this.started = false;
    this.currentState = 'INIT';
    this.currentMasterIp = undefined;
    this.currentMasterPriority = undefined;
    this.transition(from, 'INIT', 'shutdown');
  }

  /**
   * SIGHUP reload: new settings, same state where possible. A master stays master (re-armed at the new
   * interval; it yields if a higher priority speaks up); a backup re-arms its down timer; a new owner
   * (255) takes over at once. VRID cannot change: that is a different instance.
   */
  reconfigure(spec: VrrpInstanceSpec): void {
    checkSpec(spec);
    if (spec.vrid !== this.spec.vrid) {
      throw new RangeError(`vrrp_instance ${spec.name}: VRID change ${this.spec.vrid} → ${spec.vrid} needs a new instance`);
    }
    const old = this.spec;
    this.spec = spec;
    if (spec.priority !== old.priority) this.ownerConflict = false;
    if (this.spec.version === 2 || this.currentState !== 'BACKUP') this.masterAdvertMs = spec.advertIntervalMs;
    if (!this.started) return;
    if (this.currentState === 'MASTER') {
      if (spec.advertIntervalMs !== old.advertIntervalMs) this.armAdvertTimer();
      if (spec.garpMasterRefreshMs !== old.garpMasterRefreshMs) this.armGarpRefresh();
    } else if (this.currentState === 'BACKUP') {
      if (this.effectivePriority === PRIORITY_OWNER) this.becomeMaster('reconfigured as address owner');
      else {
        if (!spec.preempt || spec.preemptDelayMs === 0) this.preemptDeadline = undefined;
        this.armMasterDown(this.masterDownMs());
      }
    }
  }

  /** For sync groups: become MASTER now (a group member did). Ignored unless BACKUP. */
  forceMaster(reason: string): void {
    if (this.started && this.currentState === 'BACKUP') this.becomeMaster(reason);
  }

  /** For sync groups: become BACKUP now (a group member did). Ignored unless MASTER. */
  forceBackup(reason: string): void {
    if (this.started && this.currentState === 'MASTER') this.leaveMasterToBackup(reason);
  }

  // ---- receive ---------------------------------------------------------------------------------------

  private backupReceive(advert: VrrpAdvert, srcIp: string): void {
    const mine = this.effectivePriority;
    if (advert.priority === PRIORITY_STOP) {
      // RFC: Master_Down_Timer = Skew_Time — the master left; the highest backup (smallest skew) wins.
      this.currentMasterIp = srcIp;
      this.currentMasterPriority = 0;
      this.armMasterDown(skewTimeMs(this.spec.version, mine, this.masterAdvertMs));
      return;
    }
    const preemptDelayActive = this.preemptDelayActive(advert.priority >= mine);
    if (!this.spec.preempt || advert.priority >= mine || preemptDelayActive || this.preemptionHeld) {
      // Accept as our master. RFC 5798 §6.4.2: v3 backups adopt the master's advert interval.
      if (this.spec.version === 3) this.masterAdvertMs = learntInterval(advert);
      this.currentMasterIp = srcIp;
      this.currentMasterPriority = advert.priority;
      this.armMasterDown(this.masterDownMs());
      return;
    }
    // Lower priority and we preempt: discard, let the down timer run out (RFC 3768 §6.4.2).
    this.currentMasterIp = srcIp;
    this.currentMasterPriority = advert.priority;
  }

  /**
   * keepalived's preempt_delay: after start (or leaving FAULT) and from the first lower-priority advert,
   * a lower priority master is still followed until the delay has passed; a higher one cancels it.
   */
  private preemptDelayActive(higherOrEqual: boolean): boolean {
    if (!this.spec.preempt || this.spec.preemptDelayMs === 0) return false;
    if (higherOrEqual) {
      this.preemptDeadline = undefined;
      return false;
    }
    if (this.preemptDeadline === undefined) this.preemptDeadline = this.clock.now() + this.spec.preemptDelayMs;
    return this.clock.now() < this.preemptDeadline;
  }

  private masterReceive(advert: VrrpAdvert, srcIp: string): void {
    const mine = this.effectivePriority;
    if (advert.priority === PRIORITY_STOP) {
      // RFC: send an advert and reset the advert timer (another master left; stay and tell everyone).
      this.sendAdvert(mine);
      this.armAdvertTimer();
      return;
    }
    const ipOrder = compareIp(srcIp, this.spec.primaryIp);
    if (advert.priority === mine && ipOrder === 0) return; // our own address: a loop or a misconfiguration
    if (advert.priority === mine && mine === PRIORITY_OWNER) {
      // keepalived: two address owners — a configuration error; we step down to 254 so one can win.
      this.ownerConflict = true;
    }
    const now = this.effectivePriority;
    const theyWin = advert.priority > now || (advert.priority === now && ipOrder > 0);
    if (!theyWin) {
      // keepalived: answer a lower priority master at once so it yields now (RFC: discard).
      if (!this.spec.lowerPriorityNoAdvert) {
        this.counters.lowerPriorityAnswered++;
        this.sendAdvert(now);
        this.armAdvertTimer();
      }
      this.garpForLowerPriority();
      return;
    }
    if (this.spec.higherPrioritySendAdvert) this.sendAdvert(now);
    if (this.spec.version === 3) this.masterAdvertMs = learntInterval(advert);
    this.currentMasterIp = srcIp;
    this.currentMasterPriority = advert.priority;
    const why =
      advert.priority > now
        ? `higher priority ${advert.priority} from ${srcIp} (ours ${now})`
        : `equal priority ${advert.priority} from higher address ${srcIp}`;
    this.leaveMasterToBackup(why);
  }

  /** keepalived: refresh the neighbours' ARP caches when another router thinks it is master. */
  private garpForLowerPriority(): void {
    const repeat = this.spec.garpLowerPrioRepeat ?? 0;
    if (repeat <= 0) return;
    this.garpBurst(repeat);
    const delay = this.spec.garpLowerPrioDelayMs ?? 0;
    if (delay > 0 && this.garpLowerPrioTimer === undefined) {
      this.garpLowerPrioTimer = this.clock.setTimer(delay, () => {
        this.garpLowerPrioTimer = undefined;
        if (this.currentState === 'MASTER') this.garpBurst(repeat);
      });
    }
  }

  // ---- transitions -----------------------------------------------------------------------------------

  private becomeMaster(reason: string): void {
    const from = this.currentState;
    this.clearMasterDown();
    this.preemptDeadline = undefined;
    this.currentState = 'MASTER';
    this.masterAdvertMs = this.spec.advertIntervalMs;
    this.counters.becomeMaster++;
    // RFC 3768 §6.4.1 order: advert first (so other backups stop their timers), then the addresses,
    // then gratuitous ARP so switches and neighbours learn where the VIPs went.
    this.sendAdvert(this.effectivePriority);
    this.armAdvertTimer();
    this.effects.addVips();
    this.garpBurst(this.spec.garpMasterRepeat);
    if (this.spec.garpMasterDelayMs > 0) {
      this.garpDelayTimer = this.clock.setTimer(this.spec.garpMasterDelayMs, () => {
        this.garpDelayTimer = undefined;
        if (this.currentState === 'MASTER') this.garpBurst(this.spec.garpMasterRepeat);
      });
    }
    this.armGarpRefresh();
    this.transition(from, 'MASTER', reason);
  }

  private leaveMasterToBackup(reason: string): void {
    this.stopMasterTimers();
    this.effects.removeVips();
    this.counters.releaseMaster++;
    this.currentState = 'BACKUP';
    this.armMasterDown(this.masterDownMs());
    this.transition('MASTER', 'BACKUP', reason);
  }

  /** Enter BACKUP from INIT or FAULT. `shortTimer`: keepalived's `state MASTER` start. */
  private enterBackup(reason: string, shortTimer: boolean): void {
    const from = this.currentState;
    this.currentState = 'BACKUP';
    this.masterAdvertMs = this.spec.advertIntervalMs;
    this.currentMasterIp = undefined;
    this.currentMasterPriority = undefined;
    this.preemptDeadline =
      this.spec.preempt && this.spec.preemptDelayMs > 0 ? this.clock.now() + this.spec.preemptDelayMs : undefined;
    // keepalived: an instance configured `state MASTER` (not owner) starts as BACKUP but with a down timer
    // of one advert interval + the minimum skew, so it takes over quickly unless a higher priority speaks.
    const down = shortTimer
      ? this.masterAdvertMs + skewTimeMs(this.spec.version, 255, this.masterAdvertMs)
      : this.masterDownMs();
    this.armMasterDown(down);
    this.transition(from, 'BACKUP', reason);
  }

  private enterFault(reason: string): void {
    const from = this.currentState;
    if (from === 'FAULT') return;
    if (from === 'MASTER') {
      this.stopMasterTimers();
      // keepalived: a master going to FAULT still sends priority 0 so the backup takes over after skew.
      this.sendAdvert(PRIORITY_STOP);
      this.effects.removeVips();
      this.counters.releaseMaster++;
    }
    this.clearMasterDown();
    this.currentState = 'FAULT';
    this.currentMasterIp = undefined;
    this.transition(from, 'FAULT', reason);
  }

  private leaveFault(reason: string): void {
    if (this.currentState !== 'FAULT') return;
    if (this.effectivePriority === PRIORITY_OWNER) this.becomeMaster(`${reason}; priority 255`);
    else this.enterBackup(reason, this.spec.initialState === 'MASTER');
  }

  private transition(from: VrrpState, to: VrrpState, reason: string): void {
    const transition: VrrpTransition = { from, to, reason, at: this.clock.now() };
    this.last = transition;
    this.effects.onTransition(from, to, reason);
    for (const listener of this.listeners) listener(transition);
  }

  // ---- timers ----------------------------------------------------------------------------------------

  private masterDownMs(): number {
    return masterDownIntervalMs(this.spec.version, this.effectivePriority, this.masterAdvertMs);
  }

  private armMasterDown(ms: number): void {
    this.clearMasterDown();
    const dueAt = this.clock.now() + ms;
    this.masterDownTimer = this.clock.setTimer(ms, () => this.masterDownTimerFired(dueAt, false));
  }

  /**
   * A master-down timer that fires late — half the master's interval or more — fired after a time we heard
   * nothing of: our process was held (a timer runs before the adverts waiting in the socket are read), or
   * the whole machine was, the master with it (it sends when it resumes). Silence we did not listen to is
   * no proof the master is gone, so listen a little longer — a tenth of the master's interval, no longer
   * than we were late — before taking over: the waiting adverts are read on the loop's next turn, a
   * resumed master is scheduled within it, and a master really gone costs only that tenth more (a whole
   * interval made CI's VM takeovers miss their bound). An advert meanwhile re-arms the timer as usual.
   */
  private masterDownTimerFired(dueAt: number, deferredOnce: boolean): void {
    this.masterDownTimer = undefined;
    if (this.currentState !== 'BACKUP') return;
    const lateMs = this.clock.now() - dueAt;
    if (!deferredOnce && lateMs >= this.masterAdvertMs / 2) {
      const listenMs = Math.min(lateMs, this.masterAdvertMs / 10);
      this.counters.masterDownDeferred++;
      this.effects.masterDownLate?.(lateMs, listenMs);
      const again = this.clock.now() + listenMs;
      this.masterDownTimer = this.clock.setTimer(listenMs, () => this.masterDownTimerFired(again, true));
      return;
    }
    this.counters.masterDownExpired++;
    this.becomeMaster(
      this.currentMasterPriority === 0 ? 'master sent priority 0' : 'master down timer expired',
    );
  }

  /** Starts the advert period afresh from now (after an advert sent out of turn, or a new interval). */
  private armAdvertTimer(): void {
    this.nextAdvertAt = this.clock.now() + this.spec.advertIntervalMs;
    this.scheduleNextAdvert();
  }

  private scheduleNextAdvert(): void {
    this.clock.clearTimer(this.advertTimer);
    this.advertTimer = this.clock.setTimer(this.nextAdvertAt - this.clock.now(), () => {
      this.advertTimer = undefined;
      if (this.currentState !== 'MASTER') return;
      const latenessMs = this.clock.now() - this.nextAdvertAt;
      this.sendAdvert(this.effectivePriority);
      if (latenessMs >= this.spec.advertIntervalMs / 2) {
        this.counters.advertsLate++;
        this.effects.advertLate?.(latenessMs);
      }
      // The next advert is due one interval after the one just planned, not after the moment the timer
      // fired: a real event loop fires a little late every time, and re-arming from "now" would add that
      // lateness up into a drift the backups' master-down timers never budgeted for. After a stall longer than
      // a whole interval, start afresh instead of sending a catch-up burst.
      const now = this.clock.now();
      this.nextAdvertAt += this.spec.advertIntervalMs;
      if (this.nextAdvertAt <= now) this.nextAdvertAt = now + this.spec.advertIntervalMs;
      this.scheduleNextAdvert();
    });
  }

  private armGarpRefresh(): void {
    this.clock.clearTimer(this.garpRefreshTimer);
    this.garpRefreshTimer = undefined;
    if (this.spec.garpMasterRefreshMs <= 0) return;
    this.garpRefreshTimer = this.clock.setTimer(this.spec.garpMasterRefreshMs, () => {
      this.garpRefreshTimer = undefined;
      if (this.currentState !== 'MASTER') return;
      this.garpBurst(this.spec.garpMasterRefreshRepeat);
      this.armGarpRefresh();
    });
  }

  private stopMasterTimers(): void {
    this.clock.clearTimer(this.advertTimer);
    this.clock.clearTimer(this.garpDelayTimer);
    this.clock.clearTimer(this.garpRefreshTimer);
    this.clock.clearTimer(this.garpLowerPrioTimer);
    this.advertTimer = this.garpDelayTimer = this.garpRefreshTimer = this.garpLowerPrioTimer = undefined;
  }

  private clearMasterDown(): void {
    this.clock.clearTimer(this.masterDownTimer);
    this.masterDownTimer = undefined;
  }

  private sendAdvert(priority: number): void {
    this.counters.advertisementsRequested++;
    if (priority === PRIORITY_STOP) this.counters.priorityZeroRequested++;
    this.effects.sendAdvert(priority);
  }

  private garpBurst(repeat: number): void {
    if (repeat <= 0) return;
    this.counters.gratuitousArpBursts++;
    this.effects.sendGratuitousArp(repeat);
  }
}
