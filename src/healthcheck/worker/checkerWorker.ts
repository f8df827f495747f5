/** The checker worker thread: the checker loop (checkerLoop.ts) on its own event loop, fed by parentPort. */
import { parentPort, workerData } from 'node:worker_threads';
import { startCheckerLoop } from './checkerLoop.js';
import type { ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('checkerWorker must run in a worker thread');

const loop = startCheckerLoop(port, (workerData as { beat?: Int32Array } | null)?.beat);
port.on('message', (msg: ToWorker) => loop.receive(msg));
