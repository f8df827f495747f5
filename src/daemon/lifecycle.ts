import type { ConfigModel } from '../config/model.js';
import type { Logger } from '../util/log.js';
import { diffConfigs, isEmptyDiff, summarizeDiff } from './configDiff.js';
import type { ConfigCompiler, DaemonPart } from './parts.js';
import { SerialRunner } from './serialRunner.js';

/** What the lifecycle tells systemd; a SystemdNotifier fits, a no-op is fine. */
export interface LifecycleNotifier {
  ready(status?: string): unknown;
  reloading(status?: string): unknown;
  stopping(status?: string): unknown;
}

export interface ReloadRecord {
  epochMs: number;
  successful: boolean;
  errors: string[];
}

export interface LifecycleOptions {
  configFile: string;
  /** In start order; stopped in reverse (VRRP first: priority 0 and VIPs gone before the table goes). */
  parts: DaemonPart[];
  compile: ConfigCompiler;
  notifier: LifecycleNotifier;
  logger: Logger;
  /** Wall clock for reload records (the cores use the monotonic Clock). */
  now?: () => number;
}

/**
 * The daemon's life: start the parts in order, reload by diff, stop in reverse. Reloads are serialized and
 * coalesced (SerialRunner); a reload whose config does not compile keeps the running config and is
 * recorded as failed, with every error located FILE:LINE in the log.
 */
export class DaemonLifecycle {
  private model: ConfigModel | undefined;
  private started: DaemonPart[] = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly reloads: SerialRunner;
  private readonly now: () => number;
  /** Aborts the compilation of the reload in progress (stop must not wait for a slow one). */
  private compiling: AbortController | undefined;
  lastReload: ReloadRecord | undefined;
  lastSuccessEpochMs = 0;

  constructor(private readonly options: LifecycleOptions) {
    this.now = options.now ?? Date.now;
    this.reloads = new SerialRunner(() => this.reloadOnce());
  }

  get currentModel(): ConfigModel | undefined {
    return this.model;
  }

  get reloadCount(): number {
    return this.reloads.runs;
  }

  /** Starts every part with the already compiled model; on a failure, stops the ones started and throws. */
  start(model: ConfigModel): Promise<void> {
    this.starting = this.startParts(model);
    return this.starting;
  }

  private async startParts(model: ConfigModel): Promise<void> {
    const { logger } = this.options;
    this.model = model;
    for (const part of this.options.parts) {
      if (this.stopping) return;
      try {
        await part.start(model);
        this.started.push(part);
        logger.debug({ part: part.name }, 'started');
      } catch (err) {
        logger.error({ part: part.name, err: errorText(err) }, `${part.name} failed to start`);
        await this.stopParts();
        throw err;
      }
    }
    if (this.stopping) return;
    this.lastSuccessEpochMs = this.now();
    this.options.notifier.ready(this.summary());
    logger.info({ event: 'started', parts: this.started.map((p) => p.name), config: this.options.configFile }, 'tslvsd started');
  }

  /** SIGHUP. Resolves when a reload that began after this request has finished. */
  reload(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return this.reloads.request();
  }

  private async reloadOnce(): Promise<void> {
    const { logger, notifier, configFile } = this.options;
    if (this.stopping || !this.model) return;
    notifier.reloading('reloading configuration');
    try {
      this.compiling = new AbortController();
      const outcome = await this.options.compile(configFile, this.compiling.signal);
      this.compiling = undefined;
      if (this.stopping) return;
      for (const warning of outcome.warnings) logger.warn({ event: 'reload' }, warning);
      if (!outcome.ok) {
        for (const error of outcome.errors) logger.error({ event: 'reload' }, error);
        logger.error({ event: 'reload', errors: outcome.errors.length }, 'reload rejected: the configuration has errors; the running configuration stays');
        this.lastReload = { epochMs: this.now(), successful: false, errors: outcome.errors };
        return;
      }
      const diff = diffConfigs(this.model, outcome.model);
      if (isEmptyDiff(diff)) {
        logger.info({ event: 'reload' }, 'reload: configuration unchanged');
      } else {
        logger.info({ event: 'reload', ...summarizeDiff(diff), otherSections: diff.otherSectionsChanged }, 'reload: applying the changes');
        for (const part of this.started) await part.reload(outcome.model, diff);
      }
      this.model = outcome.model;
      this.lastSuccessEpochMs = this.now();
      this.lastReload = { epochMs: this.lastSuccessEpochMs, successful: true, errors: [] };
    } catch (err) {
      // A part failed half way: what it applied stays applied; the next reload diffs against the old model
      // again and re-applies, so nothing is lost by keeping the old one here.
      logger.error({ event: 'reload', err: errorText(err) }, 'reload failed while applying');
      this.lastReload = { epochMs: this.now(), successful: false, errors: [errorText(err)] };
    } finally {
      this.compiling = undefined;
      if (!this.stopping) notifier.ready(this.summary());
    }
  }

  /** SIGTERM/SIGINT: idempotent; waits for a reload in progress, then stops parts in reverse order. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.options.notifier.stopping('stopping');
      this.options.logger.info({ event: 'stopping' }, 'tslvsd stopping');
      // A stop during start-up waits for the part being started, so none is left running.
      const startDone = this.starting?.catch(() => {}) ?? Promise.resolve();
      this.compiling?.abort();
      this.stopping = Promise.all([startDone, this.reloads.idle()]).then(() => this.stopParts());
    }
    return this.stopping;
  }

  private async stopParts(): Promise<void> {
    for (const part of [...this.started].reverse()) {
      try {
        await part.stop();
        this.options.logger.debug({ part: part.name }, 'stopped');
      } catch (err) {
        // Keep going: a VRRP stop failure must not leave the IPVS table behind, and vice versa.
        this.options.logger.error({ part: part.name, err: errorText(err) }, `${part.name} failed to stop cleanly`);
      }
    }
    this.started = [];
  }

  private summary(): string {
    const m = this.model;
    return m ? `${m.vrrpInstances.length} VRRP instances, ${m.virtualServers.length} virtual servers` : '';
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
