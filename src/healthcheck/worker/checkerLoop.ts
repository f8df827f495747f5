/**
 * The checker loop: the health-check engine with the real probes, driven by messages (protocol.ts). It runs
 * in the checker worker thread (checkerWorker.ts), so that thousands of sockets, TLS handshakes and scripts
 * never delay the VRRP adverts on the main thread, or — for a config whose checks are all native TCP
 * watches and few enough (placement.ts) — on the main thread itself (inlineChecker.ts), where it saves the
 * worker's V8 isolate. Either way the other side only receives batched state changes, heartbeats and
 * snapshots on request.
 */
import { SystemClock } from '../../util/clock.js';
import { HealthCheckEngine } from '../core/engine.js';
import { prepareProbes, realProbes, stopProbes } from '../checkers/index.js';
import { runNotifyScript, stopNotifyScripts } from '../scripts.js';
import type { HealthEvent } from '../events.js';
import { encodeSnapshot } from './snapshotCodec.js';
import { HEARTBEAT_INTERVAL_MS, type FromWorker, type ToWorker } from './protocol.js';

/** The loop's side of the channel: a worker's parentPort, or the inline checker's in-thread queue. */
export interface CheckerLoopPort {
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
  close(): void;
}

export interface CheckerLoop {
  /** Handles one message from the service. */
  receive(msg: ToWorker): void;
  /** Ends the loop as a crash would: no omega scripts, the probes' sockets and helpers closed. */
  abandon(): void;
}

// Changes are batched per turn of the loop, in messages of at most EVENTS_PER_MESSAGE: a burst (start-up
// of 10,000 servers, a switch failing) reaches the main thread as several small messages, a turn of this
// loop apart, rather than one big clone that would hold the VRRP loop for tens of milliseconds.
const EVENTS_PER_MESSAGE = 500;
const CHECK_TIMER_GRID_MS = 10;

/**
 * Starts a loop that answers on `port`; `beat` (shared memory) is bumped with every heartbeat for the
 * service's watchdog (see Slot.beat in service.ts).
 */
export function startCheckerLoop(port: CheckerLoopPort, beat: Int32Array | undefined): CheckerLoop {
  const post = (m: FromWorker): void => port.postMessage(m);
  const batch: HealthEvent[] = [];
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

  // The message is for tests that listen; the watchdog reads the beat.
  const heartbeat = setInterval(() => {
    if (beat) Atomics.add(beat, 0, 1);
    post({ type: 'heartbeat' });
  }, HEARTBEAT_INTERVAL_MS);
  let ended = false;

  return {
    receive(msg: ToWorker): void {
      if (ended) return;
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
          port.postMessage({ type: 'snapshot', id: msg.id, snapshot }, [snapshot.vs.buffer as ArrayBuffer, snapshot.rs.buffer as ArrayBuffer, snapshot.ck.buffer as ArrayBuffer]);
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
          ended = true;
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
    },
    abandon(): void {
      if (ended) return;
      ended = true;
      engine.abandon();
      clearInterval(heartbeat);
      batch.length = 0;
      stopProbes();
      port.close();
    },
  };
}
