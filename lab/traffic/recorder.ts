// Runs the traffic client in the client namespace and keeps every request it reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { inNetns, sleep, waitFor } from '../exec.js';
import { REPO_ROOT } from '../paths.js';
import { parseRecordLine, type RequestRecord } from './record.js';

export interface TrafficOptions {
  netns: string;
  url: string;
  intervalMs?: number;
  timeoutMs?: number;
}

export class TrafficRecorder {
  readonly records: RequestRecord[] = [];
  /** Lines of client output that were not a RequestRecord (dropped, counted). */
  malformedLines = 0;
  private listeners: ((r: RequestRecord) => void)[] = [];

  private constructor(private readonly child: ChildProcess, private readonly exited: Promise<void>) {}

  static async start(o: TrafficOptions): Promise<TrafficRecorder> {
    const argv = inNetns(o.netns, [process.execPath, join(REPO_ROOT, 'lab', 'traffic', 'client.mjs'),
      '--url', o.url, '--interval', String(o.intervalMs ?? 100), '--timeout', String(o.timeoutMs ?? 2000)]);
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const t = new TrafficRecorder(child, exited);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const r = parseRecordLine(line);
      if (!r) {
        t.malformedLines++;
        return;
      }
      t.records.push(r);
      for (const l of t.listeners) l(r);
    });
    // Node takes a few seconds to start in the emulated VM: wait for the first report.
    const first = await waitFor(() => (t.records.length > 0 ? true : undefined), 60_000, 100);
    if (!first) {
      await t.stop();
      throw new Error('traffic client reported nothing within 60 s');
    }
    return t;
  }

  onRecord(listener: (r: RequestRecord) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Records of requests that started at or after `t`. */
  since(t: number): RequestRecord[] {
    return this.records.filter((r) => r.start >= t);
  }

  between(from: number, to: number): RequestRecord[] {
    return this.records.filter((r) => r.start >= from && r.start < to);
  }

  /** Waits until `n` requests that started at or after `t` have been reported. */
  async collect(t: number, n: number, timeoutMs = 30_000): Promise<RequestRecord[]> {
    await waitFor(() => (this.since(t).length >= n ? true : undefined), timeoutMs, 50);
    return this.since(t).slice(0, n);
  }

  /** Waits until `n` consecutive successes have started after `t` (the service is back). Returns the first of them. */
  async waitForSuccessRun(t: number, n: number, timeoutMs: number): Promise<RequestRecord | undefined> {
    return waitFor(() => {
      const rs = this.since(t).sort((a, b) => a.start - b.start);
      let run = 0;
      for (let i = 0; i < rs.length; i++) {
        run = rs[i]?.ok ? run + 1 : 0;
        if (run >= n) return rs[i - n + 1];
      }
      return undefined;
    }, timeoutMs, 50);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await Promise.race([this.exited, sleep(3000)]);
    if (this.child.exitCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
