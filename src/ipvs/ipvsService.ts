/**
 * The IPVS room at run time: holds the plan (from the config) and the health decisions, and keeps the
 * kernel's table equal to them. A sync reads the kernel, asks the reconciler for the operations and applies
 * them through the client; it runs on every change (coalesced) and periodically, so entries deleted or
 * edited behind our back come back. Start, reload and syncNow read everything (one dump + one per
 * service); the change and periodic syncs read the service list and only the destinations that can matter
 * (partialRead.ts), so their cost stays bounded on a large table. At stop it removes the services it owns
 * unless told to keep them.
 */
import { destinationKey, realServerKey } from '../config/keys.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { desiredTable, type DestinationHealth, type DestinationHealthReport } from './desiredTable.js';
import { IpvsExistsError, IpvsNoEntryError, IpvsNoServiceError } from './errors.js';
import type { IpvsPlan } from './fromConfig.js';
import { planPartialRead } from './partialRead.js';
import { destinationIdentity, reconcile, serviceIdentity, teardown, type DesiredService, type IpvsOperation, type KernelService } from './reconciler.js';
import type { DestinationEntry, DestinationSpec, IpvsBackendStatus, IpvsCounters, IpvsServiceStats, IpvsStats, IpvsTimeouts, ServiceEntry, ServiceKey, ServiceSpec } from './types.js';

/** What the service needs of the kernel table (IpvsClient provides it). */
export interface IpvsTable {
  listTable(options?: { withStats?: boolean }): Promise<KernelService[]>;
  /** With these two, change and periodic syncs read only part of the table; without, they read it all. */
  listServices?(options?: { withStats?: boolean }): Promise<ServiceEntry[]>;
  listDestinations?(key: ServiceKey, options?: { withStats?: boolean }): Promise<DestinationEntry[]>;
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
  | { kind: 'drift-repaired'; operations: number }
  /** Every sync that read the kernel: how much it read, what it found to do. */
  | { kind: 'synced'; read: 'full' | 'partial'; destinationLists: number; operations: number };

export interface IpvsServiceOptions {
  clock: Clock;
  /** Period of the drift-repair sync, ms (default 10 000; 0 = only on change). */
  resyncIntervalMs?: number;
  /** Delay that coalesces a burst of health changes into one sync, ms (default 0: next timer tick). */
  coalesceMs?: number;
  /**
   * Services whose destinations a change or periodic sync reads beyond those that must be read (health
   * changed, service missing or different): the rotation that finds destinations edited by hand, within
   * ceil(services / budget) periods. Default 100; Infinity reads every service every time.
   */
  destinationReadBudget?: number | undefined;
  /** Leave our services in the kernel at stop. */
  keepOnStop?: boolean | undefined;
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
  /** Syncs that read the whole table / only the service list and some destinations. */
  fullReads: number;
  partialReads: number;
  /** Destination dumps (one per service read) over all syncs. */
  destinationListsRead: number;
}

/** The counters one sync read of a service and (when it read them) of its destinations. */
interface ReadCounters {
  key: ServiceKey;
  stats?: IpvsStats;
  destinations: Map<string, DestinationEntry>;
}

/** What a sync reads: everything, or the service list plus the destinations that can matter. */
type SyncScope = { kind: 'full' } | { kind: 'partial'; mustRead: Set<string> };

export interface SyncReport {
  operations: number;
  applied: number;
  tolerated: number;
  failed: number;
}


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
    fullReads: 0,
    partialReads: 0,
    destinationListsRead: 0,
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
  private readonly destinationReadBudget: number;
  /** Virtual servers (plan names) whose health changed since the last sync read them. */
  private readonly changedVirtualServers = new Set<string>();
  /** Where the partial reads' rotation resumes (index into the desired services). */
  private rotation = 0;
  /** The next sync must read everything (start, reload, syncNow, or a pass after tolerated races). */
  private fullReadWanted = false;
  /** Counters as the syncs read them, by service identity (what stats() serves). */
  private readonly lastRead = new Map<string, ReadCounters>();

  constructor(
    private readonly table: IpvsTable,
    private readonly options: IpvsServiceOptions,
  ) {
    this.resyncIntervalMs = options.resyncIntervalMs ?? 10_000;
    this.coalesceMs = options.coalesceMs ?? 0;
    this.destinationReadBudget = Math.max(0, options.destinationReadBudget ?? 100);
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
    this.changedVirtualServers.add(virtualServer);
    this.scheduleChangeSync();
  }

