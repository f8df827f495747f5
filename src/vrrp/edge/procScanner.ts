/**
 * The edge of vrrp_track_process: counts the processes each pattern matches by polling /proc.
 *
 * keepalived 2.2.7 listens on the kernel's proc connector (NETLINK_CONNECTOR, CN_IDX_PROC), which the kernel
 * only serves in the initial network namespace, so keepalived in a namespace never sees a fork or an exit.
 * Polling works in any namespace (it only needs the pid namespace's /proc) at the price of a detection
 * delay of up to one period (default 1000 ms). One pass serves every pattern; reads are asynchronous and
 * done in small batches so a host with thousands of processes never holds the VRRP loop for long.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { matchesProcess, needsCmdline, type ProcessPattern, type ProcessSample } from '../../trackProcess/match.js';

export interface TrackProcessWatch {
  /** The count from a synchronous scan at the start (so an instance does not start in FAULT). */
  readonly initialCount: number;
  close(): void;
}

export interface ProcScannerOptions {
  /** Poll period (default 1000 ms). */
  periodMs?: number;
  /** /proc (a fake tree in tests). */
  procRoot?: string;
  /** Processes read concurrently per batch (default 32). */
  batch?: number;
}

interface Watcher {
  pattern: ProcessPattern;
  onCount: (count: number) => void;
  last: number;
}

const PID = /^[0-9]+$/;

function parseSample(comm: string, cmdline: string | undefined): ProcessSample {
  const argv = cmdline === undefined || cmdline === '' ? [] : cmdline.replace(/\0$/, '').split('\0');
  return { comm: comm.replace(/\n$/, ''), argv };
}

export class ProcScanner {
  private readonly watchers = new Set<Watcher>();
  private readonly periodMs: number;
  private readonly root: string;
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;

  constructor(options: ProcScannerOptions = {}) {
    this.periodMs = options.periodMs ?? 1000;
    this.root = options.procRoot ?? '/proc';
    this.batch = options.batch ?? 32;
  }

  track(pattern: ProcessPattern, onCount: (count: number) => void): TrackProcessWatch {
    const w: Watcher = { pattern, onCount, last: this.countNowSync(pattern) };
    this.watchers.add(w);
    if (!this.timer) {
      this.timer = setInterval(() => void this.scan(), this.periodMs);
      this.timer.unref();
    }
    return {
      initialCount: w.last,
      close: () => {
        this.watchers.delete(w);
        if (this.watchers.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  /** One synchronous pass for one pattern (start and reload only). */
  private countNowSync(pattern: ProcessPattern): number {
    let count = 0;
    let pids: string[];
    try {
      pids = readdirSync(this.root).filter((n) => PID.test(n));
    } catch {
      return 0;
    }
    for (const pid of pids) {
      try {
        const comm = readFileSync(`${this.root}/${pid}/comm`, 'utf8');
        const cmdline = needsCmdline(pattern) ? readFileSync(`${this.root}/${pid}/cmdline`, 'utf8') : undefined;
        if (matchesProcess(pattern, parseSample(comm, cmdline))) count++;
      } catch {
        // the process exited between readdir and read
      }
    }
    return count;
  }

  /** One asynchronous pass for every pattern; a pass still running when the next is due is not overlapped. */
  async scan(): Promise<void> {
    if (this.scanning || this.watchers.size === 0) return;
    this.scanning = true;
    try {
      const watchers = [...this.watchers];
      const wantCmdline = watchers.some((w) => needsCmdline(w.pattern));
      const counts = new Map<Watcher, number>(watchers.map((w) => [w, 0]));
      let pids: string[];
      try {
        pids = (await readdir(this.root)).filter((n) => PID.test(n));
      } catch {
        pids = [];
      }
      for (let i = 0; i < pids.length; i += this.batch) {
        const samples = await Promise.all(
          pids.slice(i, i + this.batch).map(async (pid): Promise<ProcessSample | undefined> => {
            try {
              const comm = await readFile(`${this.root}/${pid}/comm`, 'utf8');
              const cmdline = wantCmdline ? await readFile(`${this.root}/${pid}/cmdline`, 'utf8') : undefined;
              return parseSample(comm, cmdline);
            } catch {
              return undefined; // exited meanwhile
            }
          }),
        );
        for (const s of samples) {
          if (!s) continue;
          for (const w of watchers) if (matchesProcess(w.pattern, s)) counts.set(w, counts.get(w)! + 1);
        }
      }
      for (const [w, count] of counts) {
        if (!this.watchers.has(w)) continue;
        // Every pass is reported, not only changes: the core's delays count from the first pass out of quorum.
        w.last = count;
        w.onCount(count);
      }
    } finally {
      this.scanning = false;
    }
  }
}
