import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isIP } from 'node:net';
import type { PingCheckSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { nodeArgs, sibling } from '../worker/moduleRunner.js';

interface Pending {
  resolve: (r: ProbeResult) => void;
  started: number;
  timer: NodeJS.Timeout;
}

/** One helper process per checker worker, started on first use and restarted if it dies. */
class IcmpHelperClient {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private lastError = '';

  private ensure(): ChildProcess {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    const child = spawn(process.execPath, nodeArgs(sibling(import.meta.url, './icmpHelper')), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.lastError = d.toString().trim().split('\n').slice(-1)[0] ?? '';
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.on('exit', (code) => {
      if (this.child === child) this.child = undefined;
      for (const [seq, p] of this.pending) this.settle(seq, downResult(`ICMP helper exited (${code}): ${this.lastError}`, performance.now() - p.started));
    });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    return child;
  }

  private onLine(line: string): void {
    let msg: { seq?: number; from?: string; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.seq !== 'number' || msg.seq < 0) return;
    const p = this.pending.get(msg.seq);
    if (!p) return;
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

  echo(host: string, timeoutMs: number): Promise<ProbeResult> {
    return new Promise((resolve) => {
      const started = performance.now();
      let child: ChildProcess;
      try {
        child = this.ensure();
      } catch (err) {
        resolve(downResult(`cannot start ICMP helper: ${(err as Error).message}`, 0));
        return;
      }
      let seq = (this.seq = (this.seq + 1) & 0xffff);
      while (this.pending.has(seq)) seq = (this.seq = (this.seq + 1) & 0xffff);
      const timer = setTimeout(() => this.settle(seq, downResult(`no echo reply within ${timeoutMs} ms`, performance.now() - started)), timeoutMs);
      this.pending.set(seq, { resolve, started, timer });
      child.stdin!.write(`${JSON.stringify({ seq, host })}\n`);
    });
  }

  stop(): void {
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
