import type { ConfigModel } from '../config/model.js';
import type { ConfigDiff } from './configDiff.js';

/**
 * One runtime part of the daemon (VRRP, health checks, IPVS), as the lifecycle sees it. Each room's
 * service is adapted to this in the composition root; the lifecycle never knows what is inside.
 */
export interface DaemonPart {
  readonly name: string;
  start(model: ConfigModel): Promise<void>;
  /**
   * Apply a validated new config. Only what the diff names may change: instances matched by interface +
   * VRID keep their state, unchanged real servers keep their health, untouched IPVS entries stay.
   */
  reload(next: ConfigModel, diff: ConfigDiff): Promise<void>;
  /** Release what it holds (VRRP: priority 0 and VIPs; IPVS: its entries unless told to keep them). */
  stop(): Promise<void>;
}

/** The result of compiling a configuration file: a model, or located diagnostics (`FILE:LINE: error: …`). */
export type CompileOutcome = { ok: true; model: ConfigModel; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

/**
 * Compiles the configuration for a reload. `signal` aborts it (the daemon is stopping): it then resolves
 * soon with a failed outcome.
 */
export type ConfigCompiler = (file: string, signal?: AbortSignal) => Promise<CompileOutcome>;
