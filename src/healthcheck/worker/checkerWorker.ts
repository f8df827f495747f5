/**
 * The checker thread: runs the health-check engine on its own event loop with the real probes, so that
 * thousands of sockets, TLS handshakes and scripts never delay the VRRP adverts on the main thread. The
 * main thread only receives batched state changes, heartbeats and snapshots on request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../../util/clock.js';
import { HealthCheckEngine } from '../core/engine.js';
import { prepareProbes, realProbes, stopProbes } from '../checkers/index.js';
import { runNotifyScript, stopNotifyScripts } from '../scripts.js';
import type { HealthEvent } from '../events.js';
import { encodeSnapshot } from './snapshotCodec.js';
import { HEARTBEAT_INTERVAL_MS, type FromWorker, type ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('checkerWorker must run in a worker thread');

const post = (m: FromWorker): void => port.postMessage(m);

// Changes are batched per turn of the loop, in messages of at most EVENTS_PER_MESSAGE: a burst (start-up
// of 10,000 servers, a switch failing) reaches the main thread as several small messages, a turn of this
// loop apart, rather than one big clone that would hold the VRRP loop for tens of milliseconds.
const EVENTS_PER_MESSAGE = 500;
const batch: HealthEvent[] = [];
const CHECK_TIMER_GRID_MS = 10;
const flush = (): void => {
  const events = batch.splice(0, EVENTS_PER_MESSAGE);
  if (events.length) post({ type: 'events', events });
  if (batch.length) setImmediate(flush);
};

const engine = new HealthCheckEngine({
  clock: new SystemClock(),
  random: Math.random,
  probes: realProbes,
  scripts: { run: (script) => runNotifyScript(script) },
  // Checks due within 10 ms of each other start in one wake-up of this loop (and their native results
  // come back in one batch): thousands of checks a second cost tens of wake-ups, not thousands.
  timerGridMs: CHECK_TIMER_GRID_MS,
  onEvent: (e) => {
    if (batch.length === 0) setImmediate(flush);
    batch.push(e);
  },
});

// The beat in shared memory is what the watchdog reads (see Slot.beat in service.ts); the message is for
// a main thread that cannot share memory with it (none today) and for tests that listen.
const beat = (workerData as { beat?: Int32Array } | null)?.beat;
const heartbeat = setInterval(() => {
  if (beat) Atomics.add(beat, 0, 1);
  post({ type: 'heartbeat' });
}, HEARTBEAT_INTERVAL_MS);

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'start':
      prepareProbes(msg.plan);
      engine.start(msg.plan, new Map(msg.prior.map(([vs, list]) => [vs, new Map(list)])));
      break;
    case 'reload':
      prepareProbes(msg.plan);
      engine.reload(msg.plan);
      break;
    case 'snapshot': {
      const snapshot = encodeSnapshot(engine.snapshot());
      port.postMessage({ type: 'snapshot', id: msg.id, snapshot } satisfies FromWorker, [snapshot.vs.buffer as ArrayBuffer, snapshot.rs.buffer as ArrayBuffer, snapshot.ck.buffer as ArrayBuffer]);
      break;
    }
    case 'stall': {
      const until = performance.now() + msg.ms;
      while (performance.now() < until) {
        // Busy on purpose: nothing else on this loop runs, heartbeats included.
      }
      break;
    }
    case 'stop':
      engine.stop();
      clearInterval(heartbeat);
      while (batch.length) flush();
      // omega's notify scripts have just started: they get a bounded grace, then the probes' helpers go.
      void stopNotifyScripts().finally(() => {
        stopProbes();
        post({ type: 'stopped' });
        port.close();
      });
      break;
  }
});
