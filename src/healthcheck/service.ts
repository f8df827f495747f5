import type { HealthCheckPlan } from './plan.js';
import type { HealthEvent, HealthSnapshot, QuorumChange, RealServerChange } from './events.js';
import type { FromWorker, ToWorker } from './worker/protocol.js';
import { sibling, startWorker } from './worker/moduleRunner.js';
import { decodeSnapshotSteps, type CompactSnapshot } from './worker/snapshotCodec.js';
import { HealthSnapshotView, mergeSnapshots } from './snapshotView.js';
import { checkerLoopLoaded, InlineChecker, loadCheckerLoop } from './worker/inlineChecker.js';
import type { CheckerPlacement } from './worker/placement.js';

export interface HealthCheckServiceOptions {
  /**
   * Checker worker threads. Virtual servers are spread over them by key (a virtual server and its quorum
   * live in one worker); more than one uses more cores when there are thousands of checks. Default 1.
   */
  workers?: number;
  /** A worker that sends no heartbeat for this long is presumed stuck, terminated and restarted. */
  heartbeatTimeoutMs?: number;
  /**
   * How long a new worker may take to send its first heartbeat (loading its modules) before it is presumed
   * stuck; default 120 s. On a loaded or emulated machine that load takes tens of seconds: with only the
   * heartbeat timeout, every new worker would be killed while loading, and no check would ever run.
   */
  startTimeoutMs?: number;
  /** Delay before restarting a worker that died. */
  restartDelayMs?: number;
  /** Where to report worker trouble (restarts, errors); defaults to nothing. */
  onTrouble?: (message: string) => void;
  /**
   * The young generation of each checker worker's heap, in MiB (V8's default lets it grow to 48: 3 × a
   * 16 MiB semi-space). A check allocates little that outlives a scavenge, so a small one costs few extra
   * scavenges and keeps RSS down. Default {@link DEFAULT_WORKER_YOUNG_GENERATION_MB}.
   */
  workerYoungGenerationMb?: number;
  /**
   * The checker worker threads' nice (global_defs checker_priority); default CHECKER_THREAD_NICE
   * (worker/checkerThreadNice.ts). Checks placed on this thread run at its nice.
   */
  workerNice?: number;
  /**
   * Where the checker loop runs, or how to choose from the plan (at start and at every reload: a reload
   * that changes the answer moves the checks, their state carried over). Default 'worker'. 'inline' runs
   * one loop on this thread (workers is then 1); see placement.ts for the daemon's choice.
   */
  placement?: CheckerPlacement | ((plan: HealthCheckPlan) => CheckerPlacement);
}

export const DEFAULT_WORKER_YOUNG_GENERATION_MB = 6;

