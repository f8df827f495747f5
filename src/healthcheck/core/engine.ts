import type { Clock } from '../../util/clock.js';
import { destinationKey, type DestinationKey } from '../../config/keys.js';
import type { CheckerSpec, HealthCheckPlan, ScriptSpec } from '../plan.js';
import type { ProbeResult } from '../result.js';
import type { HealthCounters, HealthEvent, HealthSnapshot } from '../events.js';
import { CheckerState } from './checkerState.js';
import { TimerQueue, type QueuedTimer } from './timerQueue.js';
import { VirtualServerState, type DesiredDestination, type RealServerHealth } from './virtualServerState.js';

/**
 * A checker's probes handed to the probe runner to schedule and run on its own. In its steady state — an
 * UP checker whose probes succeed, a DOWN one whose probes fail — a result changes nothing in the checker
 * (see CheckerState), so the runner repeats it every interval without the engine and calls back only with
 * what it counted and with the first result that differs. Otherwise (a first check, a retry, a re-measure)
 * it runs one probe after firstDelayMs and reports it: every probe of the checker then waits in the
 * runner's one queue, in due order, as keepalived's checker thread runs them.
 */
export interface RepeatRequest {
  spec: CheckerSpec;
  firstDelayMs: number;
  intervalMs: number;
  /** The result that changes nothing: up for an UP checker, down for a DOWN one; undefined: report the first. */
  expectUp: boolean | undefined;
  /**
   * Results as expected, counted since the last call (when collected, at a deviation or a cancel), with
   * the last one's duration and reason (null: not known, keep the previous).
   */
  onCounted(checks: number, failures: number, lastDurationMs: number | null, lastReason: string | null): void;
  /** The first result that differs from expectUp; the repetition has ended with it. Never called from within repeat(). */
  onDeviation(result: ProbeResult): void;
}

export interface RepeatHandle {
  /** Ends the repetition (what it counted is reported first); returns the ms until its next probe was due. */
  cancel(): number;
}

/** Over every repetition since the last collect: the worst launch lateness, and launches behind schedule. */
export interface RepeatLateness {
  maxLateMs: number;
  behindSchedule: number;
}

/** Runs one probe. Implementations should never reject; the engine contains them if they do. */
export interface ProbeRunner {
  run(spec: CheckerSpec): Promise<ProbeResult>;
  /**
   * Takes over a steady checker's repetition (see RepeatRequest), or returns undefined when it does not
   * take this spec (the engine then schedules every probe itself).
   */
  repeat?(request: RepeatRequest): RepeatHandle | undefined;
  /** Reports what every repetition counted (onCounted) and how late they launched. */
  collectRepeats?(): RepeatLateness;
}

/** Starts a notify / quorum script (argv, fire and forget). */
export interface ScriptRunner {
  run(script: ScriptSpec): void;
}

export interface EngineDeps {
  clock: Clock;
  /** Uniform in [0, 1): spreads the warmup. */
  random: () => number;
  probes: ProbeRunner;
  scripts: ScriptRunner;
  onEvent: (event: HealthEvent) => void;
  /** Extra time a probe gets beyond its own timeout before it is declared hung. */
  probeGraceMs?: number;
  /**
   * Launches and hung deadlines falling due within this step share one wake-up of the loop (each at most
   * this late); 0 (default) keeps every one's own time. The checker thread uses a few ms.
   */
  timerGridMs?: number;
}

interface CheckerRuntime {
  /** Owner, for an O(1) lookup when the result comes back. */
  vsKey: string;
  rsKey: string;
  readonly spec: CheckerSpec;
  readonly specJson: string;
  state: CheckerState;
  timer: QueuedTimer | undefined;
  /** Set while the probe runner repeats this checker's steady state (no timer of the engine then). */
  repeat: RepeatHandle | undefined;
  dueAt: number;
  /** When the probe in flight (or the last one) started. */
  launchedAt: number;
  /** Increments per probe launch; a result carrying an older token is ignored (hung, reloaded, stopped). */
  token: number;
  inFlight: boolean;
  lastDurationMs: number | null;
  lastReason: string | null;
  checks: number;
  failures: number;
  /** Failing verdicts deferred in a row because the checker was starved (reset by any conclusive one). */
  deferredInARow: number;
}

