import { resolveScriptRunAs } from '../../scripts/runAs.js';
import { runScriptProcess } from '../../scripts/scriptProcess.js';
import { daemonIds, systemUserDatabase } from '../../scripts/userDatabase.js';

/**
 * Runs track and notify scripts as keepalived does, minus the shell, through the shared script spawner
 * (src/scripts/scriptProcess.ts: argv straight to execve, stdio on /dev/null, own process group, killed
 * with the daemon), as the user the shared rule resolves (src/scripts/runAs.ts). Never throws: a script
 * that cannot start, or whose user does not resolve, is a failed script and never runs as root instead.
 */
export interface ScriptInvocation {
  argv: readonly string[];
  /** The script's own user, else the global script_user (as written); absent = keepalived's default. */
  user?: string;
  group?: string;
  /** SIGTERM to the script's group after this many ms, SIGKILL 1 s later. 0 = no limit. */
  timeoutMs?: number;
  /** Track scripts: what they leave behind dies with them. Notify scripts (`keep`) may start lasting things. */
  leftovers?: 'kill' | 'keep';
  /** Aborted when the owner stops: SIGTERM to the group, SIGKILL 1 s later. */
  signal?: AbortSignal;
}

export interface ScriptOutcome {
  /** Exit status; null when killed by a signal or when it could not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** Set when the script could not be started (unknown user) or was killed other than by its timeout. */
  error?: string;
}

export type ScriptRunner = (invocation: ScriptInvocation) => Promise<ScriptOutcome>;

/** SIGTERM → SIGKILL for VRRP scripts (keepalived gives children 1 s at shutdown). */
const TERM_GRACE_MS = 1_000;

export async function runScript(invocation: ScriptInvocation): Promise<ScriptOutcome> {
  if (invocation.argv.length === 0) return { exitCode: null, timedOut: false, error: 'empty command' };
  const written = invocation.user !== undefined ? { user: invocation.user, ...(invocation.group !== undefined ? { group: invocation.group } : {}) } : {};
  const identity = resolveScriptRunAs(written, undefined, systemUserDatabase(), daemonIds());
  if (!identity.ok) return { exitCode: null, timedOut: false, error: `not run: ${identity.error}` };
  const exit = await runScriptProcess({
    argv: invocation.argv,
    // The daemon's own identity needs no setuid (and no setgroups): pass ids only for another user.
    ...(identity.source !== 'daemon' ? { runAs: identity.runAs } : {}),
    timeoutMs: invocation.timeoutMs ?? 0,
    termGraceMs: TERM_GRACE_MS,
    leftovers: invocation.leftovers ?? 'kill',
    ...(invocation.signal ? { signal: invocation.signal } : {}),
  });
  if (exit.error !== undefined) return { exitCode: null, timedOut: false, error: exit.error };
  if (exit.timedOut) return { exitCode: null, timedOut: true };
  if (exit.aborted) return { exitCode: exit.code, timedOut: false, error: 'ended: stopping' };
  if (exit.code === null) return { exitCode: null, timedOut: false, error: `killed by ${exit.signal ?? 'a signal'}` };
  return { exitCode: exit.code, timedOut: false };
}
