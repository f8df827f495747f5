/**
 * Tracking (pure): vrrp_script results, track_interface link states and track_file values → a priority delta and fault
 * sources for a VrrpStateMachine (track_process counts too). The edge runs the scripts (interval, timeout, execFile argv as
 * script_user) and watches links over rtnetlink; it reports results here and applies the outcome.
 *
 * Weights follow keepalived: a positive weight is added while the object is up, a negative one while it
 * is down (`reverse` swaps the two); weight 0 means "down ⇒ FAULT". The instance's effective priority is
 * clamped to 1..254 by the state machine, and an address owner (255) ignores weights.
 */
import type { VrrpStateMachine } from './vrrpStateMachine.js';

export { parseTrackFileValue } from '../../trackFile/value.js';

export type TrackedStatus = 'init' | 'up' | 'down';

export interface ScriptTrackerSpec {
  /** vrrp_script name. */
  name: string;
  /** weight −254..254 (keepalived's range); 0 = FAULT when down. */
  weight: number;
  /** weight … reverse. */
  weightReverse?: boolean;
  /** Consecutive successes to go down → up (≥ 1). */
  rise: number;
  /** Consecutive failures to go up → down (≥ 1). */
  fall: number;
  /** keepalived's init_fail: start as down instead of waiting for the first result. */
  initFail?: boolean;
}

/**
 * One vrrp_script's state. Until the first result it is 'init', which holds the instance in FAULT
 * (keepalived enters "FAULT STATE (init)" while a tracked script has not reported). The first result
 * decides up or down; after that it takes `rise` consecutive successes or `fall` consecutive failures to
 * change. A timeout is a failure (the edge reports it as such).
 */
export class ScriptTracker {
  private current: TrackedStatus;
  private streak = 0;

  constructor(readonly spec: ScriptTrackerSpec) {
    if (!Number.isInteger(spec.rise) || spec.rise < 1) throw new RangeError(`vrrp_script ${spec.name}: rise ${spec.rise}`);
    if (!Number.isInteger(spec.fall) || spec.fall < 1) throw new RangeError(`vrrp_script ${spec.name}: fall ${spec.fall}`);
    if (!Number.isInteger(spec.weight) || Math.abs(spec.weight) > 254) {
      throw new RangeError(`vrrp_script ${spec.name}: weight ${spec.weight}`);
    }
    this.current = spec.initFail ? 'down' : 'init';
  }

  get status(): TrackedStatus {
    return this.current;
  }

  /** Reports one run's outcome (exit 0 = success). Returns true when the status changed. */
  report(success: boolean): boolean {
    const before = this.current;
    if (this.current === 'init') {
      this.current = success ? 'up' : 'down';
      this.streak = 0;
    } else if ((this.current === 'up') === success) {
      this.streak = 0; // confirms the current status
    } else {
      this.streak++;
      const needed = this.current === 'up' ? this.spec.fall : this.spec.rise;
      if (this.streak >= needed) {
        this.current = success ? 'up' : 'down';
        this.streak = 0;
      }
    }
    return this.current !== before;
  }
}

export interface InterfaceTrackerSpec {
  /** Interface name. */
  name: string;
  /** 0 = FAULT while down. */
  weight: number;
  weightReverse?: boolean;
}

/** track_interface: the link state rtnetlink reports (up = IFF_UP and carrier). */
export class InterfaceTracker {
  private current: TrackedStatus;

  constructor(
    readonly spec: InterfaceTrackerSpec,
    initiallyUp: boolean,
  ) {
    if (!Number.isInteger(spec.weight) || Math.abs(spec.weight) > 254) {
      throw new RangeError(`track_interface ${spec.name}: weight ${spec.weight}`);
    }
    this.current = initiallyUp ? 'up' : 'down';
  }

  get status(): TrackedStatus {
    return this.current;
  }

  /** Returns true when the status changed. */
  setLink(up: boolean): boolean {
    const next: TrackedStatus = up ? 'up' : 'down';
    const changed = next !== this.current;
    this.current = next;
    return changed;
  }
}

export interface FileTrackerSpec {
  /** track_file name. */
  name: string;
  /** −254..254; 0 = a non-zero value means FAULT (reverse: a zero value). */
  weight: number;
  weightReverse?: boolean;
}

/** track_file: the number last read from the file (a missing or empty file reads as 0). */
export class FileTracker {
  private current = 0;

  constructor(readonly spec: FileTrackerSpec, initialValue = 0) {
    if (!Number.isInteger(spec.weight) || Math.abs(spec.weight) > 254) {
      throw new RangeError(`track_file ${spec.name}: weight ${spec.weight}`);
    }
    this.current = initialValue;
  }

  get value(): number {
    return this.current;
  }

  /** Returns true when the value changed. */
  setValue(value: number): boolean {
    const changed = value !== this.current;
    this.current = value;
    return changed;
  }

  /**
   * keepalived (track_file.c update_track_file_status): weight 0 → FAULT when the value is non-zero (zero
   * with reverse); otherwise value × weight (negated by reverse), clamped to −254..253, is added to the
   * priority, and −254 means FAULT.
   */
  contribution(): { delta: number; fault: boolean } {
    const reverse = this.spec.weightReverse ?? false;
    if (this.spec.weight === 0) return { delta: 0, fault: reverse ? this.current === 0 : this.current !== 0 };
    const raw = this.current * this.spec.weight * (reverse ? -1 : 1);
    const status = Math.max(-254, Math.min(253, raw));
    return status === -254 ? { delta: 0, fault: true } : { delta: status, fault: false };
  }
}