interface VsRuntime {
  state: VirtualServerState;
  checkers: Map<string, CheckerRuntime[]>;
}

const SCRIPT_KILL_BUDGET_MS = 4_000;

/**
 * Floor of any interval between two checks of one checker: a `delay_loop 0` (or a tiny retry delay) must
 * not become a hot loop.
 */
export const MIN_INTERVAL_MS = 10;

/** A check launched later than this past its due time counts as the checker being behind schedule. */
export const BEHIND_SCHEDULE_MS = 200;

/**
 * A timeout verdict whose timer fired later than this fraction of the timeout past due is not trusted:
 * for that long the checker's loop was not looking, so it is re-measured instead of counted.
 */
export const STARVED_TIMEOUT_FRACTION = 0.5;

/**
 * At most this many failing verdicts of one checker are deferred in a row: a server that really stopped
 * answering is still found down while the checker stays overloaded, at most this many re-measures later.
 */
export const MAX_DEFERRED_VERDICTS = 3;

/** The schedule lateness gauge is the worst launch lateness over the current and the previous window. */
const LATENESS_WINDOW_MS = 10_000;

/** The timeout the probe's own verdict is measured against (the lag is compared with it). */
function probeTimeoutMs(spec: CheckerSpec): number {
  if (spec.type === 'MISC_CHECK') return spec.timeoutMs;
  // A FILE_CHECK reads a local file: its "timeout" is the read budget the engine gives it (probeBudgetMs).
  if (spec.type === 'FILE_CHECK') return 1000;
  return spec.target.timeoutMs;
}

function isProbeResult(v: unknown): v is ProbeResult {
  return typeof v === 'object' && v !== null && typeof (v as ProbeResult).up === 'boolean' && typeof (v as ProbeResult).durationMs === 'number';
}

/** The longest a well-behaved probe of this spec can take (its own timeouts), before grace. */
export function probeBudgetMs(spec: CheckerSpec): number {
  switch (spec.type) {
    case 'MISC_CHECK':
      // SIGTERM at the timeout, SIGKILL 2 s later, as keepalived.
      return spec.timeoutMs + SCRIPT_KILL_BUDGET_MS;
    case 'HTTP_GET':
    case 'SSL_GET':
      return spec.target.timeoutMs * Math.max(1, spec.urls.length);
    case 'SMTP_CHECK':
      return spec.target.timeoutMs * 4;
    case 'FILE_CHECK':
      return 1000;
    default:
      return spec.target.timeoutMs;
  }
}


/**
 * The health-check core: schedules every checker on a Clock, feeds probe results through each checker's
 * retry rule, derives real-server liveness, weights, quorum and sorry server, and emits the desired IPVS
 * destinations as changes. It touches no sockets, processes or timers of its own: probes and scripts are
 * behind interfaces, time is the injected Clock.
 */
export class HealthCheckEngine {
  private readonly vss = new Map<string, VsRuntime>();
  /** Last emitted state of every destination, so only real changes go out. */
  private readonly emitted = new Map<DestinationKey, DesiredDestination & { virtualServer: string; realServer: string; alive: boolean; sorryServer: boolean }>();
  private running = false;
  private prior: ReadonlyMap<string, ReadonlyMap<string, boolean>> | undefined;
  readonly counters: HealthCounters = {
    probes: 0, probeFailures: 0, probesHung: 0, probesThrew: 0, scriptsRun: 0, behindSchedule: 0, verdictsDeferred: 0,
  };
  private latenessWindowStart = Number.NEGATIVE_INFINITY;
  private latenessWindowMax = 0;
  private latenessPrevWindowMax = 0;
  /** Every launch and hung deadline of every checker, on one Clock timer. */
  private readonly timers: TimerQueue;

  constructor(private readonly deps: EngineDeps) {
    this.timers = new TimerQueue(deps.clock, deps.timerGridMs ?? 0);
  }

