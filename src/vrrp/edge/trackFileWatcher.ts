/**
 * The edge of track_file: reads the file as keepalived does (open O_RDONLY|O_NONBLOCK, the first 127
 * bytes, a missing or unreadable file reads as 0; the number itself is parsed by the core) and watches
 * it: fs.watch on its directory (inotify, as keepalived's IN_CLOSE_WRITE|IN_DELETE|IN_MOVE), plus a
 * periodic re-read as a safety net for what inotify cannot see (a directory replaced, a missed event,
 * a file on a network file system).
 */
import { lstatSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { readTrackFile } from '../../trackFile/read.js';

export { readTrackFile };

export interface TrackFileWatch {
  /** The value read at start. */
  readonly initialValue: number;
  close(): void;
}

export interface TrackFileWatchOptions {
  /** Re-read period (default 1000 ms). */
  rereadMs?: number;
  /** Called once per distinct problem (an invalid number, no watch on the directory). */
  onTrouble?: (message: string) => void;
}

export function watchTrackFile(file: string, onValue: (value: number) => void, options: TrackFileWatchOptions = {}): TrackFileWatch {
  let last = readTrackFile(file) ?? 0;
  let lastTrouble = '';
  const trouble = (message: string): void => {
    if (message !== lastTrouble) options.onTrouble?.(message);
    lastTrouble = message;
  };
  const check = (): void => {
    const value = readTrackFile(file);
    if (value === undefined) {
      trouble(`track file ${file}: not a valid number; keeping ${last}`);
      return;
    }
    lastTrouble = '';
    if (value === last) return;
    last = value;
    onValue(value);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (name === null || name === path.basename(file)) check();
    });
    watcher.on('error', () => trouble(`track file ${file}: directory watch failed; re-reading every ${options.rereadMs ?? 1000} ms`));
  } catch (err) {
    trouble(`track file ${file}: cannot watch its directory (${(err as Error).message}); re-reading every ${options.rereadMs ?? 1000} ms`);
  }
  const timer = setInterval(check, options.rereadMs ?? 1000);
  timer.unref();
  return {
    initialValue: last,
    close: () => {
      clearInterval(timer);
      watcher?.close();
    },
  };
}

/**
 * `init_file [VALUE] [overwrite]`: writes "VALUE\n" to a missing track file, or with `overwrite` to an
 * existing regular file too (keepalived's track_file_end_handler). Never follows into a non-regular file.
 */
export function initialiseTrackFiles(
  files: readonly { name: string; path: string; init?: { value: number; overwrite: boolean } | undefined }[],
  onTrouble: (message: string) => void,
): void {
  for (const f of files) {
    if (!f.init) continue;
    let exists: boolean;
    try {
      const st = lstatSync(f.path);
      exists = true;
      if (!f.init.overwrite) continue;
      if (!st.isFile()) {
        onTrouble(`track_file ${f.name}: cannot initialise ${f.path}: not a regular file`);
        continue;
      }
    } catch {
      exists = false;
    }
    try {
      writeFileSync(f.path, `${f.init.value}\n`, { flag: exists ? 'w' : 'wx', mode: 0o644 });
    } catch (err) {
      onTrouble(`track_file ${f.name}: cannot initialise ${f.path}: ${(err as Error).message}`);
    }
  }
}
