import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * Starts a notify script (notify_up/down, quorum_up/down) as argv, never through a shell, detached in its
 * own process group, dying with the thread that started it when setpriv is available (PR_SET_PDEATHSIG).
 * Fire and forget: the exit status is not used, as in keepalived. Returns false if it could not start.
 */
export function runNotifyScript(argv: string[], user?: { uid: number; gid: number }): boolean {
  if (argv.length === 0) return false;
  const [file, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...argv]] : [argv[0]!, argv.slice(1)];
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: 'ignore',
      uid: user?.uid,
      gid: user?.gid,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
