import type { ConfigModel } from '../config/model.js';
import type { RealServerChange } from '../healthcheck/events.js';
import { ipvsPlanFromConfig, type IpvsPlan } from '../ipvs/fromConfig.js';
import type { IpvsBackendStatus, IpvsServiceStats, IpvsMetricsSource } from '../metrics/sources.js';
import type { Logger } from '../util/log.js';
import type { ConfigDiff } from './configDiff.js';
import type { DaemonPart } from './parts.js';

/** What the IPVS part needs of the IPVS room's service (src/ipvs/ipvsService.ts IpvsService fits). */
export interface IpvsRunner {
  start(plan: IpvsPlan): Promise<unknown>;
  reload(plan: IpvsPlan): Promise<unknown>;
  stop(): Promise<void>;
  stats(): Promise<IpvsServiceStats[]>;
  backends?(): Promise<IpvsBackendStatus[]>;
  onRealServerChange(e: RealServerChange): void;
}

/**
 * The IPVS part. The kernel is opened only when the config has virtual servers — a VRRP-only config runs
 * on a kernel without IPVS — and a kernel without IPVS then stops start-up with the client's one sentence.
 * A reload whose diff leaves every virtual server and the lvs_* globals alone does not touch the kernel.
 */
export class IpvsPart implements DaemonPart, IpvsMetricsSource {
  readonly name = 'ipvs';
  private runner: IpvsRunner | undefined;
  private closeKernel: (() => void) | undefined;

  constructor(
    /** Opens the kernel side; throws IpvsUnavailableError on a kernel without IPVS. */
    private readonly open: () => Promise<{ runner: IpvsRunner; close(): void }>,
    private readonly logger: Logger,
  ) {}

  async start(model: ConfigModel): Promise<void> {
    if (model.virtualServers.length === 0) return;
    await this.ensureRunner(model);
  }

  async reload(next: ConfigModel, diff: ConfigDiff): Promise<void> {
    if (!diff.servicesChanged && !diff.lvsGlobalsChanged) return;
    if (!this.runner) {
      if (next.virtualServers.length > 0) await this.ensureRunner(next);
      return;
    }
    const plan = ipvsPlanFromConfig(next);
    for (const warning of plan.warnings) this.logger.warn({ part: 'ipvs' }, warning);
    const report = await this.runner.reload(plan);
    this.logger.info({ event: 'reload', part: 'ipvs', report }, 'IPVS reload applied');
  }

  async stop(): Promise<void> {
    try {
      await this.runner?.stop();
    } finally {
      this.closeKernel?.();
      this.runner = undefined;
      this.closeKernel = undefined;
    }
  }

  /** Health decisions flow here (before the first sync they are remembered by the service). */
  onRealServerChange(e: RealServerChange): void {
    this.runner?.onRealServerChange(e);
  }

  async stats(): Promise<IpvsServiceStats[]> {
    return this.runner ? this.runner.stats() : [];
  }

  async backends(): Promise<IpvsBackendStatus[]> {
    return (await this.runner?.backends?.()) ?? [];
  }

  private async ensureRunner(model: ConfigModel): Promise<void> {
    const { runner, close } = await this.open();
    this.runner = runner;
    this.closeKernel = close;
    const plan = ipvsPlanFromConfig(model);
    for (const warning of plan.warnings) this.logger.warn({ part: 'ipvs' }, warning);
    const report = await runner.start(plan);
    this.logger.info({ part: 'ipvs', virtualServers: plan.virtualServers.length, report }, 'IPVS table synced');
  }
}
