import type { ConfigModel, LvsSyncDaemon } from '../config/model.js';
import { DEFAULT_SYNC_CATCH_UP, SyncCatchUp, type SyncCatchUpSettings } from '../ipvs/syncCatchUp.js';
import { planSyncDaemons, wantedSyncDaemons, type SyncRole } from '../ipvs/syncDaemons.js';
import type { SyncDaemonEntry, SyncDaemonSpec, SyncDaemonState } from '../ipvs/types.js';
import type { SyncDaemonSnapshot, SyncMetricsSource } from '../metrics/sources.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { canonical } from '../config/canonical.js';
import type { ConfigDiff } from './configDiff.js';
import type { DaemonPart } from './parts.js';
import { SerialRunner } from './serialRunner.js';

/** What the sync part needs of the kernel (src/ipvs/ipvsClient.ts IpvsClient fits). */
export interface SyncDaemonKernel {
  startSyncDaemon(spec: SyncDaemonSpec): Promise<void>;
  stopSyncDaemon(state: SyncDaemonState, syncId: number): Promise<void>;
  listSyncDaemons(): Promise<SyncDaemonEntry[]>;
}

export interface SyncPartDeps {
  /** Opens the kernel side (only when the configuration has lvs_sync_daemon). */
  open: () => Promise<{ kernel: SyncDaemonKernel; close(): void }>;
  /** The VRRP state of a running instance by name (undefined: no such instance runs here). */
  instanceState: (name: string) => string | undefined;
  /**
   * Whether this process drives the daemons of that configuration: keepalived's VRRP process runs them
   * when an instance is named, its checker process when none is (so `--vrrp-only` / `--check-only` split
   * them the same way).
   */
  drives: (config: LvsSyncDaemon) => boolean;
  logger: Logger;
  now?: () => number;
  /**
   * The preemption hold-off (absent: none). While the named instance is a BACKUP catching up, its
   * preemption is held until the local connection table has caught up with the master's (syncCatchUp.ts).
   */
  catchUp?: {
    clock: Clock;
    /** Entries in the local IPVS connection table (/proc/net/ip_vs_conn). */
    countConnections: () => Promise<number>;
    holdPreemption: (instance: string, held: boolean) => void;
    settings?: SyncCatchUpSettings;
    sampleMs?: number;
  };
}

/** The preemption hold-off, as the status shows it. */
export interface PreemptionHoldStatus {
  active: boolean;
  /** Connections in the table when it ended (or now). */
  connections: number;
  /** How long it held (ms), once released. */
  heldMs?: number;
  reason?: 'quiet' | 'cap' | 'master' | 'stopped';
}

/** What `tslvsd status`, SIGUSR1 and the metrics show. */
export interface SyncDaemonStatus {
  interface: string;
  syncId: number;
  vrrpInstance?: string;
  /** What the daemons should be: master, backup, or both (no instance named). */
  role: SyncRole;
  /** The daemons tslvsd runs now, as it started them. */
  running: SyncDaemonSpec[];
  /** Role changes applied (VRRP transitions of the named instance). */
  switches: number;
  /** Kernel operations that failed. */
  errors: number;
  /** Wall-clock ms of the last change of the running daemons (0: none). */
  lastChangeEpochMs: number;
  /** The last preemption hold-off (absent: none yet). */
  preemptionHold?: PreemptionHoldStatus;
}

/**
 * The IPVS connection sync daemons, driven by VRRP as keepalived drives them (vrrp.c: ipvs_syncd_master on
 * becoming MASTER, ipvs_syncd_backup on leaving it and at start): the backup daemon while the named
 * instance is BACKUP/FAULT (and before VRRP has decided), the master daemon while it is MASTER, both when
 * no instance is named. Unlike keepalived, a switch starts the new daemon before stopping the old one
 * (keepalived stops first), so there is no moment without one. Every change runs through one coalescing
 * runner that takes the kernel from what runs to what is wanted (src/ipvs/syncDaemons.ts), so a burst of
 * transitions ends in the last state, and a reload changes only what differs. At start the kernel's
 * daemons are adopted (a crash left them) and corrected; stop removes every daemon tslvsd runs.
 */
