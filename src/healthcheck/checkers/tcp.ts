import { connect, type Socket } from 'node:net';
import type { ConnectTarget, TcpCheckSpec } from '../plan.js';
import { downResult, timeoutResult, upResult, type ProbeResult } from '../result.js';
import { armVerdictTimer } from './verdictTimer.js';
import { NativeTcpProber, nativeTcpProber } from './nativeTcpProber.js';
import type { RepeatHandle, RepeatRequest } from '../core/engine.js';

/** Why a connection could not be opened; lateMs is set when it is a timeout (see armVerdictTimer). */
export interface ConnectFailure {
  error: string;
  timedOutLateMs?: number;
}

/** Opens a TCP connection to the target (with bindto / bind_port), or explains why not, within timeoutMs. */
export function openConnection(target: ConnectTarget): Promise<{ socket: Socket } | ConnectFailure> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({
      host: target.host,
      port: target.port,
      localAddress: target.bindTo,
      localPort: target.bindPort,
      noDelay: true,
    });
    const finish = (value: { socket: Socket } | ConnectFailure): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      socket.removeAllListeners('connect');
      if ('error' in value) socket.destroy();
      resolve(value);
    };
    // Armed after connect() was called (its syscall runs on the next tick, before any I/O): the timeout
    // counts from the send, and is decided only after a poll that could have seen the answer.
    const timer = armVerdictTimer(target.timeoutMs, (lateMs) =>
      finish({ error: `connect timeout after ${target.timeoutMs} ms`, timedOutLateMs: lateMs }));
    socket.once('connect', () => finish({ socket }));
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ error: describeSocketError(err) }));
  });
}

export function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'EHOSTUNREACH': return 'host unreachable';
    case 'ENETUNREACH': return 'network unreachable';
    case 'ECONNRESET': return 'connection reset';
    case 'ETIMEDOUT': return 'timed out';
    default: return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}

/**
 * TCP_CHECK: up when the connection is established; it is closed at once. Through the native prober when
 * it is built (no Node Socket per check), else through Node's sockets.
 */
export function probeTcp(spec: TcpCheckSpec): Promise<ProbeResult> {
  const native = nativeTcpProber();
  return native && nativeAccepts(spec.target) ? native.probe(spec.target) : probeTcpWithNodeSocket(spec);
}

/**
 * A TCP_CHECK's probes scheduled by the native prober's watch (a steady state repeated with no JavaScript
 * per check), or undefined when it does not take them: no addon, a scoped address, or the engine's own
 * timer queue asked for (TSLVSD_TCP_REPEAT=engine, the path before watches; kept to compare the two).
 */
export function repeatTcp(spec: TcpCheckSpec, request: RepeatRequest): RepeatHandle | undefined {
  if (process.env.TSLVSD_TCP_REPEAT === 'engine') return undefined;
  const native = nativeTcpProber();
  if (!native || !nativeAccepts(spec.target)) return undefined;
  const id = native.watch({
    target: spec.target,
    firstDelayMs: request.firstDelayMs,
    intervalMs: request.intervalMs,
    expectUp: request.expectUp,
    onCounted: request.onCounted,
    onDeviation: request.onDeviation,
  });
  return id === undefined ? undefined : { cancel: () => native.unwatch(id) };
}

/** Per target (a plan's object, the same at every check), whether the native prober takes it. */
const nativeTargets = new WeakMap<ConnectTarget, boolean>();

/** The native prober takes plain IPv4 / IPv6 literals; a scoped (fe80::1%eth0) address goes through Node. */
function nativeAccepts(target: ConnectTarget): boolean {
  let ok = nativeTargets.get(target);
  if (ok === undefined) {
    ok = NativeTcpProber.accepts(target);
    nativeTargets.set(target, ok);
  }
  return ok;
}

export async function probeTcpWithNodeSocket(spec: TcpCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  const r = await openConnection(spec.target);
  const ms = performance.now() - started;
  if ('error' in r) return r.timedOutLateMs === undefined ? downResult(r.error, ms) : timeoutResult(r.error, ms, r.timedOutLateMs);
  r.socket.on('error', () => {});
  r.socket.destroy();
  return upResult('connected', ms);
}