  /**
   * Starts checking. `prior` (virtual server key → real server key → alive) seeds real servers whose state
   * is already known, e.g. after the checker thread was restarted, so the table does not flap: their
   * checkers start UP or DOWN accordingly instead of by `alpha`.
   */
  start(plan: HealthCheckPlan, prior?: ReadonlyMap<string, ReadonlyMap<string, boolean>>): void {
    if (this.running) throw new Error('health check engine already started');
    this.running = true;
    this.prior = prior;
    this.install(plan, new Map());
    this.prior = undefined;
  }

  /**
   * Applies a new plan as a diff: real servers that keep their key keep their state, checkers whose spec
   * is unchanged keep their state and schedule; new checkers start as at start-up; removed ones stop.
   */
  reload(plan: HealthCheckPlan): void {
    if (!this.running) {
      this.start(plan);
      return;
    }
    const old = new Map(this.vss);
    this.vss.clear();
    this.install(plan, old);
    // Anything that was emitted but is no longer in the plan leaves the table.
    for (const [key, prev] of this.emitted) {
      const { virtualServer: vsKey, realServer: rsKey } = prev;
      const vs = this.vss.get(vsKey);
      const stillThere = vs && (vs.state.realServers.has(rsKey) || vs.state.plan.sorryServer?.key === rsKey);
      if (stillThere) continue;
      this.emitted.delete(key);
      if (prev.inTable || prev.alive) {
        this.deps.onEvent({
          kind: 'realServer', virtualServer: vsKey, realServer: rsKey, alive: false, inTable: false, weight: 0,
          sorryServer: prev.sorryServer, reason: 'removed from configuration',
        });
      }
    }
    for (const [, vs] of old) for (const list of vs.checkers.values()) for (const c of list) this.cancel(c);
  }

  /** Stops every checker; with omega, runs notify_down of alive real servers and quorum_down. */
  stop(): void {
    this.halt(true);
  }

  /**
   * Stops every checker without omega's scripts: the checks are being handed to a new loop (a restart, a
   * move between threads) that carries their state on, not shut down.
   */
  abandon(): void {
    this.halt(false);
  }

  private halt(omega: boolean): void {
    if (!this.running) return;
    this.running = false;
    this.timers.clear(); // the hung deadlines of probes in flight too: nothing keeps the loop alive
    for (const vs of this.vss.values()) {
      for (const list of vs.checkers.values()) for (const c of list) this.cancel(c);
      if (!omega || !vs.state.plan.omega) continue;
      for (const rs of vs.state.realServers.values()) {
        if (vs.state.isAlive(rs) && rs.plan.notifyDown) this.runScript(rs.plan.notifyDown);
      }
      if (vs.state.quorumUp && vs.state.plan.quorumDown) this.runScript(vs.state.plan.quorumDown);
    }
  }

  /** The desired destinations of one virtual server now (for a reconciler that pulls instead of listening). */
  desiredTable(vsKey: string): Array<{ realServer: string; sorryServer: boolean } & DesiredDestination> {
    const vs = this.vss.get(vsKey);
    if (!vs) return [];
    const out: Array<{ realServer: string; sorryServer: boolean } & DesiredDestination> = [];
    for (const rs of vs.state.realServers.values()) {
      out.push({ realServer: rs.plan.key, sorryServer: false, ...vs.state.desiredRealServer(rs) });
    }
    const sorry = vs.state.plan.sorryServer;
    if (sorry) out.push({ realServer: sorry.key, sorryServer: true, ...vs.state.desiredSorryServer(sorry) });
    return out;
  }

  snapshot(): HealthSnapshot {
    this.collectRepeats();
    const virtualServers = [...this.vss.values()].map(({ state, checkers }) => ({
      key: state.plan.key,
      quorumUp: state.quorumUp,
      liveWeight: state.liveWeight(),
      quorum: state.plan.quorum,
      hysteresis: state.plan.hysteresis,
      sorryActive: state.sorryActive(),
      realServers: [...state.realServers.values()].map((rs) => {
        const desired = state.desiredRealServer(rs);
        return {
          key: rs.plan.key,
          alive: state.isAlive(rs),
          inTable: desired.inTable,
          weight: desired.weight,
          reason: rs.reason,
          checkers: (checkers.get(rs.plan.key) ?? []).map((c) => ({
            type: c.spec.type,
            up: c.state.up,
            hasRun: c.state.hasRun,
            retryIt: c.state.retryIt,
            lastDurationMs: c.lastDurationMs,
            lastReason: c.lastReason,
            checks: c.checks,
            failures: c.failures,
          })),
        };
      }),
    }));
    return { virtualServers, counters: { ...this.counters }, scheduleLatenessMs: this.scheduleLatenessMs() };
  }