  /** Adapter for the health-check side's events (its RealServerChange has these fields; the daemon passes it on). */
  onRealServerChange(e: DestinationHealthReport): void {
    this.setDestinationHealth(e.virtualServer, e.realServer, { inTable: e.inTable, weight: e.weight });
  }

  /** Runs a sync that reads the whole table now (or right after the one in progress); resolves when the kernel matches. */
  async syncNow(): Promise<SyncReport> {
    this.fullReadWanted = true;
    return this.sync();
  }

  private async sync(): Promise<SyncReport> {
    let report: SyncReport = { operations: 0, applied: 0, tolerated: 0, failed: 0 };
    this.dirty = true;
    while (this.running) await this.running;
    if (!this.dirty) return report;
    const run = (async () => {
      // Tolerated errors mean the kernel moved under us: look again (everything), at most twice more.
      // Changes that came during the passes set dirty too; what is still dirty after the third is left
      // set, for the sync() calls waiting on this run: clearing it here left a change made during the
      // third pass to the periodic sync, 10 s later (victims coming back 12 s late in the VM bench).
      // (Races three times over leave it set too: harmless, every sync() sets it first.)
      for (let pass = 0; pass < 3 && this.dirty; pass++) {
        this.dirty = false;
        report = await this.syncOnce(this.takeScope());
        if (report.tolerated > 0) {
          this.dirty = true;
          this.fullReadWanted = true;
        }
      }
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
    // Services are deleted whole: their list is enough when the table offers it.
    const kernel = this.table.listServices
      ? (await this.table.listServices({ withStats: false })).map((s) => ({ ...s, destinations: [] }))
      : await this.table.listTable({ withStats: false });
    await this.apply(teardown([...this.owned.values()], kernel));
    this.owned.clear();
  }

  /**
   * Every destination in the kernel's table (not only ours: node_exporter shows the whole table too), as the
   * last syncs read them, like stats(): a scrape never reads the kernel.
   */
  backends(): Promise<IpvsBackendStatus[]> {
    return Promise.resolve([...this.lastRead.values()].flatMap((s) =>
      [...s.destinations.values()].map((d) => ({ service: s.key, address: d.address, port: d.port, activeConnections: d.activeConnections, inactiveConnections: d.inactiveConnections, weight: d.weight })),
    ));
  }

  /**
   * Counters of our services, keyed like the health side's virtual servers (groups summed), as the last
   * syncs read them: a scrape never reads the kernel (on 1,000 × 10 a read with counters took 1–3 s in
   * the VM). A service's counters are those of the last sync (the periodic one runs every 10 s and reads
   * every service); a destination's, of the last sync that read its service's destinations (every sync
   * for a full read, within ceil(services / destinationReadBudget) periods for partial ones).
   */
  stats(): Promise<IpvsServiceStats[]> {
    const out: IpvsServiceStats[] = [];
    for (const vs of this.plan.virtualServers) {
      const members = vs.services.map((s) => this.lastRead.get(serviceIdentity(s.key))).filter((s): s is ReadCounters => s !== undefined);
      if (members.length === 0) continue;
      const dests = new Map<string, IpvsCounters>();
      const counters = zeroCounters();
      for (const m of members) {
        addCounters(counters, m.stats);
        for (const d of m.destinations.values()) {
          const label = realServerKey(d);
          const c = dests.get(label) ?? zeroCounters();
          addCounters(c, d.stats);
          dests.set(label, c);
        }
      }
      out.push({ service: vs.virtualServer, counters, destinations: [...dests].map(([destination, c]) => ({ destination, counters: c })) });
    }
    return Promise.resolve(out);
  }

  /** What a sync read: a service's counters, and its destinations' when their list was read. */
  private remember(services: ReadonlyArray<ServiceEntry & { destinations?: DestinationEntry[] }>, allListed: boolean): void {
    const seen = new Set<string>();
    for (const s of services) {
      const id = serviceIdentity(s.key);
      seen.add(id);
      const entry = this.lastRead.get(id) ?? { key: s.key, destinations: new Map<string, DestinationEntry>() };
      if (s.stats) entry.stats = s.stats;
      else delete entry.stats;
      if (s.destinations) entry.destinations = new Map(s.destinations.map((d) => [destinationIdentity(d), d]));
      this.lastRead.set(id, entry);
    }
    // A service the kernel no longer lists has no counters any more.
    if (allListed) for (const id of [...this.lastRead.keys()]) if (!seen.has(id)) this.lastRead.delete(id);
  }

  private scheduleChangeSync(): void {
    if (this.stopped || this.changeTimer) return;
    this.changeTimer = this.options.clock.setTimer(this.coalesceMs, () => {
      this.changeTimer = undefined;
      void this.sync().catch(() => undefined);
    });
  }

  private armPeriodic(): void {
    this.options.clock.clearTimer(this.periodicTimer);
    this.periodicTimer = undefined;
    if (this.stopped || this.resyncIntervalMs <= 0) return;
    this.periodicTimer = this.options.clock.setTimer(this.resyncIntervalMs, () => {
      this.periodicTimer = undefined;
      void this.sync()
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

  /** What the coming sync reads; the changes it covers are taken out of the pending set. */
  private takeScope(): SyncScope {
    const full = this.fullReadWanted || !this.table.listServices || !this.table.listDestinations;
    this.fullReadWanted = false;
    const changed = [...this.changedVirtualServers];
    this.changedVirtualServers.clear();
    if (full) return { kind: 'full' };
    const mustRead = new Set<string>();
    for (const vs of this.plan.virtualServers) {
      if (!changed.includes(vs.virtualServer)) continue;
      for (const s of vs.services) mustRead.add(serviceIdentity(s.key));
    }
    return { kind: 'partial', mustRead };
  }

  private async syncOnce(scope: SyncScope): Promise<SyncReport> {
    this.counters.syncs++;
    try {
      const desired = desiredTable(this.plan, this.healthView);
      const listsBefore = this.counters.destinationListsRead;
      const ops = scope.kind === 'full' ? await this.fullDiff(desired) : await this.partialDiff(desired, scope.mustRead);
      for (const d of desired) this.owned.set(serviceIdentity(d.spec.key), d.spec.key);
      const report = await this.apply(ops);
      const destinationLists = this.counters.destinationListsRead - listsBefore;
      this.options.onEvent?.({ kind: 'synced', read: scope.kind, destinationLists, operations: ops.length });
      return report;
    } catch (e) {
      // What this sync was to read (health changes among it) must not be lost: the next one reads it all.
      this.fullReadWanted = true;
      this.counters.syncFailures++;
      this.options.onEvent?.({ kind: 'sync-failed', error: e instanceof Error ? e.message : String(e) });
      return { operations: 0, applied: 0, tolerated: 0, failed: 1 };
    }
  }

  private async fullDiff(desired: DesiredService[]): Promise<IpvsOperation[]> {
    this.counters.fullReads++;
    const kernel = await this.table.listTable({ withStats: true });
    this.counters.destinationListsRead += kernel.length;
    this.remember(kernel, true);
    return reconcile({ desired, kernel, owned: [...this.owned.values()] });
  }

  /** The service list, then destinations only where planPartialRead says they can matter. */
  private async partialDiff(desired: DesiredService[], mustRead: ReadonlySet<string>): Promise<IpvsOperation[]> {
    const listServices = this.table.listServices!.bind(this.table);
    const listDestinations = this.table.listDestinations!.bind(this.table);
    this.counters.partialReads++;
    const kernelServices = await listServices({ withStats: true });
    const plan = planPartialRead({ desired, kernelServices, mustRead, cursor: this.rotation, budget: this.destinationReadBudget });
    this.rotation = plan.nextCursor;
    const dests = await Promise.all(plan.dump.map((s) => listDestinations(s.key, { withStats: true })));
    this.counters.destinationListsRead += plan.dump.length;
    const kernel: KernelService[] = plan.dump.map((s, i) => ({ ...s, destinations: dests[i] }));
    this.remember(kernelServices, true);
    this.remember(kernel, false);
    // Owned services no longer desired are deleted whole: their destinations need no reading.
    const desiredIds = new Set(desired.map((d) => serviceIdentity(d.spec.key)));
    const owned = [...this.owned.values()].filter((k) => !desiredIds.has(serviceIdentity(k)));
    const ownedIds = new Set(owned.map(serviceIdentity));
    for (const s of kernelServices) if (ownedIds.has(serviceIdentity(s.key))) kernel.push({ ...s, destinations: [] });
    return reconcile({ desired: plan.compare, kernel, owned });
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
