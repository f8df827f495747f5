/**
 * Reads a track_file as keepalived does (open O_RDONLY|O_NONBLOCK, so a FIFO cannot block; the first 127
 * bytes; a missing or unreadable file reads as 0). The VRRP watcher and FILE_CHECK both use it.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { parseTrackFileValue } from './value.js';

/** The number in the file now; undefined = the file holds an invalid number (keep the previous value). */
export function readTrackFile(file: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return 0;
  }
  try {
    const buf = Buffer.alloc(127);
    const n = readSync(fd, buf, 0, buf.length, null);
    return parseTrackFileValue(buf.subarray(0, n).toString('latin1'));
  } catch {
    return 0;
  } finally {
    closeSync(fd);
  }
}
