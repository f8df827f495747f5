import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs';
import { FileTooLargeError, type FileSource, type NonRegularKind, NotRegularFileError } from './fileSource.js';

/**
 * The real file system behind the compiler's FileSource (the only fs user of src/config/). A path is
 * stat()ed before it is opened and fstat()ed after (opened O_NONBLOCK, so a FIFO swapped in between cannot
 * block): only regular files are read, never more than the compiler's byte limit (+1, to see "too large").
 */
export class NodeFileSource implements FileSource {
  readText(path: string, maxBytes?: number): string {
    refuseNonRegular(path, statSync(path));
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      const stats = fstatSync(fd);
      refuseNonRegular(path, stats);
      if (maxBytes !== undefined && stats.size > maxBytes) throw new FileTooLargeError(path, stats.size);
      // /proc and /sys files report a size of 0 or 4096 whatever they hold: read until EOF, bounded.
      const limit = maxBytes === undefined ? Number.MAX_SAFE_INTEGER : maxBytes + 1;
      const chunks: Buffer[] = [];
      let total = 0;
      while (total < limit) {
        const chunk = Buffer.allocUnsafe(Math.min(limit - total, Math.max(65_536, Math.min(stats.size + 1, 16 << 20))));
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
        total += n;
      }
      return Buffer.concat(chunks, total).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  listDir(path: string): string[] | undefined {
    try {
      return readdirSync(path).sort();
    } catch {
      return undefined;
    }
  }
}

function refuseNonRegular(path: string, stats: Stats): void {
  if (stats.isFile()) return;
  const kind: NonRegularKind = stats.isDirectory() ? 'directory'
    : stats.isFIFO() ? 'FIFO'
      : stats.isCharacterDevice() ? 'character device'
        : stats.isBlockDevice() ? 'block device'
          : stats.isSocket() ? 'socket'
            : 'special file';
  throw new NotRegularFileError(path, kind);
}
