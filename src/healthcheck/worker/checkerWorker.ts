/** The checker worker thread: the checker loop (checkerLoop.ts) on its own event loop, fed by parentPort. */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { startCheckerLoop } from './checkerLoop.js';
import { CHECKER_THREAD_NICE } from './checkerThreadNice.js';
import type { ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('checkerWorker must run in a worker thread');

interface CheckerWorkerData {
  beat?: Int32Array;
  /** checker_priority, when the config sets one. */
  nice?: number;
}
const data = (workerData ?? {}) as CheckerWorkerData;

// The thread runs at checker_priority, else CHECKER_THREAD_NICE (why: checkerThreadNice.ts);
// TSLVSD_CHECKER_NICE=N sets another over both (0: the process's own), for comparison.
const asked = Number.parseInt(process.env.TSLVSD_CHECKER_NICE ?? '', 10);
try {
  setPriority(0, Number.isInteger(asked) ? asked : (data.nice ?? CHECKER_THREAD_NICE));
} catch {
  // Not allowed (a nice already above it, a seccomp filter): the checks still run, at the process's.
}

const loop = startCheckerLoop(port, data.beat);
port.on('message', (msg: ToWorker) => loop.receive(msg));