/** A running checker loop as the service drives it: a Worker, or an InlineChecker on this thread. */
export interface CheckerThread {
  readonly threadId: number;
  postMessage(message: ToWorker): void;
  on(event: 'message', listener: (m: FromWorker) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  once(event: 'exit', listener: (code: number) => void): this;
  terminate(): Promise<number>;
}

/** What the main thread knows of one destination, mirrored from the workers' events. */
export interface KnownDestination {
  alive: boolean;
  inTable: boolean;
  weight: number;
  sorryServer: boolean;
  reason: string;
}

/** One checker worker and the part of the plan it runs. */
interface Slot {
  index: number;
  worker: CheckerThread | undefined;
  plan: HealthCheckPlan;
  lastHeartbeat: number;
  /**
   * The worker's beat counter in shared memory, bumped by its loop with every heartbeat: the watchdog
   * reads it directly, so a main thread slow to take its messages (busy with IPVS, say) does not take a
   * worker whose loop is alive for a silent one.
   */
  beat: Int32Array;
  lastBeat: number;
  /** Whether the current worker has sent anything yet (until then it is loading: startTimeoutMs). */
  heard: boolean;
  restartTimer: NodeJS.Timeout | undefined;
  /** Restarts in a row without a worker living a minute: each waits twice as long (capped at 30 s). */
  crashStreak: number;
  startedAt: number;
}

/** FNV-1a: a stable spread of virtual-server keys over workers (a key keeps its worker across reloads). */
function slotOf(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

function partition(plan: HealthCheckPlan, n: number): HealthCheckPlan[] {
  const parts: HealthCheckPlan[] = Array.from({ length: n }, () => ({ virtualServers: [] }));
  for (const vs of plan.virtualServers) parts[slotOf(vs.key, n)]!.virtualServers.push(vs);
  return parts;
}

/** How long one turn of this loop may spend decoding a snapshot before it lets the loop go on. */
const SNAPSHOT_SLICE_MS = 1;

/**
 * A snapshot decoded in slices of about SNAPSHOT_SLICE_MS, a turn of the loop apart: 10,000 checkers take
 * 3 ms warm and up to 40 ms before V8 has optimised the decoder, in one piece the time an advert due then
 * waited (the advert-jitter bench's p99 at 10,000 checks: 9–21 ms with a snapshot every 5 s, 4.3 ms with
 * none).
 */
function decodeSnapshotSliced(c: CompactSnapshot): Promise<HealthSnapshot> {
  const steps = decodeSnapshotSteps(c);
  return new Promise((resolve) => {
    const slice = (): void => {
      const until = performance.now() + SNAPSHOT_SLICE_MS;
      for (;;) {
        const step = steps.next();
        if (step.done) return resolve(step.value);
        if (performance.now() >= until) {
          setImmediate(slice);
          return;
        }
      }
    };
    slice();
  });
}

function newSlots(plan: HealthCheckPlan, n: number): Slot[] {
  return partition(plan, n).map((part, index) => ({
    index, worker: undefined, plan: part, lastHeartbeat: 0, beat: new Int32Array(0), lastBeat: 0, heard: false, restartTimer: undefined, crashStreak: 0, startedAt: 0,
  }));
}

/**
 * The health checks as the daemon sees them: start(plan) / reload(plan) / stop(), a stream of changes,
 * and snapshots. The checks themselves run in worker threads (see checkerWorker.ts); this class keeps a
 * mirror of the last known state of every destination, restarts a worker that dies or stops answering
 * (re-seeding it with that mirror so the table does not flap), and never lets a worker failure reach the
 * caller.
 */
export class HealthCheckService {
  private slots: Slot[] = [];
  private started = false;
  private stopping = false;
  private watchdog: NodeJS.Timeout | undefined;
  private nextSnapshotId = 1;
  private readonly snapshotWaiters = new Map<number, (s: CompactSnapshot | null) => void>();
  private readonly changeListeners = new Set<(c: RealServerChange) => void>();
  private readonly quorumListeners = new Set<(c: QuorumChange) => void>();
  /** virtual server key → real server key → last known state. */
  readonly known = new Map<string, Map<string, KnownDestination>>();
  readonly quorum = new Map<string, boolean>();
  /** How many times a worker was restarted after dying or hanging. */
  restarts = 0;
  private current: CheckerPlacement = 'worker';

  constructor(private readonly options: HealthCheckServiceOptions = {}) {}

  /** Subscribes to destination changes; returns the unsubscribe function. */
  onChange(listener: (c: RealServerChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onQuorum(listener: (c: QuorumChange) => void): () => void {
    this.quorumListeners.add(listener);
    return () => this.quorumListeners.delete(listener);
  }

  /**
   * Resolves once the checks' code is loaded on this thread: with the checks on the main thread, their
   * modules (see loadCheckerLoop); at once for a worker, which loads on its own thread.
   */
  async loaded(): Promise<void> {
    // A load that fails is the checker's to report and retry (InlineChecker.fail, then a restart): the
    // daemon's start-up goes on, as it did before it waited here.
    if (this.current === 'inline') await loadCheckerLoop().catch(() => undefined);
  }

  start(plan: HealthCheckPlan): void {
    this.begin(plan, false);
  }

  private begin(plan: HealthCheckPlan, running: boolean): void {
    if (this.started) throw new Error('health checks already started');
    this.started = true;
    this.stopping = false;
    this.current = this.placementFor(plan, running);
    this.slots = newSlots(plan, this.loopCount());
    for (const slot of this.slots) this.spawn(slot);
    const timeout = this.options.heartbeatTimeoutMs ?? 10_000;
    const startTimeout = Math.max(timeout, this.options.startTimeoutMs ?? 120_000);
    this.watchdog = setInterval(() => {
      for (const slot of this.slots) {
        const beat = slot.beat.length > 0 ? Atomics.load(slot.beat, 0) : 0;
        if (beat !== slot.lastBeat) {
          slot.lastBeat = beat;
          slot.heard = true;
          slot.lastHeartbeat = performance.now();
        }
        const limit = slot.heard ? timeout : startTimeout;
        // A loop on this thread is silent only while this thread is: nothing here could act on it.
        if (this.current === 'worker' && slot.worker && performance.now() - slot.lastHeartbeat > limit) {
          this.options.onTrouble?.(`checker worker ${slot.index} silent for ${limit} ms${slot.heard ? '' : ' after its start'}: restarting it`);
          void slot.worker.terminate();
        }
      }
    }, Math.min(1_000, timeout));
    this.watchdog.unref();
  }

  /** Applies a new plan; unchanged real servers keep their state (see HealthCheckEngine.reload). */
  reload(plan: HealthCheckPlan): void {
    if (!this.started) {
      this.begin(plan, true);
      return;
    }
    const placement = this.placementFor(plan, true);
    if (placement !== this.current) {
      this.move(plan, placement);
      return;
    }
    const parts = partition(plan, this.slots.length);
    for (const slot of this.slots) {
      slot.plan = parts[slot.index]!;
      this.send(slot, { type: 'reload', plan: slot.plan });
    }
  }

  private loopCount(): number {
    return this.current === 'inline' ? 1 : Math.max(1, Math.floor(this.options.workers ?? 1));
  }

  /**
   * `running`: decided by a reload, while the daemon runs. Then the checks come onto this thread only if
   * their modules are loaded here already: importing them now would hold VRRP's adverts behind the load
   * (seconds under emulation); they stay in a worker until the next start.
   */
  private placementFor(plan: HealthCheckPlan, running: boolean): CheckerPlacement {
    const p = this.options.placement ?? 'worker';
    const chosen = typeof p === 'function' ? p(plan) : p;
    return chosen === 'inline' && running && this.current !== 'inline' && !checkerLoopLoaded() ? 'worker' : chosen;
  }

  /**
   * A reload that moves the checks between this thread and a worker: the old loops end as in a restart
   * (no omega scripts) and the new ones start seeded with the mirror, so the table does not flap.
   */
  private move(plan: HealthCheckPlan, placement: CheckerPlacement): void {
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      const old = slot.worker;
      slot.worker = undefined; // its exit is not a crash
      void old?.terminate();
    }
    this.options.onTrouble?.(`checks move to ${placement === 'inline' ? 'the main thread' : 'a worker thread'} (the reloaded config's checks)`);
    this.current = placement;
    this.slots = newSlots(plan, this.loopCount());
    // The new loops start from the plan: what it no longer has, they never mention. Its removal is what the
    // old loops' reload would have said.
    const planned = new Map(plan.virtualServers.map((vs) => [vs.key, new Set([...vs.realServers.map((rs) => rs.key), ...(vs.sorryServer ? [vs.sorryServer.key] : [])])]));
    for (const [vsKey, destinations] of this.known) {
      for (const [rsKey, d] of destinations) {
        if (planned.get(vsKey)?.has(rsKey) || (!d.inTable && !d.alive)) continue;
        this.apply({ kind: 'realServer', virtualServer: vsKey, realServer: rsKey, alive: false, inTable: false, weight: 0, sorryServer: d.sorryServer, reason: 'removed from configuration' });
      }
    }
    for (const slot of this.slots) this.spawn(slot);
  }

  /** Stops the checks (running omega scripts in the workers), then the workers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    clearInterval(this.watchdog);
    await Promise.all(this.slots.map((slot) => this.stopSlot(slot)));
    this.slots = [];
    for (const resolve of this.snapshotWaiters.values()) resolve(null);
    this.snapshotWaiters.clear();
  }

  private async stopSlot(slot: Slot): Promise<void> {
    clearTimeout(slot.restartTimer);
    const worker = slot.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'stopped') void worker.terminate();
    });
    this.send(slot, { type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
    slot.worker = undefined;
  }

  /**
   * Per-checker detail, gathered from the workers and read in place (null if one does not answer within
   * timeoutMs): what the daemon looks at every few seconds.
   */
  async snapshotView(timeoutMs = 2_000): Promise<HealthSnapshotView | null> {
    const parts = await this.gather(timeoutMs);
    return parts && new HealthSnapshotView(parts);
  }

  /** The same detail in object form, built a slice at a time so that this thread's loop keeps turning. */
  async snapshot(timeoutMs = 2_000): Promise<HealthSnapshot | null> {
    const parts = await this.gather(timeoutMs);
    return parts && mergeSnapshots(await Promise.all(parts.map(decodeSnapshotSliced)));
  }

  /** Every worker's compact snapshot, in worker order; null if one does not answer within timeoutMs. */
  private async gather(timeoutMs: number): Promise<CompactSnapshot[] | null> {
    if (!this.started) return null;
    const parts = await Promise.all(this.slots.map((slot) => this.snapshotOf(slot, timeoutMs)));
    return parts.some((p) => p === null) ? null : (parts as CompactSnapshot[]);
  }

  private snapshotOf(slot: Slot, timeoutMs: number): Promise<CompactSnapshot | null> {
    if (!slot.worker) return Promise.resolve(null);
    const id = this.nextSnapshotId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.snapshotWaiters.delete(id);
        resolve(null);
      }, timeoutMs);
      this.snapshotWaiters.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.send(slot, { type: 'snapshot', id });
    });
  }

  /** Ends a worker as a crash would (the watchdog uses it; tests too). It is restarted. */
  terminateWorker(index = 0): Promise<number> {
    const worker = this.slots[index]?.worker;
    return worker ? worker.terminate() : Promise.resolve(0);
  }

  /** Where the checker loop runs now. */
  get placement(): CheckerPlacement {
    return this.current;
  }

  /** Thread ids of the running workers (undefined while one is being restarted). */
  get workerThreadIds(): Array<number | undefined> {
    return this.slots.map((s) => s.worker?.threadId);
  }

  private send(slot: Slot, msg: ToWorker): void {
    slot.worker?.postMessage(msg);
  }

  private spawn(slot: Slot): void {
    if (this.stopping || !this.started) return;
    slot.beat = new Int32Array(new SharedArrayBuffer(4));
    slot.lastBeat = 0;
    const worker: CheckerThread = this.current === 'inline'
      ? new InlineChecker(slot.beat)
      : startWorker(sibling(import.meta.url, './worker/checkerWorker'), {
        workerData: { beat: slot.beat, ...(this.options.workerNice !== undefined && { nice: this.options.workerNice }) },
        resourceLimits: { maxYoungGenerationSizeMb: this.options.workerYoungGenerationMb ?? DEFAULT_WORKER_YOUNG_GENERATION_MB },
      });
    slot.worker = worker;
    slot.heard = false;
    slot.lastHeartbeat = performance.now();
    slot.startedAt = performance.now();
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (err) => this.options.onTrouble?.(`checker worker ${slot.index} error: ${err.message}`));
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      if (this.stopping || !this.started) return;
      this.restarts++;
      slot.crashStreak = performance.now() - slot.startedAt > 60_000 ? 1 : slot.crashStreak + 1;
      const delay = Math.min(30_000, (this.options.restartDelayMs ?? 1_000) * 2 ** (slot.crashStreak - 1));
      this.options.onTrouble?.(`checker worker ${slot.index} exited (${code}): restarting it in ${delay} ms`);
      slot.restartTimer = setTimeout(() => this.spawn(slot), delay);
    });
    const mine = new Set(slot.plan.virtualServers.map((vs) => vs.key));
    const prior: Array<[string, Array<[string, boolean]>]> = [...this.known]
      .filter(([vs]) => mine.has(vs))
      .map(([vs, m]) => [vs, [...m].filter(([, d]) => !d.sorryServer).map(([rs, d]) => [rs, d.alive] as [string, boolean])]);
    this.send(slot, { type: 'start', plan: slot.plan, prior });
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case 'heartbeat':
        slot.heard = true;
        slot.lastHeartbeat = performance.now();
        break;
      case 'events':
        slot.heard = true;
        slot.lastHeartbeat = performance.now();
        for (const e of m.events) this.apply(e);
        break;
      case 'snapshot': {
        const waiter = this.snapshotWaiters.get(m.id);
        this.snapshotWaiters.delete(m.id);
        waiter?.(m.snapshot);
        break;
      }
      case 'stopped':
        break;
    }
  }

  private apply(e: HealthEvent): void {
    if (e.kind === 'quorum') {
      this.quorum.set(e.virtualServer, e.up);
      for (const l of this.quorumListeners) l(e);
      return;
    }
    let vs = this.known.get(e.virtualServer);
    if (!vs) this.known.set(e.virtualServer, (vs = new Map()));
    const prev = vs.get(e.realServer);
    // After a worker restart the new worker re-announces everything: pass on only real differences.
    if (prev && prev.alive === e.alive && prev.inTable === e.inTable && prev.weight === e.weight) return;
    vs.set(e.realServer, { alive: e.alive, inTable: e.inTable, weight: e.weight, sorryServer: e.sorryServer, reason: e.reason });
    for (const l of this.changeListeners) l(e);
  }
}
