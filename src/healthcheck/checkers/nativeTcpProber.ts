/**
 * TCP_CHECK through the project's native prober (native/tcp_prober.cc, built by node-gyp as
 * build/Release/tslvsd_tcp_prober.node): non-blocking connects on one epoll set, results in batches, no Node
 * Socket per check. keepalived's contract is kept — a full connect within connect_timeout, closed at once;
 * retries and warmup stay with the engine — and a timeout is decided only after the epoll set was drained,
 * with how late its timer fired (see ProbeResult.timedOutLateMs).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { addonFile } from '../../util/packageLayout.js';
import type { ConnectTarget } from '../plan.js';
import { downResult, timeoutResult, upResult, type ProbeResult } from '../result.js';
import { describeSocketError } from './tcp.js';

interface WatchCollection {
  ids: Int32Array;
  checks: Int32Array;
  failures: Int32Array;
  errnos: Int32Array;
  durationsUs: Int32Array;
  maxLateMs: number;
  behind: number;
}

interface TcpProberBinding {
  /** 0: in progress (a result comes in a batch); -1: connected at once; > 0: errno, failed at once. */
  connect(id: number, host: string, port: number, timeoutMs: number, bindHost?: string, bindPort?: number): number;
  /** A standing watch (see native/tcp_prober.cc): 0, or an errno (bad address, id in use). */
  watch(
    id: number, host: string, port: number, timeoutMs: number, bindHost: string | undefined, bindPort: number | undefined,
    firstDelayMs: number, intervalMs: number, expect: 0 | 1 | 2,
  ): number;
  /** [checks, failures, dueInMs] counted since the last collect, or undefined if there is no such watch. */
  unwatch(id: number): [number, number, number] | undefined;
  collect(): WatchCollection;
  close(): void;
  readonly pending: number;
  /** The delay the prober's one libuv timer was last armed with, in ms: never 0 (see ArmTimer). */
  readonly armedDelayMs: number;
}

/**
 * A batch: one-shot results, and watches' deviations with what they had counted before it and the
 * connect's duration in µs (0 for one-shots, timed here).
 */
type OnResults = (
  ids: Int32Array, errnos: Int32Array, lateMs: Int32Array, checks: Int32Array, failures: Int32Array, durationsUs: Int32Array,
) => void;
type TcpProberConstructor = new (onResults: OnResults) => TcpProberBinding;

const ETIMEDOUT = constants.errno.ETIMEDOUT;
const MAX_ID = 0x7fffffff;

/** errno → the reason the Node path gives for the same error ("connection refused", …); built on first use. */
let errnoReason: Map<number, string> | undefined;

function reasonOf(errno: number): string {
  errnoReason ??= new Map(
    Object.entries(constants.errno).map(([code, n]) => [n, describeSocketError(Object.assign(new Error(code), { code }))]),
  );
  return errnoReason.get(errno) ?? `errno ${errno}`;
}

interface Waiting {
  resolve: (r: ProbeResult) => void;
  started: number;
  timeoutMs: number;
}

/** A standing watch of a target, as the engine hands over a steady checker (RepeatRequest). */
export interface TcpWatch {
  target: ConnectTarget;
  firstDelayMs: number;
  intervalMs: number;
  /** undefined: one connect after firstDelayMs, its result reported whatever it is. */
  expectUp: boolean | undefined;
  onCounted(checks: number, failures: number, lastDurationMs: number | null, lastReason: string | null): void;
  onDeviation(result: ProbeResult): void;
}


/** One per thread (each checker worker has its own epoll set on its own loop). */
export class NativeTcpProber {
  private readonly binding: TcpProberBinding;
  private readonly waiting = new Map<number, Waiting>();
  private readonly watching = new Map<number, TcpWatch>();
  private nextId = 1;

  constructor(ctor: TcpProberConstructor) {
    this.binding = new ctor((ids, errnos, lateMs, checks, failures, durationsUs) =>
      this.onResults(ids, errnos, lateMs, checks, failures, durationsUs));
  }

  private allocateId(): number {
    let id = this.nextId;
    // Ids wrap; one still in use (a watch lives long) is skipped.
    while (this.waiting.has(id) || this.watching.has(id)) id = id >= MAX_ID ? 1 : id + 1;
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    return id;
  }

  /**
   * Repeats connects to the target every intervalMs (from the end of the last) while each result is the
   * expected one, in native code; calls onDeviation with the first that is not (with expectUp undefined,
   * the first result). Returns the watch's id, or
   * undefined if the addon refuses the target. onDeviation is never called from within this call.
   */
  watch(w: TcpWatch): number | undefined {
    const id = this.allocateId();
    const t = w.target;
    const expect = w.expectUp === undefined ? 2 : w.expectUp ? 1 : 0;
    const rc = this.binding.watch(id, t.host, t.port, t.timeoutMs, t.bindTo, t.bindPort, w.firstDelayMs, w.intervalMs, expect);
    if (rc !== 0) return undefined;
    this.watching.set(id, w);
    return id;
  }

  /** Ends a watch (what it counted is reported first); the ms until its next connect was due. */
  unwatch(id: number): number {
    const watch = this.watching.get(id);
    this.watching.delete(id);
    const counted = this.binding.unwatch(id);
    if (!watch || !counted) return 0;
    const [checks, failures, dueInMs] = counted;
    if (checks > 0) watch.onCounted(checks, failures, null, null);
    return dueInMs;
  }

