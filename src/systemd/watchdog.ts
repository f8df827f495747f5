import type { Clock, TimerHandle } from '../util/clock.js';
import { watchdogPingIntervalMs, type NotifyEnvironment, type SystemdNotifier } from './notify.js';

/**
 * WATCHDOG=1 at half of WatchdogSec. The ping runs on the daemon's own event loop, so a blocked loop (the
 * one failure a watchdog exists for) stops the pings and systemd restarts the service.
 */
export class SystemdWatchdog {
  private timer: TimerHandle | undefined;
  readonly intervalMs: number | undefined;

  constructor(
    private readonly notifier: SystemdNotifier,
    private readonly clock: Clock,
    env: NotifyEnvironment,
  ) {
    this.intervalMs = notifier.enabled ? watchdogPingIntervalMs(env) : undefined;
  }

  start(): void {
    if (this.intervalMs === undefined || this.timer) return;
    const interval = this.intervalMs;
    const tick = (): void => {
      this.notifier.watchdog();
      this.timer = this.clock.setTimer(interval, tick);
    };
    tick();
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
