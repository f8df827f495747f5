import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `--pid-file PATH`: written after start-up, removed at stop — only if it still holds our pid, so a
 * second instance that took it over is not robbed of it.
 */
export function writePidFile(path: string, pid: number = process.pid): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${pid}\n`, { mode: 0o644 });
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
