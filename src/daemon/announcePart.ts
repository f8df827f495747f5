import {
  announceTargets, announcedRouteStates, desiredRoutes, heldRouteId, routeChanges, type AnnounceTarget, type HostRoute, type QuorumOf,
} from '../announce/announcePlan.js';
import type { AnnouncedRouteTable } from '../announce/kernelRoutes.js';
import type { ConfigModel } from '../config/model.js';
import type { AnnouncedRouteSnapshot, AnnounceMetricsSource } from '../metrics/sources.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { errorText } from './lifecycle.js';
import type { DaemonPart } from './parts.js';

export interface AnnouncePartOptions {
  /** Opens the kernel side (an rtnetlink socket): held while some virtual server has announce_route; without, once at start. */
  open: () => AnnouncedRouteTable;
  /** Each virtual server's quorum as the health checks last told it (undefined: not known yet). */
  quorumOf: QuorumOf;
  clock: Clock;
  logger: Logger;
}

/**
 * announce_route (issue 11): holds VIP/32 (or /128) in `announce_route_table` while the virtual server's
 * quorum is up, for BIRD or FRR to announce. The last part started, so the first stopped: on SIGTERM its
 * routes go first, then it waits `announce_route_drain` seconds while IPVS and the VIPs still serve, so the
 * router moves the flows before the table goes. At start the routes of proto 249 a previous run left in the
 * table are taken as held: those no longer wanted are deleted, the others stay (no flap after kill -9).
 * Without announce_route in the config it looks once at start (and deletes what a previous run left), then
 * holds nothing and opens nothing more. Every change is serialised: the health part's
 * notifications (`refresh`) and a reload never interleave.
 */
export class AnnouncePart implements DaemonPart, AnnounceMetricsSource {
  readonly name = 'announce';
  private kernel: AnnouncedRouteTable | undefined;
  private targets: AnnounceTarget[] = [];
  private held: HostRoute[] = [];
  private table = 0;
  private drainSeconds = 0;
  private stopping = false;
  private tail: Promise<void> = Promise.resolve();
  private readonly counters = { changes: 0, errors: 0 };

  constructor(private readonly options: AnnouncePartOptions) {}

  async start(model: ConfigModel): Promise<void> {
    await this.serial(async () => {
      this.configure(model);
      if (this.targets.length === 0) {
        await this.sweepLeftovers();
        return;
      }
      await this.openAndAdopt();
      await this.reconcile('start');
    });
  }

  /**
   * A config without announce_route still owes the router one thing: a run killed with kill -9 while it had
   * routes left them in the table, announcing a director that no longer checks its real servers. One dump of
   * the table at start; any route of ours goes, then the socket closes and nothing else of this part runs.
   */
  private async sweepLeftovers(): Promise<void> {
    try {
      this.kernel = this.options.open();
    } catch (err) {
      this.options.logger.warn({ event: 'announce_route', table: this.table, err: errorText(err) }, 'cannot look for routes a previous run left in the announce table');
      return;
    }
    this.held = await this.listed(this.table);
    if (this.held.length > 0) {
      this.options.logger.info({ event: 'announce_route', table: this.table, found: this.held.map((r) => r.prefix) }, 'routes of proto 249 a previous run left, with announce_route no longer configured: withdrawn');
      await this.reconcile('start');
    }
    if (this.held.length === 0) this.close();
  }

  /** A quorum may have changed (the health part calls this on every quorum event and snapshot). */
  refresh(): void {
    if (!this.kernel || this.stopping) return;
    void this.serial(() => this.reconcile('quorum'));
  }