export interface ProcessTrackerSpec {
  /** vrrp_track_process name. */
  name: string;
  /** −254..254; 0 = FAULT while down. */
  weight: number;
  weightReverse?: boolean;
  /** Up while quorum ≤ count ≤ quorumMax. */
  quorum: number;
  quorumMax: number;
  /** Milliseconds the count must stay in quorum before going up (fork_delay). */
  forkDelayMs: number;
  /** Milliseconds the count must stay out of quorum before going down (terminate_delay). */
  terminateDelayMs: number;
}

/**
 * vrrp_track_process: the number of matching processes (counted by the edge) against the quorum. The first
 * count decides at once (keepalived scans /proc at start); later changes take effect only after they have
 * lasted fork_delay (into quorum) or terminate_delay (out of it); a count that comes back in time cancels.
 */
export class ProcessTracker {
  private current: TrackedStatus;
  private pending: { status: TrackedStatus; since: number } | undefined;

  constructor(readonly spec: ProcessTrackerSpec, initialCount?: number) {
    if (!Number.isInteger(spec.weight) || Math.abs(spec.weight) > 254) {
      throw new RangeError(`track_process ${spec.name}: weight ${spec.weight}`);
    }
    if (spec.quorum < 1 || spec.quorumMax < spec.quorum) {
      throw new RangeError(`track_process ${spec.name}: quorum ${spec.quorum}..${spec.quorumMax}`);
    }
    this.current = initialCount === undefined ? 'init' : this.inQuorum(initialCount) ? 'up' : 'down';
  }

  get status(): TrackedStatus {
    return this.current;
  }

  private inQuorum(count: number): boolean {
    return count >= this.spec.quorum && count <= this.spec.quorumMax;
  }

  /** Reports the count seen at nowMs. Returns true when the status changed. */
  observe(count: number, nowMs: number): boolean {
    const wanted: TrackedStatus = this.inQuorum(count) ? 'up' : 'down';
    if (this.current === 'init') {
      this.current = wanted;
      return true;
    }
    if (wanted === this.current) {
      this.pending = undefined;
      return false;
    }
    if (this.pending?.status !== wanted) this.pending = { status: wanted, since: nowMs };
    const delay = wanted === 'up' ? this.spec.forkDelayMs : this.spec.terminateDelayMs;
    if (nowMs - this.pending.since < delay) return false;
    this.current = wanted;
    this.pending = undefined;
    return true;
  }
}

export interface TrackingOutcome {
  /** Sum of the weights in effect. */
  priorityDelta: number;
  /** Fault sources, e.g. "track_script chk_nginx" or "track_interface eth1". */
  faults: string[];
}

interface Tracked {
  kind: 'track_script' | 'track_interface' | 'track_process';
  name: string;
  weight: number;
  reverse: boolean;
  status: TrackedStatus;
}

function contribution(t: Tracked): { delta: number; fault: boolean } {
  if (t.status === 'init') return { delta: 0, fault: true };
  const up = t.status === 'up';
  if (t.weight === 0) return { delta: 0, fault: !up };
  // keepalived: positive weights count while up, negative ones while down; reverse swaps the two.
  const applies = (t.weight > 0) !== t.reverse ? up : !up;
  return { delta: applies ? t.weight : 0, fault: false };
}

/** The tracked objects of one instance. */
export class InstanceTracking {
  private readonly scripts: ScriptTracker[] = [];
  private readonly interfaces: InterfaceTracker[] = [];
  private readonly files: FileTracker[] = [];
  private readonly processes: ProcessTracker[] = [];
  /** Fault sources this object last raised on the machine, to clear them when they go away. */
  private raised = new Set<string>();

  addScript(tracker: ScriptTracker): this {
    this.scripts.push(tracker);
    return this;
  }

  addInterface(tracker: InterfaceTracker): this {
    this.interfaces.push(tracker);
    return this;
  }

  addProcess(tracker: ProcessTracker): this {
    this.processes.push(tracker);
    return this;
  }

  addFile(tracker: FileTracker): this {
    this.files.push(tracker);
    return this;
  }

  outcome(): TrackingOutcome {
    const tracked: Tracked[] = [
      ...this.scripts.map((s) => ({
        kind: 'track_script' as const,
        name: s.spec.name,
        weight: s.spec.weight,
        reverse: s.spec.weightReverse ?? false,
        status: s.status,
      })),
      ...this.interfaces.map((i) => ({
        kind: 'track_interface' as const,
        name: i.spec.name,
        weight: i.spec.weight,
        reverse: i.spec.weightReverse ?? false,
        status: i.status,
      })),
      ...this.processes.map((p) => ({
        kind: 'track_process' as const,
        name: p.spec.name,
        weight: p.spec.weight,
        reverse: p.spec.weightReverse ?? false,
        status: p.status,
      })),
    ];
    let priorityDelta = 0;
    const faults: string[] = [];
    for (const t of tracked) {
      const c = contribution(t);
      priorityDelta += c.delta;
      if (c.fault) faults.push(`${t.kind} ${t.name}${t.status === 'init' ? ' (init)' : ''}`);
    }
    for (const f of this.files) {
      const c = f.contribution();
      priorityDelta += c.delta;
      if (c.fault) faults.push(`track_file ${f.spec.name}`);
    }
    return { priorityDelta, faults };
  }

  /** Pushes the current outcome into the machine (call after every report that changed a status). */
  applyTo(machine: VrrpStateMachine): TrackingOutcome {
    const result = this.outcome();
    machine.setTrackedPriorityDelta(result.priorityDelta);
    const now = new Set(result.faults);
    // Raise before clearing, so that "x (init)" → "x" never lets the instance out of FAULT in between.
    for (const source of now) machine.setFault(source, true);
    for (const source of this.raised) if (!now.has(source)) machine.setFault(source, false);
    this.raised = now;
    return result;
  }
}