  /** Reports what every watch counted since the last call (onCounted); the worst launch lateness. */
  collect(): { maxLateMs: number; behindSchedule: number } {
    const c = this.binding.collect();
    for (let i = 0; i < c.ids.length; i++) {
      const watch = this.watching.get(c.ids[i]!);
      if (!watch) continue;
      watch.onCounted(c.checks[i]!, c.failures[i]!, c.durationsUs[i]! / 1000, this.reasonFor(c.errnos[i]!, watch.target.timeoutMs));
    }
    return { maxLateMs: c.maxLateMs, behindSchedule: c.behind };
  }

  private reasonFor(errno: number, timeoutMs: number): string {
    if (errno === 0) return 'connected';
    if (errno === ETIMEDOUT) return `connect timeout after ${timeoutMs} ms`;
    return reasonOf(errno);
  }

  /** Whether the target is one it can probe: plain IP literals (no zone index), as is bind_to. */
  static accepts(target: ConnectTarget): boolean {
    const plain = (host: string): boolean => isIP(host) !== 0 && !host.includes('%');
    return plain(target.host) && (target.bindTo === undefined || plain(target.bindTo));
  }

  /** A full TCP connect to the target within its timeout; never rejects. */
  probe(target: ConnectTarget): Promise<ProbeResult> {
    const id = this.allocateId();
    const started = performance.now();
    const rc = this.binding.connect(id, target.host, target.port, target.timeoutMs, target.bindTo, target.bindPort);
    if (rc === -1) return Promise.resolve(upResult('connected', performance.now() - started));
    if (rc !== 0) return Promise.resolve(downResult(reasonOf(rc), performance.now() - started));
    return new Promise((resolve) => this.waiting.set(id, { resolve, started, timeoutMs: target.timeoutMs }));
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** See TcpProberBinding.armedDelayMs. */
  get armedDelayMs(): number {
    return this.binding.armedDelayMs;
  }

  close(): void {
    this.binding.close();
    const now = performance.now();
    for (const w of this.waiting.values()) w.resolve(downResult('checker stopped', now - w.started));
    this.waiting.clear();
    this.watching.clear();
  }

  private onResults(
    ids: Int32Array, errnos: Int32Array, lateMs: Int32Array, checks: Int32Array, failures: Int32Array, durationsUs: Int32Array,
  ): void {
    const now = performance.now();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const watched = this.watching.get(id);
      if (watched) {
        this.watching.delete(id);
        this.deviated(watched, errnos[i]!, lateMs[i]!, checks[i]!, failures[i]!, durationsUs[i]! / 1000);
        continue;
      }
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      const errno = errnos[i]!;
      const ms = now - w.started;
      if (errno === 0) w.resolve(upResult('connected', ms));
      else if (errno === ETIMEDOUT && lateMs[i]! >= 0) w.resolve(timeoutResult(`connect timeout after ${w.timeoutMs} ms`, ms, lateMs[i]!));
      else w.resolve(downResult(reasonOf(errno), ms));
    }
  }

  private deviated(watch: TcpWatch, errno: number, lateMs: number, checks: number, failures: number, durationMs: number): void {
    if (checks > 0) watch.onCounted(checks, failures, null, null);
    const timeoutMs = watch.target.timeoutMs;
    const result: ProbeResult =
      errno === 0 ? upResult('connected', durationMs)
        : errno === ETIMEDOUT && lateMs >= 0 ? timeoutResult(`connect timeout after ${timeoutMs} ms`, durationMs, lateMs)
          : downResult(reasonOf(errno), durationMs);
    watch.onDeviation(result);
  }
}

let loaded: NativeTcpProber | null | undefined;

/**
 * This thread's native prober, or null when it cannot be used: the addon is not built, or
 * TSLVSD_TCP_PROBER=node asks for the Node socket path (for comparison).
 */
export function nativeTcpProber(): NativeTcpProber | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.TSLVSD_TCP_PROBER === 'node') return loaded;
  try {
    // src/healthcheck/checkers and dist/healthcheck/checkers both sit three levels below the root.
    const file = addonFile(import.meta.url, 3, 'tslvsd_tcp_prober');
    const raw = createRequire(import.meta.url)(file) as { TcpProber?: unknown };
    if (typeof raw.TcpProber === 'function') loaded = new NativeTcpProber(raw.TcpProber as TcpProberConstructor);
  } catch {
    loaded = null;
  }
  return loaded;
}

/**
 * Whether TCP_CHECKs would repeat in native watches — the addon is built, and neither TSLVSD_TCP_PROBER=node
 * nor TSLVSD_TCP_REPEAT=engine asks otherwise — told without opening a prober on this thread.
 */
export function nativeTcpWatchesAvailable(): boolean {
  if (process.env.TSLVSD_TCP_PROBER === 'node' || process.env.TSLVSD_TCP_REPEAT === 'engine') return false;
  try {
    return existsSync(addonFile(import.meta.url, 3, 'tslvsd_tcp_prober'));
  } catch {
    return false;
  }
}

/** What this thread's watches counted (see NativeTcpProber.collect); nothing if the prober was never opened. */
export function collectNativeWatches(): { maxLateMs: number; behindSchedule: number } | undefined {
  return loaded ? loaded.collect() : undefined;
}

/** Closes this thread's native prober (its sockets, epoll set and loop handles), if it was opened. */
export function stopNativeTcpProber(): void {
  loaded?.close();
  loaded = undefined;
}
