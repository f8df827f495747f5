import type { ConfigModel } from '../config/model.js';
import type { StaticNetworkStatus } from '../vrrp/staticNetwork.js';
import type { DaemonPart } from './parts.js';

/** What the part needs of src/vrrp/staticNetwork.ts StaticNetwork (with the socket it owns). */
export interface StaticNetworkRunner {
  start(model: ConfigModel): Promise<void>;
  reload(next: ConfigModel): Promise<void>;
  stop(): Promise<void>;
  status(): StaticNetworkStatus;
  close(): void;
}

/**
 * static_ipaddress / static_routes / static_rules, and the start-up clearing of routes a previous run left.
 * Started before the VRRP part and stopped after it (the lifecycle stops parts in reverse), so the clearing
 * never races an instance adding its virtual routes.
 */
export class StaticNetworkPart implements DaemonPart {
  readonly name = 'static-network';
  private runner: StaticNetworkRunner | undefined;

  constructor(private readonly open: () => StaticNetworkRunner) {}

  async start(model: ConfigModel): Promise<void> {
    const runner = this.open();
    this.runner = runner;
    await runner.start(model);
  }

  async reload(next: ConfigModel): Promise<void> {
    await this.runner?.reload(next);
  }

  async stop(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (!runner) return;
    try {
      await runner.stop();
    } finally {
      runner.close();
    }
  }

  status(): StaticNetworkStatus | undefined {
    return this.runner?.status();
  }
}
