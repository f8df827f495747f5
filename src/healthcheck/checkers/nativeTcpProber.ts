/**
 * TCP_CHECK through the project's native prober (native/tcp_prober.cc, built by node-gyp as
 * build/Release/tslvsd_tcp_prober.node): non-blocking connects on one epoll set, results in batches, no Node
 * Socket per check. keepalived's contract is kept — a full connect within connect_timeout, closed at once;
 * retries and warmup stay with the engine — and a timeout is decided only after the epoll set was drained,
 * with how late its timer fired (see ProbeResult.timedOutLateMs).
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { addonFile } from '../../util/packageLayout.js';
import type { ConnectTarget } from '../plan.js';
import { downResult, timeoutResult, upResult, type ProbeResult } from '../result.js';
import { describeSocketError } from './tcp.js';

interface TcpProberBinding {
  /** 0: in progress (a result comes in a batch); -1: connected at once; > 0: errno, failed at once. */
  connect(id: number, host: string, port: number, timeoutMs: number, bindHost?: string, bindPort?: number): number;
  close(): void;
  readonly pending: number;
}

type OnResults = (ids: Int32Array, errnos: Int32Array, lateMs: Int32Array) => void;
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

/** One per thread (each checker worker has its own epoll set on its own loop). */
export class NativeTcpProber {
  private readonly binding: TcpProberBinding;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(ctor: TcpProberConstructor) {
    this.binding = new ctor((ids, errnos, lateMs) => this.onResults(ids, errnos, lateMs));
  }

  /** Whether the target is one it can probe: plain IP literals (no zone index), as is bind_to. */
  static accepts(target: ConnectTarget): boolean {
    const plain = (host: string): boolean => isIP(host) !== 0 && !host.includes('%');
    return plain(target.host) && (target.bindTo === undefined || plain(target.bindTo));
  }

  /** A full TCP connect to the target within its timeout; never rejects. */
  probe(target: ConnectTarget): Promise<ProbeResult> {
    const id = this.nextId;
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    const started = performance.now();
    const rc = this.binding.connect(id, target.host, target.port, target.timeoutMs, target.bindTo, target.bindPort);
    if (rc === -1) return Promise.resolve(upResult('connected', performance.now() - started));
    if (rc !== 0) return Promise.resolve(downResult(reasonOf(rc), performance.now() - started));
    return new Promise((resolve) => this.waiting.set(id, { resolve, started, timeoutMs: target.timeoutMs }));
  }

  get pending(): number {
    return this.waiting.size;
  }

  close(): void {
    this.binding.close();
    const now = performance.now();
    for (const w of this.waiting.values()) w.resolve(downResult('checker stopped', now - w.started));
    this.waiting.clear();
  }

  private onResults(ids: Int32Array, errnos: Int32Array, lateMs: Int32Array): void {
    const now = performance.now();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
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

/** Closes this thread's native prober (its sockets, epoll set and loop handles), if it was opened. */
export function stopNativeTcpProber(): void {
  loaded?.close();
  loaded = undefined;
}
