import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ScriptSpec } from './plan.js';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * Starts a notify script (notify_up/down, quorum_up/down) as argv, never through a shell, detached in its
 * own process group, dying with the thread that started it when setpriv is available (PR_SET_PDEATHSIG).
 * Fire and forget: the exit status is not used, as in keepalived. Returns false if it could not start.
 */
export function runNotifyScript(script: ScriptSpec, defaultUser?: { uid: number; gid: number }): boolean {
  const argv = script.argv;
  if (argv.length === 0) return false;
  const user = script.uid !== undefined ? { uid: script.uid, gid: script.gid ?? script.uid } : defaultUser;
  const [file, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...argv]] : [argv[0]!, argv.slice(1)];
  try {
    const child = spawn(file, args, {
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
