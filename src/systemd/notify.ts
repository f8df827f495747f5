/**
 * systemd's notify protocol (sd_notify(3)): newline-separated KEY=VALUE datagrams to the AF_UNIX socket
 * named by $NOTIFY_SOCKET ("@name" = abstract namespace). Node has no AF_UNIX datagram socket, so the send
 * goes through a `DatagramSender` — the project's native addon in production, a fake in unit tests.
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or Type≠notify) every call is a no-op, as sd_notify is.
 * A failed send is reported to `onError` and never thrown: the daemon must not die because systemd is
 * restarting or the socket went away.
 */
export interface DatagramSender {
  sendUnixDatagram(socketPath: string, message: Buffer): number;
}

export interface NotifyEnvironment {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

/** Monotonic clock in µs — CLOCK_MONOTONIC, which is what libuv's hrtime reads on Linux and systemd expects. */
export type MonotonicMicros = () => bigint;
export const monotonicMicros: MonotonicMicros = () => process.hrtime.bigint() / 1000n;

export class SystemdNotifier {
  readonly socketPath: string | undefined;

  constructor(
    env: NotifyEnvironment,
    private readonly sender: DatagramSender,
    private readonly onError: (err: unknown, message: string) => void = () => {},
    private readonly now: MonotonicMicros = monotonicMicros,
  ) {
    const path = env.NOTIFY_SOCKET;
    // sd_notify accepts absolute paths and abstract names only.
    this.socketPath = path && (path.startsWith('/') || path.startsWith('@')) ? path : undefined;
  }

  get enabled(): boolean {
    return this.socketPath !== undefined;
  }

  /** Start-up complete (or a reload finished): the unit becomes active. */
  ready(status?: string): boolean {
    return this.send(['READY=1', ...statusLine(status)]);
  }

  /**
   * A reload begins. MONOTONIC_USEC lets systemd ≥ 253 (Type=notify-reload) match it to its own request;
   * with Type=notify it is ignored. The reload ends with ready().
   */
  reloading(status?: string): boolean {
    return this.send(['RELOADING=1', `MONOTONIC_USEC=${this.now()}`, ...statusLine(status)]);
  }

  stopping(status?: string): boolean {
    return this.send(['STOPPING=1', ...statusLine(status)]);
  }

  watchdog(): boolean {
    return this.send(['WATCHDOG=1']);
  }

  status(text: string): boolean {
    return this.send(statusLine(text));
  }

  private send(lines: string[]): boolean {
    if (!this.socketPath) return false;
    const message = lines.join('\n');
    try {
      this.sender.sendUnixDatagram(this.socketPath, Buffer.from(message));
      return true;
    } catch (err) {
      this.onError(err, message);
      return false;
    }
  }
}

function statusLine(status: string | undefined): string[] {
  // STATUS is one line; a newline would start a new (bogus) assignment.
  return status === undefined ? [] : [`STATUS=${status.replace(/[\r\n]+/g, ' ')}`];
}

/**
 * The watchdog interval asked for by systemd (WatchdogSec=): WATCHDOG_USEC, if WATCHDOG_PID is unset or is
 * this process. Pings go at half of it, as sd_watchdog_enabled(3) recommends. undefined = no watchdog.
 */
export function watchdogPingIntervalMs(env: NotifyEnvironment, pid: number = process.pid): number | undefined {
  if (!env.WATCHDOG_USEC) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
