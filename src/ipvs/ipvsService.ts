/**
 * The IPVS room at run time: holds the plan (from the config) and the health decisions, and keeps the
 * kernel's table equal to them. A sync reads the kernel (one dump + one per service), asks the reconciler
 * for the operations and applies them through the client; it runs on every change (coalesced) and
 * periodically, so entries deleted or edited behind our back come back. At stop it removes the services it
 * owns unless told to keep them.
 */
import type { RealServerChange } from '../healthcheck/events.js';
import type { IpvsServiceStats, IpvsCounters } from '../metrics/sources.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { desiredTable, type DestinationHealth } from './desiredTable.js';
import { IpvsExistsError, IpvsNoEntryError, IpvsNoServiceError } from './errors.js';
import type { IpvsPlan } from './fromConfig.js';
import { reconcile, serviceIdentity, teardown, type IpvsOperation, type KernelService } from './reconciler.js';
import type { DestinationSpec, IpvsStats, IpvsTimeouts, ServiceKey, ServiceSpec } from './types.js';

/** What the service needs of the kernel table (IpvsClient provides it). */
export interface IpvsTable {
  listTable(options?: { withStats?: boolean }): Promise<KernelService[]>;
  addService(spec: ServiceSpec): Promise<void>;
  updateService(spec: ServiceSpec): Promise<void>;
  deleteService(key: ServiceKey): Promise<void>;
  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  deleteDestination(service: ServiceKey, dest: { address: string; port: number }): Promise<void>;
  flush(): Promise<void>;
  setTimeouts(t: IpvsTimeouts): Promise<void>;
}

export type IpvsSyncEvent =
  | { kind: 'applied'; operation: IpvsOperation }
  | { kind: 'tolerated'; operation: IpvsOperation; error: string }
  | { kind: 'failed'; operation: IpvsOperation; error: string }
  | { kind: 'sync-failed'; error: string }
  | { kind: 'drift-repaired'; operations: number };

export interface IpvsServiceOptions {
  clock: Clock;
  /** Period of the drift-repair sync, ms (default 10 000; 0 = only on change). */
  resyncIntervalMs?: number;
  /** Delay that coalesces a burst of health changes into one sync, ms (default 0: next timer tick). */
  coalesceMs?: number;
  /** Leave our services in the kernel at stop. */
  keepOnStop?: boolean;
  onEvent?: (e: IpvsSyncEvent) => void;
}

export interface IpvsServiceCounters {
  syncs: number;
  syncFailures: number;
  operationsApplied: number;
  /** EEXIST on add, ENOENT/ESRCH on update or delete: someone else got there first; resynced. */
  operationsTolerated: number;
  operationsFailed: number;
  /** Periodic syncs that found the kernel changed behind our back. */
  driftRepairs: number;
}

export interface SyncReport {
  operations: number;
  applied: number;
  tolerated: number;
  failed: number;
}

const destinationKey = (vs: string, rs: string): string => `${vs}\u0000${rs}`;

/**
 * Errors that mean the kernel changed between our read and our write (or an earlier op of the same batch
 * failed): the next pass reads again and fixes it. An add finding its service gone (ESRCH) is one of them.
 */
function isTolerated(op: IpvsOperation, err: unknown): boolean {
  if (op.op === 'add-service') return err instanceof IpvsExistsError;
  if (op.op === 'add-destination') return err instanceof IpvsExistsError || err instanceof IpvsNoServiceError;
  return err instanceof IpvsNoEntryError || err instanceof IpvsNoServiceError;
}

export class IpvsService {
  readonly counters: IpvsServiceCounters = {
    syncs: 0,
    syncFailures: 0,
    operationsApplied: 0,
    operationsTolerated: 0,
    operationsFailed: 0,
    driftRepairs: 0,
  };
  private plan: IpvsPlan = { virtualServers: [], flushAtStart: false, flushOnStop: false, warnings: [] };
  private readonly health = new Map<string, DestinationHealth>();
  /** Identities of the services we are responsible for (desired now or applied before). */
  private readonly owned = new Map<string, ServiceKey>();
  private running: Promise<void> | undefined;
  private dirty = false;
  private changeTimer: TimerHandle | undefined;
  private periodicTimer: TimerHandle | undefined;
  private stopped = true;
  private readonly resyncIntervalMs: number;
  private readonly coalesceMs: number;

