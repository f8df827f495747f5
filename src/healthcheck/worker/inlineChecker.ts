/**
 * The checker loop on the main thread (see placement.ts for when): the same loop and messages as the
 * worker thread, delivered through this thread's queue (setImmediate, in order, never re-entrant), so the
 * service treats both alike. Messages are not cloned: plans and events are plain data nobody mutates.
 * The loop and its checkers are imported when the first inline checker starts (loadCheckerLoop), so that a
 * daemon whose checks run in a worker does not carry them on its main thread too.
 */
import { EventEmitter } from 'node:events';
import { threadId } from 'node:worker_threads';
import type * as CheckerLoopModule from './checkerLoop.js';
import type { CheckerLoop } from './checkerLoop.js';
import type { FromWorker, ToWorker } from './protocol.js';

let checkerLoopModule: Promise<typeof CheckerLoopModule> | undefined;

/**
 * The loop's modules, imported once for the process. Under emulation this is seconds of compiling on the
 * main thread, some of it synchronous (node:tls and node:http behind the checkers): the daemon awaits it
 * (HealthCheckService.loaded) before VRRP starts, so that no master's adverts wait behind it.
 */
export function loadCheckerLoop(): Promise<typeof CheckerLoopModule> {
  checkerLoopModule ??= import('./checkerLoop.js').then(
    (m) => {
      checkerLoopReady = true;
      return m;
    },
    (err: unknown) => {
      checkerLoopModule = undefined; // the next checker tries again
      throw err;
    },
  );
  return checkerLoopModule;
}

let checkerLoopReady = false;

/** Whether the loop's modules are loaded on this thread: checks moved onto it then wait for no loading. */
export function checkerLoopLoaded(): boolean {
  return checkerLoopReady;
}

export class InlineChecker extends EventEmitter<{ message: [FromWorker]; error: [Error]; exit: [number] }> {
  /** The thread it runs on: this one. */
  readonly threadId = threadId;
  private loop: CheckerLoop | undefined;
  /** Messages sent while the loop's modules load. */
  private readonly queued: ToWorker[] = [];
  private closed = false;

  constructor(beat: Int32Array) {
    super();
    loadCheckerLoop().then(({ startCheckerLoop }) => {
      if (this.closed) return;
      this.loop = startCheckerLoop({
        postMessage: (m) => {
          if (!this.closed) setImmediate(() => this.emit('message', m));
        },
        close: () => this.end(0),
      }, beat);
      for (const m of this.queued.splice(0)) this.deliver(m);
    }, (err: unknown) => this.fail(err));
  }

  postMessage(message: ToWorker): void {
    if (!this.loop) this.queued.push(message);
    else setImmediate(() => this.deliver(message));
  }

  private deliver(message: ToWorker): void {
    if (this.closed || !this.loop) return;
    try {
      this.loop.receive(message);
    } catch (err) {
      this.fail(err);
    }
  }

  /** What a worker's uncaught exception does: reported, the loop ended (the service restarts it). */
  private fail(err: unknown): void {
    if (this.closed) return;
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
    this.end(1);
    this.loop?.abandon();
  }

  /** As Worker.terminate: the loop ends at once, without omega scripts; resolves with the exit code. */
  terminate(): Promise<number> {
    if (this.closed) return Promise.resolve(1);
    return new Promise((resolve) => {
      this.once('exit', resolve);
      this.end(1); // first: the loop's close below would otherwise end it with 0
      this.loop?.abandon();
    });
  }

  private end(code: number): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.emit('exit', code));
  }
}
