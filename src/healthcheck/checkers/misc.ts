import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { MiscCheckSpec } from '../plan.js';
import { downResult, type ProbeResult } from '../result.js';
import { nodeArgs, sibling } from '../worker/moduleRunner.js';

/** After SIGTERM, how long the script's process group gets before SIGKILL (keepalived: 2 s). */
export const TERM_GRACE_MS = 2_000;

/**
 * setpriv (util-linux) sets PR_SET_PDEATHSIG before exec'ing the script: if the thread that spawned it
 * (the checker worker) or the daemon dies, even by SIGKILL, the kernel kills the script. Node cannot call
 * prctl itself. Without setpriv the script is still in its own process group and killed on timeout/stop.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Process groups of scripts still running, so stop() can kill them all. */
const running = new Set<number>();

let reaper: ChildProcess | undefined;

/**
 * Starts the reaper ahead of the first script (the checker worker does this at start when the plan has
 * MISC_CHECKs), so it is up and listening by the time a script runs.
 */
export function startReaper(): void {
  tellReaper('');
}

/** Tells the reaper process about a group (see reaper.ts); started on first use. */
function tellReaper(line: string): void {
  if (!reaper || reaper.exitCode !== null || reaper.signalCode !== null) {
    try {
      reaper = spawn(process.execPath, nodeArgs(sibling(import.meta.url, './reaper')), { stdio: ['pipe', 'ignore', 'ignore'] });
      reaper.on('error', () => {});
      reaper.stdin?.on('error', () => {});
      reaper.unref();
      // Its stdin must not keep the worker's loop alive either.
      (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      reaper = undefined;
      return;
    }
    for (const pgid of running) reaper.stdin?.write(`+${pgid}\n`);
  }
  if (line) reaper.stdin?.write(`${line}\n`);
}

export function killAllScripts(): void {
  for (const pgid of running) killGroup(pgid, 'SIGKILL');
  running.clear();
  reaper?.stdin?.end();
  reaper = undefined;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** Interprets an exit as keepalived's check_misc.c does. */
export function judgeExit(spec: MiscCheckSpec, code: number | null, signal: NodeJS.Signals | null, timedOut: boolean, ms: number): ProbeResult {
  if (timedOut) return downResult(`timed out after ${spec.timeoutMs} ms`, ms);
  if (code === null) return downResult(`killed by ${signal ?? 'a signal'}`, ms);
  if (code === 0) return { up: true, reason: 'exit 0', durationMs: ms, weight: null };
  if (spec.dynamic && code >= 2 && code <= 255) return { up: true, reason: `exit ${code}`, durationMs: ms, weight: code - 2 };
  return downResult(`exit ${code}`, ms);
}

/**
 * MISC_CHECK: runs misc_path as argv (no shell), as script_user, in its own process group; on
 * misc_timeout the whole group gets SIGTERM, then SIGKILL after 2 s. Exit 0 = up (weight restored),
 * 1 = down, 2–255 with misc_dynamic = up with weight code − 2.
 */
export function probeMisc(spec: MiscCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (spec.argv.length === 0) {
      resolve(downResult('misc_path is empty', 0));
      return;
    }
    const [file, args] = SETPRIV
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...spec.argv]]
      : [spec.argv[0]!, spec.argv.slice(1)];
    let timedOut = false;
    let child;
    try {
      child = spawn(file, args, {
        detached: true, // own process group: the timeout kills the script and everything it started
        stdio: 'ignore',
        uid: spec.uid,
        gid: spec.gid,
      });
    } catch (err) {
      resolve(downResult(`cannot run ${spec.argv[0]}: ${(err as Error).message}`, performance.now() - started));
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) {
      running.add(pid);
      tellReaper(`+${pid}`);
    }
    let killTimer: NodeJS.Timeout | undefined;
    const termTimer = setTimeout(() => {
      if (pid === undefined) return;
      timedOut = true;
      killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), TERM_GRACE_MS);
    }, spec.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      if (pid !== undefined) {
        running.delete(pid);
        tellReaper(`-${pid}`);
      }
      resolve(downResult(`cannot run ${spec.argv[0]}: ${err.message}`, performance.now() - started));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      if (pid !== undefined) {
        // Whatever the script left behind in its group goes with it.
        killGroup(pid, 'SIGKILL');
        running.delete(pid);
        tellReaper(`-${pid}`);
      }
      // setpriv reports a missing script as 127 / 126, like a shell would.
      resolve(judgeExit(spec, code, signal, timedOut, performance.now() - started));
    });
  });
}