  async reload(next: ConfigModel): Promise<void> {
    await this.serial(async () => {
      const before = this.table;
      this.configure(next);
      if (!this.kernel) {
        if (this.targets.length === 0) return;
        await this.openAndAdopt();
      } else if (this.table !== before && this.targets.length > 0) {
        // A new table may hold routes of ours from an older run: they are held too, and go if not wanted.
        this.held = [...this.held, ...(await this.listed(this.table))];
      }
      await this.reconcile('reload');
      if (this.targets.length === 0 && this.held.length === 0) this.close();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.serial(async () => {
      if (!this.kernel) return;
      const withdrawn = await this.apply({ add: [], remove: this.held }, 'stop');
      this.close();
      if (withdrawn === 0 || this.drainSeconds <= 0) return;
      this.options.logger.info({ event: 'announce_route_drain', seconds: this.drainSeconds, withdrawn }, 'routes withdrawn: draining before the IPVS services go');
      await new Promise<void>((resolve) => this.options.clock.setTimer(this.drainSeconds * 1000, resolve));
    });
  }

  announcedRoutes(): AnnouncedRouteSnapshot[] {
    return announcedRouteStates(this.targets, this.held);
  }

  announceCounters(): { changes: number; errors: number } {
    return { ...this.counters };
  }

  private configure(model: ConfigModel): void {
    this.targets = announceTargets(model);
    this.table = model.global.announceRouteTable;
    this.drainSeconds = model.global.announceRouteDrain;
  }

  private async openAndAdopt(): Promise<void> {
    this.kernel = this.options.open();
    this.held = await this.listed(this.table);
    if (this.held.length > 0) {
      this.options.logger.info({ event: 'announce_route', table: this.table, found: this.held.map((r) => r.prefix) }, 'routes of proto 249 found in the announce table (a previous run)');
    }
  }

  private async listed(table: number): Promise<HostRoute[]> {
    try {
      return (await this.kernel?.list(table)) ?? [];
    } catch (err) {
      this.counters.errors++;
      this.options.logger.error({ event: 'announce_route', table, err: errorText(err) }, 'cannot list the announce table');
      return [];
    }
  }

  private async reconcile(reason: string): Promise<void> {
    if (!this.kernel || (this.stopping && reason !== 'stop')) return;
    await this.apply(routeChanges(this.held, desiredRoutes(this.targets, this.options.quorumOf, this.held)), reason);
  }

  /** Applies the changes; what the kernel refuses stays as it was in `held` and is retried at the next refresh. */
  private async apply(changes: { add: HostRoute[]; remove: HostRoute[] }, reason: string): Promise<number> {
    const kernel = this.kernel;
    if (!kernel || (changes.add.length === 0 && changes.remove.length === 0)) return 0;
    const { logger } = this.options;
    const added = await kernel.add(changes.add).catch((err: unknown) => ({ done: [], failed: changes.add.map((route) => ({ route, error: errorText(err) })) }));
    const removed = await kernel.remove(changes.remove).catch((err: unknown) => ({ done: [], failed: changes.remove.map((route) => ({ route, error: errorText(err) })) }));
    const gone = new Set(removed.done.map(heldRouteId));
    this.held = [...this.held.filter((r) => !gone.has(heldRouteId(r))), ...added.done];
    this.counters.changes += added.done.length + removed.done.length;
    this.counters.errors += added.failed.length + removed.failed.length;
    for (const r of added.done) logger.info({ event: 'announce_route', action: 'add', prefix: r.prefix, table: r.table, reason }, `route ${r.prefix} announced (table ${r.table})`);
    for (const r of removed.done) logger.info({ event: 'announce_route', action: 'delete', prefix: r.prefix, table: r.table, reason }, `route ${r.prefix} withdrawn (table ${r.table})`);
    for (const f of [...added.failed, ...removed.failed]) {
      logger.error({ event: 'announce_route', prefix: f.route.prefix, table: f.route.table, reason, err: f.error }, `route ${f.route.prefix}: the kernel refused the change`);
    }
    return removed.done.length;
  }

  private close(): void {
    this.kernel?.close();
    this.kernel = undefined;
  }

  /** One change at a time, in order; a failure is logged, never breaks the chain. */
  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.tail.then(task).catch((err: unknown) => {
      this.counters.errors++;
      this.options.logger.error({ event: 'announce_route', err: errorText(err) }, 'announce_route failed');
    });
    this.tail = run;
    return run;
  }
}