  /**
   * How far behind schedule the checker is: the worst lateness (ms) of a check launch over the last 10 to
   * 20 seconds. Near 0 on a checker that keeps up; seconds when it cannot launch its checks in time.
   */
  scheduleLatenessMs(): number {
    this.collectRepeats();
    this.rollLatenessWindow(this.deps.clock.now());
    return Math.max(this.latenessWindowMax, this.latenessPrevWindowMax);
  }

  private rollLatenessWindow(now: number): void {
    if (now - this.latenessWindowStart < LATENESS_WINDOW_MS) return;
    const skipped = now - this.latenessWindowStart >= 2 * LATENESS_WINDOW_MS;
    this.latenessPrevWindowMax = skipped ? 0 : this.latenessWindowMax;
    this.latenessWindowMax = 0;
    this.latenessWindowStart = now;
  }

  /** Folds in what the probe runner's repetitions counted and how late they ran. */
  private collectRepeats(): void {
    const lateness = this.deps.probes.collectRepeats?.();
    if (!lateness) return;
    this.rollLatenessWindow(this.deps.clock.now());
    if (lateness.maxLateMs > this.latenessWindowMax) this.latenessWindowMax = lateness.maxLateMs;
    this.counters.behindSchedule += lateness.behindSchedule;
  }

  private noteLateness(lateMs: number): void {
    this.rollLatenessWindow(this.deps.clock.now());
    if (lateMs > this.latenessWindowMax) this.latenessWindowMax = lateMs;
    if (lateMs > BEHIND_SCHEDULE_MS) this.counters.behindSchedule++;
  }

  private install(plan: HealthCheckPlan, old: Map<string, VsRuntime>): void {
    const now = this.deps.clock.now();
    for (const vsPlan of plan.virtualServers) {
      const prevVs = old.get(vsPlan.key);
      const checkers = new Map<string, CheckerRuntime[]>();
      for (const rsPlan of vsPlan.realServers) {
        const prevList = prevVs?.checkers.get(rsPlan.key) ?? [];
        checkers.set(rsPlan.key, rsPlan.checkers.map((spec, i) => this.adoptOrCreate(vsPlan.key, rsPlan.key, spec, prevList[i], now)));
      }
      const state = new VirtualServerState(vsPlan, (rs) => (checkers.get(rs.key) ?? []).filter((c) => !c.state.up).length);
      if (prevVs) this.carryOver(prevVs.state, state);
      const runtime: VsRuntime = { state, checkers };
      this.vss.set(vsPlan.key, runtime);
      if (prevVs) this.afterChange(runtime, 'configuration reloaded');
      else this.sync(runtime, 'start');
    }
  }

