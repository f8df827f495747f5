import type { HealthCheckPlan } from '../plan.js';
import type { HealthEvent } from '../events.js';
import type { CompactSnapshot } from './snapshotCodec.js';

/** Messages from the main thread to the checker worker. */
export type ToWorker =
  | { type: 'start'; plan: HealthCheckPlan; prior: Array<[string, Array<[string, boolean]>]> }
  | { type: 'reload'; plan: HealthCheckPlan }
  | { type: 'snapshot'; id: number }
  | { type: 'stop' }
  /** Diagnostics: block the worker's loop for ms, as a runaway checker would (the watchdog's test). */
  | { type: 'stall'; ms: number };

/** Messages from the checker worker to the main thread. */
export type FromWorker =
  | { type: 'events'; events: HealthEvent[] }
  | { type: 'snapshot'; id: number; snapshot: CompactSnapshot }
  | { type: 'heartbeat' }
  | { type: 'stopped' };

export const HEARTBEAT_INTERVAL_MS = 1_000;
