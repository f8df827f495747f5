import { spawn } from 'node:child_process';
import type { ScriptSpec } from './plan.js';

/**
 * Starts a notify script (notify_up/down, quorum_up/down) as argv, never through a shell, detached in its
 * own session. Fire and forget, as keepalived's notify_exec: the exit status is not used and the script
 * is not tied to the checker thread's life (no PR_SET_PDEATHSIG), because omega's notify_down scripts
 * start just before the checkers stop and must be allowed to finish. Returns false if it could not start.
 */
export function runNotifyScript(script: ScriptSpec, defaultUser?: { uid: number; gid: number }): boolean {
  const argv = script.argv;
  if (argv.length === 0) return false;
  const user = script.uid !== undefined ? { uid: script.uid, gid: script.gid ?? script.uid } : defaultUser;
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: 'ignore',
      uid: user?.uid,
      gid: user?.gid,
    });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
