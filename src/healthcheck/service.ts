import type { Worker } from 'node:worker_threads';
import type { HealthCheckPlan } from './plan.js';
import type { HealthEvent, HealthSnapshot, QuorumChange, RealServerChange } from './events.js';
import type { FromWorker, ToWorker } from './worker/protocol.js';
import { sibling, startWorker } from './worker/moduleRunner.js';

export interface HealthCheckServiceOptions {
  /** A worker that sends no heartbeat for this long is presumed stuck, terminated and restarted. */
  heartbeatTimeoutMs?: number;
  /** Delay before restarting a worker that died. */
  restartDelayMs?: number;
  /** Where to report worker trouble (restarts, errors); defaults to nothing. */
  onTrouble?: (message: string) => void;
}

/** What the main thread knows of one destination, mirrored from the worker's events. */
export interface KnownDestination {
  alive: boolean;
  inTable: boolean;
  weight: number;
  sorryServer: boolean;
  reason: string;
}

/**
 * The health checks as the daemon sees them: start(plan) / reload(plan) / stop(), a stream of changes,
 * and snapshots. The checks themselves run in a worker thread (see checkerWorker.ts); this class keeps a
 * mirror of the last known state of every destination, restarts the worker if it dies or stops answering
 * (re-seeding it with that mirror so the table does not flap), and never lets a worker failure reach the
 * caller.
 */
export class HealthCheckService {
  private worker: Worker | undefined;
  private plan: HealthCheckPlan | undefined;
  private stopping = false;
  private lastHeartbeat = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextSnapshotId = 1;
  private readonly snapshotWaiters = new Map<number, (s: HealthSnapshot) => void>();
  private readonly changeListeners = new Set<(c: RealServerChange) => void>();
  private readonly quorumListeners = new Set<(c: QuorumChange) => void>();
  /** virtual server key → real server key → last known state. */
  readonly known = new Map<string, Map<string, KnownDestination>>();
  readonly quorum = new Map<string, boolean>();
  /** How many times the worker was restarted after dying or hanging. */
  restarts = 0;

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

  start(plan: HealthCheckPlan): void {
    if (this.worker || this.plan) throw new Error('health checks already started');
    this.plan = plan;
    this.stopping = false;
    this.spawn();
    const timeout = this.options.heartbeatTimeoutMs ?? 10_000;
    this.watchdog = setInterval(() => {
      if (this.worker && performance.now() - this.lastHeartbeat > timeout) {
        this.options.onTrouble?.(`checker worker silent for ${timeout} ms: restarting it`);
        void this.worker.terminate();
      }
    }, Math.min(1_000, timeout));
    this.watchdog.unref();
  }

  /** Applies a new plan; unchanged real servers keep their state (see HealthCheckEngine.reload). */
  reload(plan: HealthCheckPlan): void {
    if (!this.plan) {
      this.start(plan);
      return;
    }
    this.plan = plan;
    this.send({ type: 'reload', plan });
  }

  /** Stops the checks (running omega scripts in the worker), then the worker. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    this.plan = undefined;
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'stopped') void worker.terminate();
      });
    });
    this.send({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await stopped;
    clearTimeout(timer);
    this.worker = undefined;
    for (const resolve of this.snapshotWaiters.values()) resolve({ virtualServers: [], counters: { probes: 0, probeFailures: 0, probesHung: 0, probesThrew: 0, scriptsRun: 0 } });
    this.snapshotWaiters.clear();
  }

  /** Per-checker detail, asked of the worker (null if it does not answer within timeoutMs). */
  snapshot(timeoutMs = 2_000): Promise<HealthSnapshot | null> {
    if (!this.worker) return Promise.resolve(null);
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
      this.send({ type: 'snapshot', id });
    });
  }

  /** Ends the worker as a crash would (the watchdog uses it; tests too). It is restarted. */
  terminateWorker(): Promise<number> {
    return this.worker ? this.worker.terminate() : Promise.resolve(0);
  }

  get workerThreadId(): number | undefined {
    return this.worker?.threadId;
  }

  private send(msg: ToWorker): void {
    this.worker?.postMessage(msg);
  }

  private spawn(): void {
    const plan = this.plan;
    if (!plan) return;
    const worker = startWorker(sibling(import.meta.url, './worker/checkerWorker'));
    this.worker = worker;
    this.lastHeartbeat = performance.now();
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.options.onTrouble?.(`checker worker error: ${err.message}`));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.options.onTrouble?.(`checker worker exited (${code}): restarting it`);
      this.restartTimer = setTimeout(() => this.spawn(), this.options.restartDelayMs ?? 1_000);
    });
    const prior: Array<[string, Array<[string, boolean]>]> = [...this.known].map(([vs, m]) => [
      vs,
      [...m].filter(([, d]) => !d.sorryServer).map(([rs, d]) => [rs, d.alive] as [string, boolean]),
    ]);
    this.send({ type: 'start', plan, prior });
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'heartbeat':
        this.lastHeartbeat = performance.now();
        break;
      case 'events':
        this.lastHeartbeat = performance.now();
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
