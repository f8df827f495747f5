import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStatus } from './status.js';

/**
 * SIGUSR1: the full status as JSON in a file, like keepalived's SIGJSON dump. It goes to the first
 * writable of /run/tslvsd (the unit's RuntimeDirectory) and /tmp, as `tslvsd.state.json`, written to a
 * temporary name and renamed so a reader never sees half a file.
 */
export const STATE_DUMP_DIRS = ['/run/tslvsd', '/tmp'] as const;
export const STATE_DUMP_NAME = 'tslvsd.state.json';

export function writeStateDump(status: DaemonStatus, dirs: readonly string[] = STATE_DUMP_DIRS): string {
  const failures: string[] = [];
  for (const dir of dirs) {
    const path = join(dir, STATE_DUMP_NAME);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      writeFileSync(temporary, JSON.stringify(status, null, 2) + '\n', { mode: 0o640 });
      renameSync(temporary, path);
      return path;
    } catch (err) {
      failures.push(`${dir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`state dump not written: ${failures.join('; ')}`);
}
