import type { ScriptSpec } from './plan.js';
import { runScriptProcess } from '../scripts/scriptProcess.js';
import { settleScripts } from '../scripts/settle.js';

/**
 * At stop, how long notify scripts (omega's notify_down / quorum_down, started just before) get to finish
 * before their process groups are ended (SIGTERM, SIGKILL `NOTIFY_TERM_GRACE_MS` later). The same bound
 * as the VRRP side's notify_stop.
 */
export const NOTIFY_STOP_GRACE_MS = 2_000;
export const NOTIFY_TERM_GRACE_MS = 1_000;

const pending = new Set<Promise<unknown>>();
let stopping = new AbortController();

/**
 * Starts a notify script (notify_up/down, quorum_up/down) through the shared script spawner
 * (src/scripts/scriptProcess.ts: argv, never a shell; stdio on /dev/null; own process group; killed if
 * the daemon dies). Fire and forget, as keepalived's notify_exec: the exit status is not used and what it
 * starts may outlive it. Returns false if it was not started (no command, or its user did not resolve).
 */
export function runNotifyScript(script: ScriptSpec): boolean {
  if (script.argv.length === 0) return false;
  if (script.runAs && 'refused' in script.runAs) return false;
  const run = runScriptProcess({
    argv: script.argv,
    ...(script.runAs ? { runAs: script.runAs } : {}),
    leftovers: 'keep',
    termGraceMs: NOTIFY_TERM_GRACE_MS,
    signal: stopping.signal,
  }).finally(() => pending.delete(run));
  pending.add(run);
  return true;
}

/** The checks stop: notify scripts still running get NOTIFY_STOP_GRACE_MS, then their groups are ended. */
export async function stopNotifyScripts(graceMs = NOTIFY_STOP_GRACE_MS): Promise<void> {
  const controller = stopping;
  stopping = new AbortController();
  await settleScripts(pending, controller, graceMs, NOTIFY_TERM_GRACE_MS + 500);
}
