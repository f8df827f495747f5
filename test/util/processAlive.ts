import { readFileSync } from 'node:fs';

/**
 * Is a process still running? A zombie is not: this machine's PID 1 reaps orphans seconds late, so a killed
 * leftover stays visible to kill(pid, 0) (and in /proc) as state Z long after it died.
 */
export function processAlive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}
