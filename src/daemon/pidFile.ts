import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirectory } from '../util/makeDirectory.js';

/** The pid file cannot be written; the message is the one sentence the operator reads. */
export class PidFileError extends Error {
  override readonly name = 'PidFileError';
}

/**
 * `--pid-file PATH`: written once the daemon knows it is the only one (status socket bound) and before the
 * parts start, removed at stop — only if it still holds our pid, so a second instance that took it over is
 * not robbed of it. Throws PidFileError with one sentence when the file cannot be written.
 */
export function writePidFile(path: string, pid: number = process.pid): void {
  try {
    makeDirectory(dirname(path));
    writeFileSync(path, `${pid}\n`, { mode: 0o644 });
  } catch (err) {
    const why = err instanceof Error && err.name === 'MakeDirectoryError' ? err.message : `cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    throw new PidFileError(`--pid-file ${path}: ${why}`);
  }
}

export function removePidFile(path: string, pid: number = process.pid): boolean {
  try {
    if (readFileSync(path, 'utf8').trim() !== String(pid)) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
