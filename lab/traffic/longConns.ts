// Drives lab/traffic/long-conns.mjs in the client namespace: N long-lived connections through the VIP,
// each echoing a line every 100 ms; `mark()` reports each one since the previous mark.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { inNetns } from '../exec.js';
import { REPO_ROOT } from '../paths.js';

export interface LongConnReport {
  id: number;
  alive: boolean;
  /** ECONNRESET, closed, …: a dead connection stays dead. */
  error?: string;
  echoes: number;
  /** The real server of the first echo, and of the latest one (a DR flow moved to another server is reset). */
  server?: string;
  lastServer?: string;
  /** The client's local port: the flow's identity in a director's `ipvsadm -Lnc`. */
  port?: number;
  /** Longest time without an echo in the window (the client's stall). */
  maxGapMs: number;
}

export class LongConnections {
  private waiting: ((line: Record<string, unknown>) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      this.waiting.shift()?.(parsed);
    });
  }

  static async start(netns: string, host: string, port: number, intervalMs = 100): Promise<LongConnections> {
    const argv = inNetns(netns, [process.execPath, join(REPO_ROOT, 'lab', 'traffic', 'long-conns.mjs'), '--host', host, '--port', String(port), '--interval', String(intervalMs)]);
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const c = new LongConnections(child);
    await c.next(90_000);
    return c;
  }

  private next(timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('long-conns client did not answer')), timeoutMs);
      this.waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }

  async open(n: number): Promise<LongConnReport[]> {
    const answer = this.next();
    this.child.stdin?.write(`open ${n}\n`);
    return (await answer).conns as LongConnReport[];
  }

  async mark(): Promise<LongConnReport[]> {
    const answer = this.next();
    this.child.stdin?.write('mark\n');
    return (await answer).conns as LongConnReport[];
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
