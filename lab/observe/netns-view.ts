// A window into a namespace without starting processes: a sentinel `sleep` lives in it, and
// /proc/<sentinel>/net/* shows that namespace's tables.
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { inNetns, waitFor } from '../exec.js';
import { signal } from '../directors/process.js';

export class NetnsView {
  private constructor(readonly netns: string, private readonly pid: number) {}

  static async open(netns: string): Promise<NetnsView> {
    const [file, ...args] = inNetns(netns, ['sleep', 'infinity']);
    const child = spawn(file as string, args, { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error(`cannot start a sentinel in ${netns}`);
    const pid = child.pid;
    // `ip netns exec` switches namespace before it execs sleep: wait until /proc shows sleep.
    const ready = await waitFor(async () => {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
      return comm.trim() === 'sleep' ? true : undefined;
    }, 10_000, 20);
    if (!ready) throw new Error(`sentinel in ${netns} did not start`);
    return new NetnsView(netns, pid);
  }

  /** Text of /proc/net/<name> as seen from this namespace ('' when unreadable, e.g. no IPVS). */
  async read(name: 'fib_trie' | 'arp' | 'tcp' | 'tcp6' | 'ip_vs'): Promise<string> {
    return readFile(`/proc/${this.pid}/net/${name}`, 'utf8').catch(() => '');
  }

  close(): void {
    signal(this.pid, 'SIGKILL');
  }
}