export class SyncPart implements DaemonPart, SyncMetricsSource {
  readonly name = 'sync';
  private config: LvsSyncDaemon | undefined;
  private role: SyncRole = 'backup';
  private running: SyncDaemonSpec[] = [];
  private kernel: { kernel: SyncDaemonKernel; close(): void } | undefined;
  private readonly converge = new SerialRunner(() => this.convergeOnce());
  private switches = 0;
  private errors = 0;
  private lastChangeEpochMs = 0;
  private stopping = false;
  /** Instances that preempt (not nopreempt) by name, from the running config. */
  private preempting = new Set<string>();
  private hold: { instance: string; core: SyncCatchUp; timer: TimerHandle | undefined; connections: number } | undefined;
  private lastHold: PreemptionHoldStatus | undefined;

  constructor(private readonly deps: SyncPartDeps) {}

  async start(model: ConfigModel): Promise<void> {
    const config = this.drivenConfig(model);
    if (config === undefined) return;
    await this.ensureKernel();
    // Whatever runs in the kernel (a previous run that crashed, ipvsadm) is adopted, then corrected.
    this.running = (await this.kernel!.kernel.listSyncDaemons()).map(entryToSpec);
    this.config = config;
    this.preempting = new Set(model.vrrpInstances.filter((i) => !i.nopreempt).map((i) => i.name));
    this.role = this.roleFor(config);
    if (this.role === 'backup') void this.beginHold();
    this.deps.logger.info({ part: 'sync', event: 'sync_daemon_start', interface: config.interface, syncId: config.syncId, instance: config.vrrpInstance, role: this.role, found: this.running.map((d) => d.state) }, 'IPVS sync daemons starting');
    await this.converge.request();
  }

  async reload(next: ConfigModel, _diff: ConfigDiff): Promise<void> {
    const config = this.drivenConfig(next);
    if (canonical(config ?? null) === canonical(this.config ?? null)) return;
    if (config !== undefined) await this.ensureKernel();
    this.preempting = new Set(next.vrrpInstances.filter((i) => !i.nopreempt).map((i) => i.name));
    if (this.hold && (config?.vrrpInstance !== this.hold.instance || !this.preempting.has(this.hold.instance))) this.endHold('stopped');
    this.config = config;
    if (config !== undefined) this.role = this.roleFor(config);
    this.deps.logger.info({ part: 'sync', event: 'reload', interface: config?.interface, instance: config?.vrrpInstance, role: this.role }, 'IPVS sync daemons reconfigured');
    await this.converge.request();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.endHold('stopped');
    this.config = undefined;
    await this.converge.request();
    this.kernel?.close();
    this.kernel = undefined;
  }

  /**
   * A VRRP transition (the composition root forwards every instance's). Only the named instance's count;
   * INIT (the instance stopping) changes nothing: stop() removes the daemons.
   */
  onVrrpTransition(instance: string, to: string, from?: string): void {
    const config = this.config;
    if (config?.vrrpInstance !== instance || this.stopping || to === 'INIT') return;
    const role: SyncRole = to === 'MASTER' ? 'master' : 'backup';
    if (to === 'MASTER') this.endHold('master');
    // Back from FAULT (a link came back): the connections opened meanwhile were never synced here.
    else if (to === 'BACKUP' && from === 'FAULT') void this.beginHold();
    if (role === this.role) return;
    this.role = role;
    this.switches++;
    this.deps.logger.info({ part: 'sync', event: 'sync_daemon_switch', instance, vrrpState: to, role }, `IPVS sync daemon -> ${role} (${instance} ${to})`);
    void this.converge.request();
  }

  /** Resolves when every requested change has been applied (tests). */
  idle(): Promise<void> {
    return this.converge.idle();
  }

  status(): SyncDaemonStatus | undefined {
    const c = this.config;
    if (c === undefined) return undefined;
    return {
      interface: c.interface,
      syncId: c.syncId,
      ...(c.vrrpInstance !== undefined ? { vrrpInstance: c.vrrpInstance } : {}),
      role: this.role,
      running: this.running.map((d) => ({ ...d })),
      switches: this.switches,
      errors: this.errors,
      lastChangeEpochMs: this.lastChangeEpochMs,
      ...(this.hold ? { preemptionHold: { active: true, connections: this.hold.connections } } : this.lastHold ? { preemptionHold: { ...this.lastHold } } : {}),
    };
  }

  syncDaemons(): SyncDaemonSnapshot | undefined {
    const s = this.status();
    if (s === undefined) return undefined;
    const { running, ...rest } = s;
    return { ...rest, running: running.map((d) => d.state).sort() };
  }

