import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REAPER_SOURCE } from './reaper.js';
import type { RunAs } from './runAs.js';

/**
 * The one way tslvsd starts a script (vrrp_script, notify*, MISC_CHECK, quorum_*, notify_up/down): argv
 * straight to execve, never a shell; stdin, stdout and stderr on /dev/null, as keepalived (so a script
 * that writes megabytes, reads stdin, or leaves a child holding its stdout cannot block or fail); in its
 * own process group (session), so a timeout or a stop kills whatever it started; under
 * `setpriv --pdeathsig KILL`, so the kernel kills it if the thread that started it dies, even by SIGKILL;
 * and registered with a small reaper process that kills its whole group when the pipe from us closes —
 * nothing a script started survives a `kill -9` of the daemon. One module instance per thread: the checker
 * worker and the main thread (VRRP) each have their own registry and reaper.
 */

/** After SIGTERM to a script's group, how long it gets before SIGKILL (keepalived's MISC_CHECK: 2 s). */
export const TERM_GRACE_MS = 2_000;

/**
 * setpriv (util-linux) sets PR_SET_PDEATHSIG before exec'ing the script: Node cannot call prctl itself.
 * Without setpriv the script is still in its own process group, killed on timeout and stop, and by the reaper.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface ScriptSpawnOptions {
  readonly argv: readonly string[];
  /** Run with these ids; absent = the daemon's own. */
  readonly runAs?: RunAs;
  /** SIGTERM to the group after this many ms, SIGKILL `termGraceMs` later. 0 or absent = no limit. */
  readonly timeoutMs?: number;
  readonly termGraceMs?: number;
  /**
   * What becomes of processes the script leaves in its group when it exits: `kill` (track scripts and
   * MISC_CHECK: their result is in, anything left is a leak) or `keep` (notify scripts, as keepalived:
   * they may start things meant to outlive them).
   */
  readonly leftovers: 'kill' | 'keep';
  /** Aborting ends the script like a timeout (SIGTERM to the group, SIGKILL after the grace). */
  readonly signal?: AbortSignal;
}

export interface ScriptExit {
  /** Exit status; null when killed by a signal or not started. setpriv reports a missing script as 127, one that cannot be executed as 126. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Set when the process could not be started at all. */
  readonly error?: string;
  readonly durationMs: number;
}

/** Process groups of scripts still running (pgid = the script's pid). */
const running = new Set<number>();

let reaper: ChildProcess | undefined;

/** Starts the reaper ahead of the first script (at start, when the config has scripts), so it is listening by the time one runs. */
export function startReaper(): void {
  tellReaper('');
}

/** Tells the reaper process about a group (see reaper.ts); started on first use, restarted if it died. */
function tellReaper(line: string): void {
  if (!reaper || reaper.exitCode !== null || reaper.signalCode !== null) {
    try {
      reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], { stdio: ['pipe', 'ignore', 'ignore'] });
      reaper.on('error', () => {});
      reaper.stdin?.on('error', () => {});
      reaper.unref();
      // Its stdin must not keep the event loop alive either.
      (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      reaper = undefined;
      return;
    }
    for (const pgid of running) reaper.stdin?.write(`+${pgid}\n`);
  }
  if (line) reaper.stdin?.write(`${line}\n`);
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGKILLs every script group still running in this thread and lets the reaper go (checker stop). */
export function killAllScripts(): void {
  for (const pgid of running) killGroup(pgid, 'SIGKILL');
  running.clear();
  reaper?.stdin?.end();
  reaper = undefined;
}

/** How many scripts of this thread are running (tests, status). */
export function runningScripts(): number {
  return running.size;
}

/** Runs one script to its end (or its timeout / abort). Never rejects. */
export function runScriptProcess(options: ScriptSpawnOptions): Promise<ScriptExit> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const [program, ...rest] = options.argv;
  if (!program) return Promise.resolve({ code: null, signal: null, timedOut: false, aborted: false, error: 'empty command', durationMs: 0 });
  if (options.signal?.aborted) return Promise.resolve({ code: null, signal: null, timedOut: false, aborted: true, error: 'not started: stopping', durationMs: 0 });
  const [file, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', program, ...rest]] : [program, rest];
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        detached: true, // setsid(): its own process group, so the whole group can be killed
        stdio: 'ignore',
        uid: options.runAs?.uid,
        gid: options.runAs?.gid,
        windowsHide: true,
      });
    } catch (err) {
      resolve({ code: null, signal: null, timedOut: false, aborted: false, error: (err as Error).message, durationMs: elapsed() });
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) {
      running.add(pid);
      tellReaper(`+${pid}`);
    }
    let timedOut = false;
    let aborted = false;
    let termTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const terminate = (): void => {
      if (pid === undefined || killTimer !== undefined) return;
      killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), options.termGraceMs ?? TERM_GRACE_MS);
    };
    if (options.timeoutMs) {
      termTimer = setTimeout(() => {
        timedOut = true;
        terminate();
      }, options.timeoutMs);
    }
    const onAbort = (): void => {
      aborted = true;
      terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (exit: Omit<ScriptExit, 'durationMs' | 'timedOut' | 'aborted'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        // A script that ended by timeout or abort, or whose leftovers are a leak, takes its group along.
        if (options.leftovers === 'kill' || timedOut || aborted) killGroup(pid, 'SIGKILL');
        running.delete(pid);
        tellReaper(`-${pid}`);
      }
      resolve({ ...exit, timedOut, aborted, durationMs: elapsed() });
    };
    child.on('error', (err) => finish({ code: null, signal: null, error: err.message }));
    child.on('exit', (code, signal) => finish({ code, signal }));
  });
}

