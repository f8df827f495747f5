import type { MiscCheckSpec } from '../plan.js';
import { downResult, type ProbeResult } from '../result.js';
import { killAllScripts, runScriptProcess, startReaper, TERM_GRACE_MS } from '../../scripts/scriptProcess.js';

export { killAllScripts, startReaper, TERM_GRACE_MS };

/** Interprets an exit as keepalived's check_misc.c does. */
export function judgeExit(spec: MiscCheckSpec, code: number | null, signal: NodeJS.Signals | null, timedOut: boolean, ms: number): ProbeResult {
  if (timedOut) return downResult(`timed out after ${spec.timeoutMs} ms`, ms);
  if (code === null) return downResult(`killed by ${signal ?? 'a signal'}`, ms);
  if (code === 0) return { up: true, reason: 'exit 0', durationMs: ms, weight: null };
  if (spec.dynamic && code >= 2 && code <= 255) return { up: true, reason: `exit ${code}`, durationMs: ms, weight: code - 2 };
  return downResult(`exit ${code}`, ms);
}

/**
 * MISC_CHECK: runs misc_path as argv (no shell), as its resolved user, through the shared script spawner
 * (src/scripts/scriptProcess.ts: stdio on /dev/null, own process group, pdeathsig + reaper); on
 * misc_timeout the whole group gets SIGTERM, then SIGKILL after 2 s; what the script leaves behind is
 * killed when it exits. Exit 0 = up (weight restored), 1 = down, 2–255 with misc_dynamic = up with
 * weight code − 2. A script whose user could not be resolved is not run: down.
 */
export async function probeMisc(spec: MiscCheckSpec): Promise<ProbeResult> {
  if (spec.argv.length === 0) return downResult('misc_path is empty', 0);
  if (spec.runAs && 'refused' in spec.runAs) return downResult(`not run: ${spec.runAs.refused}`, 0);
  const exit = await runScriptProcess({
    argv: spec.argv,
    ...(spec.runAs ? { runAs: spec.runAs } : {}),
    timeoutMs: spec.timeoutMs,
    termGraceMs: TERM_GRACE_MS,
    leftovers: 'kill',
  });
  if (exit.error !== undefined) return downResult(`cannot run ${spec.argv[0]}: ${exit.error}`, exit.durationMs);
  return judgeExit(spec, exit.code, exit.signal, exit.timedOut, exit.durationMs);
}