  /**
   * Holds the named instance's preemption while its backup daemon catches up (beyond keepalived, which
   * preempts at once and resets every connection opened while it was away).
   */
  private async beginHold(): Promise<void> {
    const c = this.deps.catchUp;
    const instance = this.config?.vrrpInstance;
    if (c === undefined || instance === undefined || !this.preempting.has(instance) || this.hold) return;
    c.holdPreemption(instance, true);
    const hold = { instance, core: new SyncCatchUp(c.settings ?? DEFAULT_SYNC_CATCH_UP, c.clock.now(), 0), timer: undefined as TimerHandle | undefined, connections: 0 };
    this.hold = hold;
    this.deps.logger.info({ part: 'sync', event: 'preemption_hold', instance }, `${instance}: preemption held while the IPVS connection sync catches up`);
    const tick = async (): Promise<void> => {
      const connections = await c.countConnections().catch(() => hold.connections);
      if (this.hold !== hold) return;
      hold.connections = connections;
      const decision = hold.core.sample(c.clock.now(), connections);
      if (decision.release) {
        this.endHold(decision.reason, decision.afterMs);
        return;
      }
      hold.timer = c.clock.setTimer(c.sampleMs ?? 500, () => void tick());
    };
    await tick();
  }

  private endHold(reason: NonNullable<PreemptionHoldStatus['reason']>, heldMs?: number): void {
    const hold = this.hold;
    const c = this.deps.catchUp;
    if (hold === undefined || c === undefined) return;
    this.hold = undefined;
    c.clock.clearTimer(hold.timer);
    c.holdPreemption(hold.instance, false);
    this.lastHold = { active: false, connections: hold.connections, reason, ...(heldMs !== undefined ? { heldMs } : {}) };
    this.deps.logger.info({ part: 'sync', event: 'preemption_release', instance: hold.instance, reason, heldMs, connections: hold.connections }, `${hold.instance}: preemption released (${reason}, ${hold.connections} connections in the table)`);
  }

  private drivenConfig(model: ConfigModel): LvsSyncDaemon | undefined {
    const c = model.global.lvsSyncDaemon;
    return c !== undefined && this.deps.drives(c) ? c : undefined;
  }

  private roleFor(config: LvsSyncDaemon): SyncRole {
    if (config.vrrpInstance === undefined) return 'both';
    return this.deps.instanceState(config.vrrpInstance) === 'MASTER' ? 'master' : 'backup';
  }

  private async ensureKernel(): Promise<void> {
    this.kernel ??= await this.deps.open();
  }

  private async convergeOnce(): Promise<void> {
    const kernel = this.kernel?.kernel;
    if (kernel === undefined) return;
    const ops = planSyncDaemons(this.running, wantedSyncDaemons(this.config, this.role));
    let failed = false;
    let startFailed = false;
    for (const op of ops) {
      // A daemon that could not start leaves the old one running: a stale backup beats no daemon at all.
      if (startFailed && op.op === 'stop' && op.reason === 'removed') continue;
      try {
        if (op.op === 'start') {
          await kernel.startSyncDaemon(op.spec);
          this.running = [...this.running.filter((d) => d.state !== op.spec.state), op.spec];
        } else {
          await kernel.stopSyncDaemon(op.state, op.syncId);
          this.running = this.running.filter((d) => d.state !== op.state);
        }
        this.lastChangeEpochMs = (this.deps.now ?? Date.now)();
        this.deps.logger.info({ part: 'sync', event: 'sync_daemon', op: op.op, state: op.op === 'start' ? op.spec.state : op.state, reason: op.reason }, `IPVS ${op.op === 'start' ? op.spec.state : op.state} sync daemon ${op.op === 'start' ? 'started' : 'stopped'}`);
      } catch (err) {
        failed = true;
        if (op.op === 'start') startFailed = true;
        this.errors++;
        const where = this.config ? ` (${this.config.loc.file}:${this.config.loc.line})` : '';
        this.deps.logger.error({ part: 'sync', event: 'sync_daemon_error', op: op.op, err: err instanceof Error ? err.message : String(err) }, `IPVS sync daemon ${op.op} failed${where}`);
      }
    }
    // After a failure, believe the kernel, not our bookkeeping: the next change starts from what really runs.
    if (failed) this.running = (await kernel.listSyncDaemons().catch(() => this.running.map(specToEntry))).map(entryToSpec);
  }
}

function entryToSpec(e: SyncDaemonEntry | SyncDaemonSpec): SyncDaemonSpec {
  return { ...e };
}

function specToEntry(s: SyncDaemonSpec): SyncDaemonEntry {
  return { ...s };
}
