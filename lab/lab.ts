// The whole lab in one object: topology + configs + real servers + two directors + client traffic.
// Used by `npm run demo`, the e2e tests and the failover benchmark.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TIMINGS, keepalivedConf, type LabSync, type LabTimings } from './config/keepalived-conf.js';
import type { DirectorSoftware, RunningDirector } from './directors/director.js';
import { inNetns, run, waitFor } from './exec.js';
import { LabObserver } from './observe/state.js';
import { RealServer } from './realserver.js';
import { buildTopology, destroyTopology } from './topology/build.js';
import { planLab, type DirectorRole, type LabPlan, type LvsMode, type RealServerName } from './topology/plan.js';
import { TrafficRecorder } from './traffic/recorder.js';

export interface LabOptions {
  mode: LvsMode;
  director: DirectorSoftware;
  /** Namespace prefix, unique per user of the lab (e.g. `e2e-nat`). */
  prefix: string;
  timings?: LabTimings;
  /** Keep the work dir (configs, logs) after `down()`. */
  keepWorkDir?: boolean;
  /** Connection sync between the directors and an echo service for long-lived connections. */
  sync?: LabSync;
}

/** One director host: its config, its links and, while running, its daemon. */
export class DirectorHost {
  daemon: RunningDirector | undefined;
  /** The log of the daemon started last, kept after it crashed or stopped (for failure messages). */
  lastLogPath: string | undefined;
  constructor(readonly role: DirectorRole, private readonly plan: LabPlan, readonly configPath: string,
    private readonly software: DirectorSoftware, private readonly workDir: string) {}

  get netns(): string {
    return this.plan.netns[this.role];
  }

  get running(): boolean {
    return this.daemon !== undefined;
  }

  private get links(): string[] {
    return this.plan.directorPrivate ? [this.plan.directorLan, this.plan.directorPrivate] : [this.plan.directorLan];
  }

  async start(): Promise<void> {
    if (this.daemon) return;
    this.daemon = await this.software.start({ netns: this.netns, configPath: this.configPath, workDir: this.workDir, label: this.role });
    this.lastLogPath = this.daemon.logPath;
  }

  /** kill -9 of the daemon; the host (its VIPs, its kernel IPVS table) stays up. */
  async crash(): Promise<void> {
    const d = this.daemon;
    this.daemon = undefined;
    await d?.crash();
  }

  /**
   * The whole director host dies: its links go down, then its daemon is killed (kill -9). Links first: the
   * kill is a signal (instant) but `ip` is a process to start, seconds under TCG on a busy host; killed first,
   * the daemon's host kept forwarding until the backup had taken over, and the crash was never felt.
   */
  async powerFail(): Promise<void> {
    const d = this.daemon;
    this.daemon = undefined;
    await run(['ip', '-n', this.netns, '-batch', '-'], { input: this.links.map((l) => `link set ${l} down\n`).join('') });
    await d?.crash();
  }

  /** The host boots again after a power failure: clean kernel state (no VIPs, empty IPVS table), links up, daemon started. */
  async powerOn(): Promise<void> {
    const vips = [`addr del ${this.plan.vip}/32 dev ${this.plan.directorLan}`];
    if (this.plan.gatewayVip && this.plan.directorPrivate) vips.push(`addr del ${this.plan.gatewayVip}/24 dev ${this.plan.directorPrivate}`);
    for (const line of vips) await run(['ip', '-n', this.netns, ...line.split(' ')], { allowFail: true });
    await run(inNetns(this.netns, ['ipvsadm', '-C']), { allowFail: true });
    // The sync daemons are kernel threads: a reboot ends them too.
    for (const state of ['master', 'backup']) await run(inNetns(this.netns, ['ipvsadm', '--stop-daemon', state]), { allowFail: true });
    await run(['ip', '-n', this.netns, '-batch', '-'], { input: this.links.map((l) => `link set ${l} up\n`).join('') });
    await this.start();
  }

  async stop(): Promise<void> {
    const d = this.daemon;
    this.daemon = undefined;
    await d?.stop();
  }
}

export class LvsLab {
  readonly plan: LabPlan;
  readonly timings: LabTimings;
  readonly workDir: string;
  readonly directors: Record<DirectorRole, DirectorHost>;
  readonly realServers: Record<RealServerName, RealServer>;
  traffic: TrafficRecorder | undefined;
  private obs: LabObserver | undefined;

  constructor(private readonly opts: LabOptions) {
    this.plan = planLab(opts.mode, opts.prefix);
    this.timings = opts.timings ?? DEFAULT_TIMINGS;
    this.workDir = mkdtempSync(join(tmpdir(), `lab-${opts.prefix}-`));
    const director = (role: DirectorRole): DirectorHost => {
      const configPath = join(this.workDir, `${role}.conf`);
      writeFileSync(configPath, keepalivedConf(this.plan, role, this.timings, opts.sync));
      return new DirectorHost(role, this.plan, configPath, opts.director, this.workDir);
    };
    this.directors = { primary: director('primary'), backup: director('backup') };
    const rs = (name: RealServerName): RealServer => {
      const p = this.plan.realServers.find((r) => r.name === name);
      if (!p) throw new Error(`no ${name} in plan`);
      return new RealServer(name, this.plan.netns[name], p.address, this.workDir, () => this.observer.listening(name, this.plan.port));
    };
    this.realServers = { rs1: rs('rs1'), rs2: rs('rs2') };
  }

  get url(): string {
    return `http://${this.plan.vip}:${this.plan.port}/`;
  }

  /** Kernel state of the lab, read cheaply through /proc (available after `build()`). */
  get observer(): LabObserver {
    if (!this.obs) throw new Error('lab not built');
    return this.obs;
  }

  /** Builds the network and starts the real servers (not the directors nor the traffic). */
  async build(): Promise<void> {
    await buildTopology(this.plan);
    this.obs = await LabObserver.open(this.plan);
    await this.realServers.rs1.start();
    await this.realServers.rs2.start();
  }

  async startDirectors(): Promise<void> {
    await this.directors.primary.start();
    await this.directors.backup.start();
  }

  async startTraffic(intervalMs = 100, timeoutMs = 2000): Promise<TrafficRecorder> {
    this.traffic = await TrafficRecorder.start({ netns: this.plan.netns.client, url: this.url, intervalMs, timeoutMs });
    return this.traffic;
  }

  /** Waits until exactly `role` holds the VIP; returns the time it was seen, or undefined on timeout. */
  async waitForSoleMaster(role: DirectorRole, timeoutMs: number): Promise<number | undefined> {
    return waitFor(async () => {
      const h = await this.observer.vipHolders();
      return h.length === 1 && h[0] === role ? Date.now() : undefined;
    }, timeoutMs, 100);
  }

  /** The real server's IPVS entry on a director (undefined: not in the table). */
  realServerEntry(d: DirectorRole, name: RealServerName): Promise<{ weight: number } | undefined> {
    return this.observer.realServerEntry(d, this.realServers[name].address);
  }

  /** Stops everything and removes every namespace; safe to call twice and after a failed build. */
  async down(): Promise<void> {
    await this.traffic?.stop().catch(() => undefined);
    this.traffic = undefined;
    for (const d of [this.directors.backup, this.directors.primary]) await d.stop().catch(() => undefined);
    for (const rs of Object.values(this.realServers)) await rs.kill().catch(() => undefined);
    this.obs?.close();
    this.obs = undefined;
    await destroyTopology(this.plan);
    if (!this.opts.keepWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