  private adoptOrCreate(
    vsKey: string, rsKey: string, spec: CheckerSpec, prev: CheckerRuntime | undefined, now: number,
  ): CheckerRuntime {
    const specJson = JSON.stringify(spec, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    if (prev && prev.specJson === specJson) {
      // Same checker: keep state and schedule. Detach it from the old runtime so the old cancel misses it.
      if (prev.repeat) {
        prev.dueAt = now + prev.repeat.cancel();
        prev.repeat = undefined;
      }
      const adopted: CheckerRuntime = { ...prev, vsKey, rsKey };
      prev.timer = undefined;
      prev.token = Number.NaN; // NaN equals no token: whatever the old object still awaits is ignored

      if (adopted.timer !== undefined) {
        this.timers.cancel(adopted.timer);
        adopted.timer = undefined;
      }
      if (adopted.inFlight) {
        // Its in-flight result would carry the old token: start over after its budget rather than lose it.
        adopted.inFlight = false;
        adopted.token++;
      }
      this.schedule(adopted, Math.max(0, adopted.dueAt - now));
      return adopted;
    }
    const state = new CheckerState(spec.timing);
    const known = this.prior?.get(vsKey)?.get(rsKey);
    if (known !== undefined) state.up = known;
    const created: CheckerRuntime = {
      vsKey, rsKey, spec, specJson, state, timer: undefined, repeat: undefined, dueAt: now, launchedAt: now, token: 0,
      inFlight: false, lastDurationMs: null, lastReason: null, checks: 0, failures: 0, deferredInARow: 0,
    };
    const warmup = spec.timing.warmupMs > 0 ? Math.floor(this.deps.random() * spec.timing.warmupMs) : 0;
    this.schedule(created, warmup);
    return created;
  }

  /** keepalived keeps a reloaded real server's weight and the virtual server's quorum state. */
  private carryOver(prev: VirtualServerState, next: VirtualServerState): void {
    next.quorumUp = prev.quorumUp;
    for (const [key, rs] of next.realServers) {
      const old = prev.realServers.get(key);
      if (!old) continue;
      if (old.plan.weight === rs.plan.weight) next.setWeight(rs, old.effectiveWeight);
      rs.reason = old.reason;
    }
  }

  private schedule(c: CheckerRuntime, delayMs: number): void {
    if (!this.running) return;
    c.dueAt = this.deps.clock.now() + delayMs;
    if (this.handOver(c, delayMs)) return;
    c.timer = this.timers.add(delayMs, () => {
      c.timer = undefined;
      this.launch(c);
    });
  }

  /**
   * The checker's next probe is given to the probe runner, if it takes the spec: in the steady state —
   * decided, no retry under way, no verdict deferred, next probe one delay_loop away — to repeat (nothing
   * the engine would do differs: each such result keeps the state and schedules the next a delay_loop on);
   * else as one probe whose result comes back here. No timer of the engine then.
   */
  private handOver(c: CheckerRuntime, delayMs: number): boolean {
    const probes = this.deps.probes;
    if (!probes.repeat) return false;
    const intervalMs = Math.max(MIN_INTERVAL_MS, c.spec.timing.delayLoopMs);
    const steady = c.state.hasRun && c.state.retryIt === 0 && c.deferredInARow === 0 && delayMs === intervalMs;
    const handle = probes.repeat({
      spec: c.spec,
      firstDelayMs: delayMs,
      intervalMs,
      expectUp: steady ? c.state.up : undefined,
      onCounted: (checks, failures, lastDurationMs, lastReason) => {
        c.checks += checks;
        c.failures += failures;
        this.counters.probes += checks;
        this.counters.probeFailures += failures;
        if (lastDurationMs !== null) c.lastDurationMs = lastDurationMs;
        if (lastReason !== null) c.lastReason = lastReason;
      },
      onDeviation: (result) => {
        if (c.repeat !== handle) return;
        c.repeat = undefined;
        if (!this.running) return;
        const token = ++c.token;
        c.inFlight = true;
        c.launchedAt = this.deps.clock.now() - result.durationMs;
        this.complete(c, token, result);
      },
    });
    if (!handle) return false;
    c.repeat = handle;
    return true;
  }

  private cancel(c: CheckerRuntime): void {
    this.timers.cancel(c.timer);
    c.timer = undefined;
    if (c.repeat) {
      const handle = c.repeat;
      c.repeat = undefined;
      handle.cancel();
    }
    c.token++;
  }

  private launch(c: CheckerRuntime): void {
    if (!this.running) return;
    const token = ++c.token;
    c.inFlight = true;
    const started = this.deps.clock.now();
    c.launchedAt = started;
    this.noteLateness(started - c.dueAt);
    const budget = probeBudgetMs(c.spec) + (this.deps.probeGraceMs ?? 1_000);
    // The hung verdict is the engine's own timeout: a deadline timer that fired late (the loop was busy)
    // gives the probe back the time the loop was away, a bounded number of times, before it counts.
    let deadline: QueuedTimer | undefined;
    let extensions = 0;
    const armDeadline = (ms: number): void => {
      const dueAt = this.deps.clock.now() + ms;
      deadline = this.timers.add(ms, () => {
        if (c.token !== token) return;
        const lateMs = this.deps.clock.now() - dueAt;
        // Any real lateness counts here: the probe's own timeout (due earlier) may be waiting for the very
        // poll this late timer came before, and its answer is better than "hung".
        if (lateMs > BEHIND_SCHEDULE_MS && extensions < MAX_DEFERRED_VERDICTS) {
          extensions++;
          this.counters.verdictsDeferred++;
          armDeadline(Math.max(MIN_INTERVAL_MS, lateMs));
          return;
        }
        this.counters.probesHung++;
        this.complete(c, token, {
          up: false, reason: 'probe hung (no answer within its timeout)', durationMs: this.deps.clock.now() - started,
        });
      });
    };
    armDeadline(budget);
    const failed = (err: unknown): void => {
      this.timers.cancel(deadline);
      if (c.token !== token) return;
      this.counters.probesThrew++;
      const message = err instanceof Error ? err.message : String(err);
      this.complete(c, token, { up: false, reason: `checker error: ${message}`, durationMs: this.deps.clock.now() - started });
    };
    // One promise per probe (this runs for every check): a runner that throws synchronously, rejects or
    // returns garbage is contained all the same, and its verdict still arrives asynchronously.
    let pending: Promise<ProbeResult>;
    try {
      pending = this.deps.probes.run(c.spec);
    } catch (err) {
      pending = Promise.reject(err);
    }
    Promise.resolve(pending).then((result) => {
      if (!isProbeResult(result)) {
        failed(new Error('checker returned no result'));
        return;
      }
      this.timers.cancel(deadline);
      this.complete(c, token, result);
    }, failed);
  }

  private complete(c: CheckerRuntime, token: number, result: ProbeResult): void {
    if (c.token !== token || !this.running) return;
    c.token++;
    c.inFlight = false;
    const found = this.findOwner(c);
    if (!found) return;
    const { vs, rs } = found;
    if (this.deferVerdict(c, result)) return;
    c.deferredInARow = 0;
    this.counters.probes++;
    c.checks++;
    c.lastDurationMs = result.durationMs;
    c.lastReason = result.reason;
    if (!result.up) {
      c.failures++;
      this.counters.probeFailures++;
    }

    const wasAlive = vs.state.isAlive(rs);
    const wasUp = c.state.up;
    const step = c.state.onResult(result.up);
    if (wasUp !== c.state.up) vs.state.checkerFlipped(rs, c.state.up);

    let changed = wasUp !== c.state.up;
    if (result.up && result.weight !== undefined) {
      const weight = result.weight ?? rs.plan.weight;
      if (weight !== rs.effectiveWeight) {
        vs.state.setWeight(rs, weight);
        rs.reason = `${c.spec.type}: weight set to ${weight} (${result.reason})`;
        changed = true;
      }
    }
    if (step.transition !== null && wasUp !== c.state.up) rs.reason = `${c.spec.type}: ${result.reason}`;

    const alive = vs.state.isAlive(rs);
    if (alive !== wasAlive) {
      const script = alive ? rs.plan.notifyUp : rs.plan.notifyDown;
      if (script) this.runScript(script);
    }
    if (changed) this.afterChange(vs, rs.reason, rs);
    // keepalived times the next MISC_CHECK from the start of the last run (a slow script does not stretch
    // the interval); the other checkers from the end of the probe.
    const elapsed = c.spec.type === 'MISC_CHECK' ? this.deps.clock.now() - c.launchedAt : 0;
    this.schedule(c, Math.max(MIN_INTERVAL_MS, step.nextDelayMs - elapsed));
  }

  /**
   * A failure that would count against an UP checker, found by a timeout whose timer fired far later than
   * due, is not a verdict on the server: the checker's loop was starved (overload, stolen CPU) for a good
   * part of the probe's window. The checker's state is left alone and the server re-measured after
   * delay_before_retry, up to MAX_DEFERRED_VERDICTS times in a row. Refusals and bad answers are never
   * deferred: a server that is really down is found as fast as ever, overloaded or not.
   */
  private deferVerdict(c: CheckerRuntime, result: ProbeResult): boolean {
    if (result.up || result.timedOutLateMs === undefined) return false;
    if (!c.state.up) return false; // a failure while DOWN changes nothing anyway
    if (result.timedOutLateMs <= probeTimeoutMs(c.spec) * STARVED_TIMEOUT_FRACTION) return false;
    if (c.deferredInARow >= MAX_DEFERRED_VERDICTS) return false;
    c.deferredInARow++;
    this.counters.verdictsDeferred++;
    c.lastReason = `verdict deferred: ${result.reason}, but the checker was ${Math.round(result.timedOutLateMs)} ms behind`;
    this.schedule(c, Math.max(MIN_INTERVAL_MS, c.spec.timing.delayBeforeRetryMs));
    return true;
  }

  private findOwner(c: CheckerRuntime): { vs: VsRuntime; rs: RealServerHealth } | undefined {
    const vs = this.vss.get(c.vsKey);
    if (!vs || !vs.checkers.get(c.rsKey)?.includes(c)) return undefined;
    const rs = vs.state.realServers.get(c.rsKey);
    return rs ? { vs, rs } : undefined;
  }

  /**
   * `changed`: the one real server whose checker or weight moved. Without a quorum transition no other
   * destination's desired state can differ (each depends only on its own health and on the quorum), so only
   * it is looked at: a change costs O(1) instead of a walk over every real server of the virtual server.
   */
  private afterChange(vs: VsRuntime, reason: string, changed?: RealServerHealth): void {
    const transition = vs.state.updateQuorum();
    if (transition) {
      const script = transition === 'gained' ? vs.state.plan.quorumUp : vs.state.plan.quorumDown;
      if (script) this.runScript(script);
      this.deps.onEvent({
        kind: 'quorum', virtualServer: vs.state.plan.key, up: vs.state.quorumUp,
        liveWeight: vs.state.liveWeight(), threshold: vs.state.threshold(),
      });
    }
    if (!transition && changed) {
      this.emitRealServer(vs, changed, reason);
      return;
    }
    this.sync(vs, transition ? `quorum ${transition}; ${reason}` : reason);
  }

  /** Emits every destination of the virtual server whose desired state differs from what was last emitted. */
  private sync(vs: VsRuntime, reason: string): void {
    const vsKey = vs.state.plan.key;
    for (const rs of vs.state.realServers.values()) this.emitRealServer(vs, rs, reason);
    const sorry = vs.state.plan.sorryServer;
    if (sorry) {
      this.emitIfChanged(vsKey, sorry.key, vs.state.sorryActive(), vs.state.desiredSorryServer(sorry), true,
        vs.state.sorryActive() ? 'quorum lost: sorry server in use' : 'quorum up: sorry server not needed');
    }
  }

  private emitRealServer(vs: VsRuntime, rs: RealServerHealth, reason: string): void {
    const desired = vs.state.desiredRealServer(rs);
    this.emitIfChanged(vs.state.plan.key, rs.plan.key, vs.state.isAlive(rs), desired, false, rs.reason === 'start' ? reason : rs.reason);
  }

  private emitIfChanged(
    vsKey: string, rsKey: string, alive: boolean, desired: DesiredDestination, sorryServer: boolean, reason: string,
  ): void {
    const key = destinationKey(vsKey, rsKey);
    const prev = this.emitted.get(key);
    if (prev && prev.alive === alive && prev.inTable === desired.inTable && prev.weight === desired.weight) return;
    this.emitted.set(key, { virtualServer: vsKey, realServer: rsKey, alive, sorryServer, ...desired });
    this.deps.onEvent({
      kind: 'realServer', virtualServer: vsKey, realServer: rsKey, alive, inTable: desired.inTable,
      weight: desired.weight, sorryServer, reason,
    });
  }

  private runScript(script: ScriptSpec): void {
    this.counters.scriptsRun++;
    this.deps.scripts.run(script);
  }
}
