import type { Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { ListenerCounters } from '../util/connectionLimits.js';
import type { Logger } from '../util/log.js';
import { startMetricsServer, type ListenAddress, type MetricsServer } from './server.js';

/**
 * The metrics listener as the daemon runs it: a port that cannot be bound (taken by another process, an
 * address not yet on the host) does not stop the daemon — VRRP and the checks matter more than a scrape.
 * The failure is logged, shown by `tslvsd status`, and the bind retried with a doubling backoff (1 s …
 * 30 s) until it succeeds. keepalived has no listener; its exporter is a separate process.
 */
export interface MetricsListenerStatus {
  listen: string;
  state: 'up' | 'retrying' | 'closed';
  /** The last bind error (while retrying). */
  error?: string;
  /** Failed binds so far. */
  failures: number;
  /** Milliseconds until the next attempt (while retrying). */
  retryInMs?: number;
}

export const METRICS_RETRY_FIRST_MS = 1000;
export const METRICS_RETRY_MAX_MS = 30_000;

export type StartMetricsServer = (listen: ListenAddress, registry: Registry) => Promise<MetricsServer>;

export class MetricsListener {
  private server: MetricsServer | undefined;
  private timer: TimerHandle | undefined;
  private retryAt = 0;
  private failures = 0;
  private lastError: string | undefined;
  private closed = false;

  constructor(
    private readonly listen: ListenAddress,
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly start: StartMetricsServer = startMetricsServer,
  ) {}

  /** Tries once now; on failure keeps retrying in the background. Never throws. */
  async open(): Promise<void> {
    if (this.closed || this.server) return;
    try {
      const server = await this.start(this.listen, this.registry);
      if (this.closed) {
        await server.close();
        return;
      }
      this.server = server;
      this.lastError = undefined;
      const address = `${server.address.host}:${server.address.port}`;
      this.logger.info({ event: 'metrics_listener', listen: address, failures: this.failures }, this.failures > 0 ? `metrics listener up on ${address} after ${this.failures} failed attempt(s)` : 'metrics listener up');
    } catch (err) {
      this.failures++;
      this.lastError = err instanceof Error ? err.message : String(err);
      const delay = Math.min(METRICS_RETRY_MAX_MS, METRICS_RETRY_FIRST_MS * 2 ** Math.min(this.failures - 1, 10));
      this.retryAt = this.clock.now() + delay;
      // The first failure is a warning; the retries that follow repeat it at debug level only.
      const log = this.failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
      log(
        { event: 'metrics_listener', listen: this.address(), err: this.lastError, failures: this.failures, retryInMs: delay },
        `metrics listener ${this.address()} not up (${this.lastError}); the daemon runs on, retrying in ${delay / 1000} s`,
      );
      this.timer = this.clock.setTimer(delay, () => {
        this.timer = undefined;
        void this.open();
      });
    }
  }

  get counters(): Readonly<ListenerCounters> | undefined {
    return this.server?.counters;
  }

  status(): MetricsListenerStatus {
    if (this.server) return { listen: `${this.server.address.host}:${this.server.address.port}`, state: 'up', failures: this.failures };
    if (this.closed) return { listen: this.address(), state: 'closed', failures: this.failures };
    return {
      listen: this.address(),
      state: 'retrying',
      failures: this.failures,
      ...(this.lastError !== undefined ? { error: this.lastError } : {}),
      retryInMs: Math.max(0, Math.round(this.retryAt - this.clock.now())),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  private address(): string {
    return this.listen.host.includes(':') ? `[${this.listen.host}]:${this.listen.port}` : `${this.listen.host}:${this.listen.port}`;
  }
}
