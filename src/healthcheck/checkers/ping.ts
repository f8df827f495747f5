import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isIP } from 'node:net';
import type { PingCheckSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { nodeArgs, sibling } from '../worker/moduleRunner.js';

interface Pending {
  resolve: (r: ProbeResult) => void;
  host: string;
  timeoutMs: number;
  /** When the request went to the helper; undefined while it waits for the helper to start. */
  started: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** A helper that has not said ready by then is taken as broken: its waiting requests fail. */
const HELPER_START_LIMIT_MS = 30_000;

/** One helper process per checker worker, started on first use and restarted if it dies. */
class IcmpHelperClient {
  private child: ChildProcess | undefined;
  /** The helper said `ready`: requests are written at once; before that they wait (see echo()). */
  private ready = false;
  private startLimit: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private lastError = '';

  private ensure(): ChildProcess {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    const child = spawn(process.execPath, nodeArgs(sibling(import.meta.url, './icmpHelper')), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.ready = false;
    clearTimeout(this.startLimit);
    this.startLimit = setTimeout(() => {
      if (this.child !== child || this.ready) return;
      for (const seq of this.pending.keys()) this.settle(seq, downResult(`ICMP helper did not start within ${HELPER_START_LIMIT_MS} ms: ${this.lastError}`, 0));
      child.kill('SIGKILL');
    }, HELPER_START_LIMIT_MS);
    this.startLimit.unref();
    child.stderr?.on('data', (d: Buffer) => {
      this.lastError = d.toString().trim().split('\n').slice(-1)[0] ?? '';
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.on('exit', (code) => {
      if (this.child === child) this.child = undefined;
      for (const [seq, p] of this.pending) this.settle(seq, downResult(`ICMP helper exited (${code}): ${this.lastError}`, p.started === undefined ? 0 : performance.now() - p.started));
    });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    return child;
  }

  private onLine(line: string): void {
    let msg: { seq?: number; from?: string; error?: string; ready?: boolean };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.seq === -1 && msg.ready === true && !this.ready) {
      this.ready = true;
      clearTimeout(this.startLimit);
      for (const [seq, p] of this.pending) if (p.started === undefined) this.send(seq, p);
      return;
    }
    if (typeof msg.seq !== 'number' || msg.seq < 0) return;
    const p = this.pending.get(msg.seq);
    if (!p || p.started === undefined) return;
    const ms = performance.now() - p.started;
    this.settle(msg.seq, msg.error ? downResult(`ICMP send: ${msg.error}`, ms) : upResult(`echo reply from ${msg.from}`, ms));
  }

  private settle(seq: number, r: ProbeResult): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    clearTimeout(p.timer);
    p.resolve(r);
  }

  /**
   * The timeout runs from when the request is written to a started helper, not from the call: the
   * helper's own start (a Node process, seconds on a loaded machine) must not make a host look down.
   */
  echo(host: string, timeoutMs: number): Promise<ProbeResult> {
    return new Promise((resolve) => {
      try {
        this.ensure();
      } catch (err) {
        resolve(downResult(`cannot start ICMP helper: ${(err as Error).message}`, 0));
        return;
      }
      let seq = (this.seq = (this.seq + 1) & 0xffff);
      while (this.pending.has(seq)) seq = (this.seq = (this.seq + 1) & 0xffff);
      const p: Pending = { resolve, host, timeoutMs, started: undefined, timer: undefined };
      this.pending.set(seq, p);
      if (this.ready) this.send(seq, p);
    });
  }

  private send(seq: number, p: Pending): void {
    p.started = performance.now();
    const started = p.started;
    p.timer = setTimeout(() => this.settle(seq, downResult(`no echo reply within ${p.timeoutMs} ms`, performance.now() - started)), p.timeoutMs);
    this.child?.stdin?.write(`${JSON.stringify({ seq, host: p.host })}\n`);
  }

  stop(): void {
    clearTimeout(this.startLimit);
    this.ready = false;
    this.child?.stdin?.end();
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

const client = new IcmpHelperClient();

/** PING_CHECK: one ICMP (or ICMPv6) echo request; up when the reply comes within connect_timeout. */
export async function probePing(spec: PingCheckSpec): Promise<ProbeResult> {
  if (isIP(spec.target.host) === 0) return downResult(`not an IP address: ${spec.target.host}`, 0);
  return client.echo(spec.target.host, spec.target.timeoutMs);
}

export function stopPing(): void {
  client.stop();
}
