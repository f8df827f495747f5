import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Why a directory could not be made: `dir` is the level that failed, `code` the errno name. */
export class MakeDirectoryError extends Error {
  override readonly name = 'MakeDirectoryError';
  constructor(readonly dir: string, readonly code: string, message: string) {
    super(message);
  }
}

const codeOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));

/**
 * mkdir -p, one level at a time. Not mkdirSync(…, { recursive: true }): under /proc that call never returns
 * (Node 20 retries the kernel's ENOENT forever, spinning a core and deaf to SIGTERM).
 */
export function makeDirectory(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(d).isDirectory();
    } catch (err) {
      if (codeOf(err) !== 'ENOENT' || dirname(d) === d) throw new MakeDirectoryError(d, codeOf(err), `cannot use the directory ${d} (${codeOf(err)})`);
      missing.unshift(d);
      continue;
    }
    if (!isDirectory) throw new MakeDirectoryError(d, 'ENOTDIR', `${d} is not a directory`);
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, mode === undefined ? undefined : { mode });
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw new MakeDirectoryError(d, codeOf(err), `cannot create the directory ${d} (${codeOf(err)})`);
    }
  }
}
