import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { nativeAddon } from '../net/nativeAddon.js';
import { makeDirectory } from '../util/makeDirectory.js';

/** The pid file cannot be written; the message is the one sentence the operator reads. */
export class PidFileError extends Error {
  override readonly name: string = 'PidFileError';
}

/** Another daemon holds the pid file's lock: keepalived's "daemon is already running". */
export class DaemonAlreadyRunningError extends PidFileError {
  override readonly name = 'DaemonAlreadyRunningError';
}

/** A pid file this process holds locked; `release()` removes it (if it is still ours) and drops the lock. */
export interface PidFileLock {
  readonly path: string;
  release(): void;
}

/** How a pid file is locked: the addon's F_OFD_SETLK by default; tests may hand in another. */
export type LockFd = (fd: number) => boolean;

const nativeLock: LockFd = (fd) => {
  const addon = nativeAddon();
  // An addon built before lockFile existed: say what to do rather than "is not a function".
  if (typeof addon.lockFile !== 'function') throw Object.assign(new Error('lockFile'), { code: 'the native addon predates lockFile: rebuild it with node-gyp rebuild' });
  return addon.lockFile(fd);
};

/**
 * Pid files are locks, as keepalived's (core/pidfile.c create_pidfile): open without following a symlink,
 * take an open-file-description write lock without waiting — held → DaemonAlreadyRunningError, whatever
 * the file says — check that the path still names the file we locked (else a racing daemon replaced it:
 * retry), then truncate and write our pid. The lock is the kernel's, tied to the descriptor (O_CLOEXEC, so
 * no script inherits it): a `kill -9` releases it, and the stale file it leaves is simply taken over by
 * the next start. An F_OFD lock is the one keepalived takes, so keepalived and tslvsd refuse each
 * other's pid file too. `option` names the flag in messages (`--pid-file`, `-r`).
 */
export function lockPidFile(path: string, option: string, pid: number = process.pid, lock: LockFd = nativeLock): PidFileLock {
  try {
    makeDirectory(dirname(path));
  } catch (err) {
    throw new PidFileError(`${option} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (let attempt = 0; attempt < 10; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
    } catch (err) {
      throw new PidFileError(`${option} ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    let locked: boolean;
    try {
      locked = lock(fd);
    } catch (err) {
      closeSync(fd);
      throw new PidFileError(`${option} ${path}: cannot lock it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!locked) {
      closeSync(fd);
      throw new DaemonAlreadyRunningError(`daemon is already running (${option} ${path} is locked${holderOf(path)})`);
    }
    const held = fstatSync(fd);
    let named;
    try {
      named = statSync(path);
    } catch {
      named = undefined;
    }
    if (named === undefined || named.ino !== held.ino || named.dev !== held.dev) {
      closeSync(fd); // removed or replaced between open and lock: lock what the path names now
      continue;
    }
    try {
      ftruncateSync(fd, 0);
      writeSync(fd, `${pid}\n`, 0);
    } catch (err) {
      closeSync(fd);
      throw new PidFileError(`${option} ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    return { path, release: () => releasePidFile(path, fd, held.ino, held.dev) };
  }
  throw new PidFileError(`${option} ${path}: the file kept being replaced while it was being locked`);
}

/** ` by pid N` when the file names a pid, for the refusal's sentence. */
function holderOf(path: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^[0-9]+$/.test(text) ? ` by pid ${text}` : '';
  } catch {
    return '';
  }
}

/** Removes the file only while the path still names the file we hold (another daemon's is not ours). */
function releasePidFile(path: string, fd: number, ino: number, dev: number): void {
  try {
    const named = statSync(path);
    if (named.ino === ino && named.dev === dev) unlinkSync(path);
  } catch {
    // already gone
  }
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
