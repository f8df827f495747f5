import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Runs track and notify scripts as keepalived does, minus the shell: argv straight to execve, optionally
 * as another user (script_user), killed at the timeout. Never throws: a script that cannot start is a
 * failed script.
 */
export interface ScriptInvocation {
  argv: readonly string[];
  /** Run as this user (name or numeric uid); group defaults to the user's primary group. */
  user?: string;
  group?: string;
  /** Kill the script after this many ms (SIGKILL, as keepalived). 0 = no limit. */
  timeoutMs?: number;
}

export interface ScriptOutcome {
  /** Exit status; null when killed by a signal or when it could not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** Set when the script could not be started (ENOENT, EACCES, unknown user). */
  error?: string;
}

export type ScriptRunner = (invocation: ScriptInvocation) => Promise<ScriptOutcome>;

export function runScript(invocation: ScriptInvocation): Promise<ScriptOutcome> {
  const [file, ...args] = invocation.argv;
  if (!file) return Promise.resolve({ exitCode: null, timedOut: false, error: 'empty command' });
  let ids: { uid?: number; gid?: number };
  try {
    ids = resolveIds(invocation.user, invocation.group);
  } catch (error) {
    return Promise.resolve({ exitCode: null, timedOut: false, error: (error as Error).message });
  }
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { ...ids, timeout: invocation.timeoutMs ?? 0, killSignal: 'SIGKILL', maxBuffer: 1 << 20, windowsHide: true },
      (error) => {
        if (!error) return resolve({ exitCode: 0, timedOut: false });
        const err = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number };
        if (typeof err.code === 'number') return resolve({ exitCode: err.code, timedOut: false });
        if (err.killed && invocation.timeoutMs) return resolve({ exitCode: null, timedOut: true });
        if (err.signal) return resolve({ exitCode: null, timedOut: false, error: `killed by ${err.signal}` });
        resolve({ exitCode: null, timedOut: false, error: err.message });
      },
    );
  });
}

/** user/group names → numeric ids from /etc/passwd and /etc/group (Node has no getpwnam). */
function resolveIds(user: string | undefined, group: string | undefined): { uid?: number; gid?: number } {
  if (user === undefined) return {};
  const ids: { uid?: number; gid?: number } = {};
  if (/^\d+$/.test(user)) {
    ids.uid = Number(user);
  } else {
    const entry = readDatabase('/etc/passwd').find((fields) => fields[0] === user);
    if (!entry) throw new Error(`unknown user ${user}`);
    ids.uid = Number(entry[2]);
    ids.gid = Number(entry[3]);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) ids.gid = Number(group);
    else {
      const entry = readDatabase('/etc/group').find((fields) => fields[0] === group);
      if (!entry) throw new Error(`unknown group ${group}`);
      ids.gid = Number(entry[2]);
    }
  }
  return ids;
}

function readDatabase(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(':'));
}
