// A real server: `busybox httpd` in its namespace serving a page that names the server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnInNetns, signal } from './directors/process.js';
import { sleep, waitFor } from './exec.js';

export class RealServer {
  private httpd: { pid: number; exited: Promise<void>; child: ChildProcess } | undefined;
  private readonly docRoot: string;

  constructor(readonly name: string, readonly netns: string, readonly address: string, private readonly workDir: string,
    /** Whether something listens on port 80 in the server's namespace. */
    private readonly listening: () => Promise<boolean>) {
    this.docRoot = join(workDir, `${name}-www`);
    mkdirSync(this.docRoot, { recursive: true });
    writeFileSync(join(this.docRoot, 'index.html'), `${name}\n`);
  }

  get running(): boolean {
    return this.httpd !== undefined;
  }

  /** Starts httpd and waits until it listens. */
  async start(): Promise<void> {
    if (this.httpd) return;
    this.httpd = spawnInNetns(this.netns, ['busybox', 'httpd', '-f', '-p', '80', '-h', this.docRoot], join(this.workDir, `${this.name}-httpd.log`));
    const up = await waitFor(async () => ((await this.listening()) ? true : undefined), 10_000, 50);
    if (!up) throw new Error(`${this.name}: httpd did not start listening (log: ${this.workDir})`);
  }

  /** The HTTP server dies (SIGKILL): connections to port 80 are refused from now on. */
  async kill(): Promise<void> {
    const h = this.httpd;
    if (!h) return;
    this.httpd = undefined;
    signal(h.pid, 'SIGKILL');
    await Promise.race([h.exited, sleep(5000)]);
  }
}