  constructor(
    private readonly table: IpvsTable,
    private readonly options: IpvsServiceOptions,
  ) {
    this.resyncIntervalMs = options.resyncIntervalMs ?? 10_000;
    this.coalesceMs = options.coalesceMs ?? 0;
  }

  /** Applies lvs_flush and lvs_timeouts, then the first sync (adopting or fixing what is there). */
  async start(plan: IpvsPlan): Promise<SyncReport> {
    this.stopped = false;
    this.plan = plan;
    if (plan.flushAtStart) await this.table.flush();
    if (plan.timeouts) await this.table.setTimeouts(plan.timeouts);
    return this.syncNow();
  }

  /** New config: services no longer configured are removed, the others adjusted, health kept. */
  async reload(plan: IpvsPlan): Promise<SyncReport> {
    this.plan = plan;
    if (plan.timeouts) await this.table.setTimeouts(plan.timeouts);
    return this.syncNow();
  }

  /** One health decision; the sync follows after the coalescing delay. */
  setDestinationHealth(virtualServer: string, realServer: string, h: DestinationHealth): void {
    const k = destinationKey(virtualServer, realServer);
    const prev = this.health.get(k);
    if (prev && prev.inTable === h.inTable && prev.weight === h.weight) return;
    this.health.set(k, { inTable: h.inTable, weight: h.weight });
    this.scheduleChangeSync();
  }

  /** Adapter for the health-check side's events. */
  onRealServerChange(e: RealServerChange): void {
    this.setDestinationHealth(e.virtualServer, e.realServer, { inTable: e.inTable, weight: e.weight });
  }

