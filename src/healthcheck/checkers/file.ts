import { readTrackFile } from '../../trackFile/read.js';
import { fileCheckVerdict } from '../core/fileCheck.js';
import type { FileCheckSpec } from '../plan.js';
import type { ProbeResult } from '../result.js';

/**
 * FILE_CHECK's probe: one read of the track file (tiny, non-blocking open), judged by the core. A file
 * holding an invalid number reads as 0 here (keepalived keeps the previous value; a probe has none).
 */
export function probeFile(spec: FileCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  const value = readTrackFile(spec.path) ?? 0;
  const verdict = fileCheckVerdict(value, spec.weight, spec.weightReverse, spec.configuredWeight);
  const durationMs = performance.now() - started;
  return Promise.resolve(verdict.up ? { up: true, reason: verdict.reason, durationMs, weight: verdict.weight } : { up: false, reason: verdict.reason, durationMs });
}
