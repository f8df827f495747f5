/**
 * How the config compiler reads files: a narrow interface so the pure core never touches `node:fs`.
 * `nodeFileSource.ts` is the real edge; `MemoryFileSource` serves tests and the fuzzer.
 */
export interface FileSource {
  /** The file's text; throws an Error whose message says why (ENOENT, EACCES, is a directory, …). */
  readText(path: string): string;
  /** Names (not paths) of the entries of a directory, or undefined when it cannot be listed. */
  listDir(path: string): string[] | undefined;
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

/** An in-memory tree of files keyed by absolute or relative path; directories are implied by the paths. */
export class MemoryFileSource implements FileSource {
  private readonly files: Map<string, string>;

  constructor(files: Record<string, string>) {
    this.files = new Map(Object.entries(files));
  }

  readText(path: string): string {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`ENOENT: no such file: ${path}`);
    return text;
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
