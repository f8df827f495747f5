/**
 * One notify FIFO, the edge (keepalived's lib/notify.c fifo_open / fifo_close, made safer). The FIFO is
 * created when missing (mode 0644, chowned to its configured owner) and opened O_RDWR | O_NONBLOCK |
 * O_NOFOLLOW as keepalived does: holding the read end ourselves means the open never waits for a reader,
 * a write never gets EPIPE/ENXIO when the reader goes away, and a reader that comes (back) later reads
 * the lines from the kernel's pipe buffer in order — nothing to reopen.
 *
 * What keepalived does not: a write never blocks the caller (the VRRP loop) and a line is never torn.
 * When the pipe is full (reader slow or absent: EAGAIN) lines wait in a bounded queue, retried every
 * `retryMs`, in order; past `maxQueuedLines` the oldest queued line is dropped and counted (keepalived
 * drops every line written while the pipe is full, silently). A path that exists but is not a FIFO is
 * refused (keepalived would append to a regular file).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, constants, fstatSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Clock, TimerHandle } from '../util/clock.js';

export interface FifoWriterOptions {
  readonly clock: Clock;
  /** Lines kept while the pipe is full (default 1024). */
  readonly maxQueuedLines?: number;
  /** How often a full pipe is retried (default 100 ms). */
  readonly retryMs?: number;
  /** Owner of a FIFO we create; absent = ours. */
  readonly owner?: { uid: number; gid: number };
  /** mkfifo(1): Node has no mkfifo(2). Replaceable for tests. */
  readonly makeFifo?: (path: string) => void;
}

export interface FifoWriterCounters {
  linesWritten: number;
  /** Lines lost: dropped from a full queue, or failed with an error other than EAGAIN. */
  linesDropped: number;
  /** Times the pipe was found full (a line had to wait). */
  pipeFull: number;
}

export class FifoOpenError extends Error {}

function makeFifoWithMkfifo(path: string): void {
  // argv, no shell; `--` so a path cannot be taken for an option.
  execFileSync('mkfifo', ['-m', '0644', '--', path], { stdio: 'ignore', timeout: 5000 });
}

export class NotifyFifoWriter {
  readonly counters: FifoWriterCounters = { linesWritten: 0, linesDropped: 0, pipeFull: 0 };
  private readonly queue: Buffer[] = [];
  private timer: TimerHandle | undefined;
  private fd: number | undefined;
  private readonly maxQueued: number;

  private constructor(
    readonly path: string,
    fd: number,
    /** We made the FIFO: it is removed at close (first, so a reader looping on reopen cannot reopen it). */
    readonly created: boolean,
    private readonly options: FifoWriterOptions,
  ) {
    this.fd = fd;
    this.maxQueued = options.maxQueuedLines ?? 1024;
  }

  /** Creates the FIFO if it does not exist, then opens it. Throws FifoOpenError with a sentence. */
  static open(path: string, options: FifoWriterOptions): NotifyFifoWriter {
    let created = false;
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(path);
    } catch {
      existing = undefined;
    }
    if (existing && !existing.isFIFO()) throw new FifoOpenError(`${path} exists and is not a FIFO`);
    if (!existing) {
      try {
        (options.makeFifo ?? makeFifoWithMkfifo)(path);
        created = true;
      } catch (err) {
        throw new FifoOpenError(`cannot create FIFO ${path}: ${(err as Error).message}`);
      }
      if (options.owner) {
        try {
          chownSync(path, options.owner.uid, options.owner.gid);
        } catch (err) {
          unlinkQuietly(path);
          throw new FifoOpenError(`cannot give FIFO ${path} to ${options.owner.uid}:${options.owner.gid}: ${(err as Error).message}`);
        }
      }
    }
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (err) {
      if (created) unlinkQuietly(path);
      throw new FifoOpenError(`cannot open FIFO ${path}: ${(err as Error).message}`);
    }
    if (!fstatSync(fd).isFIFO()) {
      // Replaced between the lstat and the open.
      closeSync(fd);
      throw new FifoOpenError(`${path} is not a FIFO`);
    }
    return new NotifyFifoWriter(path, fd, created, options);
  }

  /** Queued lines waiting for room in the pipe. */
  get queued(): number {
    return this.queue.length;
  }

  /** Writes one line now if the pipe has room, else queues it (in order). Never blocks, never throws. */
  write(line: string): void {
    if (this.fd === undefined) return;
    this.queue.push(Buffer.from(line));
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.counters.linesDropped++;
    }
    if (this.timer === undefined) this.flush();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.fd !== undefined) {
      const head = this.queue[0]!;
      let written: number;
      try {
        written = writeSync(this.fd, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.counters.pipeFull++;
          this.armRetry();
          return;
        }
        // Anything else will not get better by retrying this line.
        this.queue.shift();
        this.counters.linesDropped++;
        continue;
      }
      if (written < head.length) {
        // Only a line longer than PIPE_BUF can be split; the rest goes first next time.
        this.queue[0] = head.subarray(written);
        this.armRetry();
        return;
      }
      this.queue.shift();
      this.counters.linesWritten++;
    }
  }

  private armRetry(): void {
    this.timer = this.options.clock.setTimer(this.options.retryMs ?? 100, () => {
      this.timer = undefined;
      this.flush();
    });
  }

  /** Removes the FIFO if we made it, then closes it: a reader gets the lines already written, then EOF. */
  close(): void {
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.created) unlinkQuietly(this.path);
    if (this.fd !== undefined) {
      // One last try for what is queued; the rest is counted as dropped.
      this.flush();
      this.counters.linesDropped += this.queue.length;
      this.queue.length = 0;
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
