/**
 * How the config compiler reads files: a narrow interface so the pure core never touches `node:fs`.
 * `nodeFileSource.ts` is the real edge; `MemoryFileSource` serves tests and the fuzzer.
 */
export interface FileSource {
  /**
   * The text of a regular file, decoded as UTF-8 (invalid bytes become U+FFFD), of at most `maxBytes + 1`
   * bytes when `maxBytes` is given (so the caller sees the file is too large without reading all of it).
   * Throws NotRegularFileError for anything else (a FIFO, a device such as /dev/zero, a directory, a
   * socket) without blocking on it, FileTooLargeError (or the text cut at `maxBytes + 1`) for a file larger
   * than `maxBytes`, and an Error saying why for the rest (ENOENT, EACCES, …).
   */
  readText(path: string, maxBytes?: number): string;
  /** Names (not paths) of the entries of a directory, or undefined when it cannot be listed. */
  listDir(path: string): string[] | undefined;
}

export type NonRegularKind = 'directory' | 'FIFO' | 'character device' | 'block device' | 'socket' | 'special file';

/** The path names something that is not a regular file: it is never read (a FIFO would block forever). */
export class NotRegularFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: NonRegularKind,
  ) {
    super(`${path} is a ${kind}, not a regular file`);
  }
}

/**
 * The file says it is larger than the caller's limit: refused without reading it (16 MiB of a log file
 * named by mistake would only be decoded to be thrown away). Files whose size is unknown (/proc) are read,
 * bounded, and the caller sees the length.
 */
export class FileTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly size: number,
  ) {
    super(`${path} is ${size} bytes`);
  }
}

/** Pure path helpers for POSIX paths (no node:path, to keep the core free of Node modules). */
export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  if (name.startsWith('/')) return normalizePath(name);
  if (dir === '' || dir === '.') return normalizePath(name);
  return normalizePath(dir.endsWith('/') ? dir + name : `${dir}/${name}`);
}

/** Removes `.` and `..` segments and doubled slashes, so one file has one name (for include-loop checks). */
export function normalizePath(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg !== '..' || !absolute) out.push(seg);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined === '' ? '.' : joined;
}

/** A non-regular entry of a MemoryFileSource (tests: a FIFO or a device in place of a file). */
export interface SpecialEntry {
  readonly special: Exclude<NonRegularKind, 'directory'>;
}

/**
 * An in-memory tree of files keyed by absolute or relative path; directories are implied by the paths.
 * Sizes are counted in UTF-16 units (the tests' files are ASCII).
 */
export class MemoryFileSource implements FileSource {
  private readonly files: Map<string, string | SpecialEntry>;

  constructor(files: Record<string, string | SpecialEntry>) {
    this.files = new Map(Object.entries(files));
  }

  readText(path: string, maxBytes?: number): string {
    const entry = this.files.get(path);
    if (entry === undefined) {
      if (this.listDir(path) !== undefined) throw new NotRegularFileError(path, 'directory');
      throw new Error(`ENOENT: no such file: ${path}`);
    }
    if (typeof entry !== 'string') throw new NotRegularFileError(path, entry.special);
    return maxBytes === undefined ? entry : entry.slice(0, maxBytes + 1);
  }

  listDir(path: string): string[] | undefined {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = new Set<string>();
    for (const p of this.files.keys()) {
      const rel = path === '.' && !p.startsWith('/') ? p : p.startsWith(prefix) ? p.slice(prefix.length) : undefined;
      if (rel === undefined || rel === '') continue;
      names.add(rel.split('/')[0]);
    }
    return names.size === 0 ? undefined : [...names].sort();
  }
}