  /** Runs a sync now (or right after the one in progress) and resolves when the kernel matches. */
  async syncNow(): Promise<SyncReport> {
    let report: SyncReport = { operations: 0, applied: 0, tolerated: 0, failed: 0 };
    this.dirty = true;
    while (this.running) await this.running;
    if (!this.dirty) return report;
    const run = (async () => {
      // Tolerated errors mean the kernel moved under us: look again, at most twice more.
      for (let pass = 0; pass < 3 && this.dirty; pass++) {
        this.dirty = false;
        report = await this.syncOnce();
        if (report.tolerated > 0) this.dirty = true;
      }
      this.dirty = false;
    })();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = undefined;
      this.armPeriodic();
    }
    return report;
  }

  /** Removes our services (unless keepOnStop); lvs_flush_onstop flushes the whole table. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimer(this.changeTimer);
    this.options.clock.clearTimer(this.periodicTimer);
    while (this.running) await this.running;
    if (this.plan.flushOnStop) {
      await this.table.flush();
      this.owned.clear();
      return;
    }
    if (this.options.keepOnStop) return;
    const kernel = await this.table.listTable({ withStats: false });
    await this.apply(teardown([...this.owned.values()], kernel));
    this.owned.clear();
  }

  /** Kernel counters of our services, keyed like the health side's virtual servers (groups summed). */
  async stats(): Promise<IpvsServiceStats[]> {
    const kernel = await this.table.listTable();
    const byId = new Map(kernel.map((s) => [serviceIdentity(s.key), s]));
    const out: IpvsServiceStats[] = [];
    for (const vs of this.plan.virtualServers) {
      const members = vs.services.map((s) => byId.get(serviceIdentity(s.key))).filter((s): s is KernelService => s !== undefined);
      if (members.length === 0) continue;
      const dests = new Map<string, IpvsCounters>();
      const counters = zeroCounters();
      for (const m of members) {
        addCounters(counters, m.stats);
        for (const d of m.destinations) {
          const label = d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
          const c = dests.get(label) ?? zeroCounters();
          addCounters(c, d.stats);
          dests.set(label, c);
        }
      }
      out.push({ service: vs.virtualServer, counters, destinations: [...dests].map(([destination, c]) => ({ destination, counters: c })) });
    }
    return out;
  }

  private scheduleChangeSync(): void {
    if (this.stopped || this.changeTimer) return;
    this.changeTimer = this.options.clock.setTimer(this.coalesceMs, () => {
      this.changeTimer = undefined;
      void this.syncNow().catch(() => undefined);
    });
  }

  private armPeriodic(): void {
    this.options.clock.clearTimer(this.periodicTimer);
    this.periodicTimer = undefined;
    if (this.stopped || this.resyncIntervalMs <= 0) return;
    this.periodicTimer = this.options.clock.setTimer(this.resyncIntervalMs, () => {
      this.periodicTimer = undefined;
      void this.syncNow()
        .then((r) => {
          if (r.applied > 0) {
            this.counters.driftRepairs++;
            this.options.onEvent?.({ kind: 'drift-repaired', operations: r.applied });
          }
        })
        .catch(() => undefined);
    });
  }

  private healthView = (vs: string, rs: string): DestinationHealth | undefined => this.health.get(destinationKey(vs, rs));

  private async syncOnce(): Promise<SyncReport> {
    this.counters.syncs++;
    try {
      const desired = desiredTable(this.plan, this.healthView);
      const kernel = await this.table.listTable({ withStats: false });
      const ops = reconcile({ desired, kernel, owned: [...this.owned.values()] });
      for (const d of desired) this.owned.set(serviceIdentity(d.spec.key), d.spec.key);
      return await this.apply(ops);
    } catch (e) {
      this.counters.syncFailures++;
      this.options.onEvent?.({ kind: 'sync-failed', error: e instanceof Error ? e.message : String(e) });
      return { operations: 0, applied: 0, tolerated: 0, failed: 1 };
    }
  }

  /** Issues every operation at once: the transport keeps their order and batches them. */
  private async apply(ops: IpvsOperation[]): Promise<SyncReport> {
    const results = await Promise.allSettled(ops.map((op) => this.applyOne(op)));
    const report: SyncReport = { operations: ops.length, applied: 0, tolerated: 0, failed: 0 };
    results.forEach((r, i) => {
      const op = ops[i];
      if (r.status === 'fulfilled') {
        report.applied++;
        this.counters.operationsApplied++;
        if (op.op === 'delete-service') this.owned.delete(serviceIdentity(op.key));
        this.options.onEvent?.({ kind: 'applied', operation: op });
        return;
      }
      const error = r.reason instanceof Error ? r.reason.message : String(r.reason);
      if (isTolerated(op, r.reason)) {
        report.tolerated++;
        this.counters.operationsTolerated++;
        if (op.op === 'delete-service') this.owned.delete(serviceIdentity(op.key));
        this.options.onEvent?.({ kind: 'tolerated', operation: op, error });
      } else {
        report.failed++;
        this.counters.operationsFailed++;
        this.options.onEvent?.({ kind: 'failed', operation: op, error });
      }
    });
    return report;
  }

  private applyOne(op: IpvsOperation): Promise<void> {
    switch (op.op) {
      case 'add-service':
        return this.table.addService(op.spec);
      case 'update-service':
        return this.table.updateService(op.spec);
      case 'delete-service':
        return this.table.deleteService(op.key);
      case 'add-destination':
        return this.table.addDestination(op.service, op.destination);
      case 'update-destination':
        return this.table.updateDestination(op.service, op.destination);
      case 'delete-destination':
        return this.table.deleteDestination(op.service, op.destination);
    }
  }
}

function zeroCounters(): IpvsCounters {
  return { connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0 };
}

function addCounters(into: IpvsCounters, s: IpvsStats | undefined): void {
  if (!s) return;
  into.connections += s.connections;
  into.packetsIn += s.packetsIn;
  into.packetsOut += s.packetsOut;
  into.bytesIn += s.bytesIn;
  into.bytesOut += s.bytesOut;
}
