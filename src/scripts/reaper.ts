/**
 * The script reaper: a tiny child process of the checker worker that knows the process groups of the
 * MISC_CHECK scripts currently running (`+PGID` / `-PGID` lines on stdin). When its stdin closes — the
 * worker stopped, or the daemon died, even by SIGKILL — it SIGKILLs every group it still knows and exits.
 * PR_SET_PDEATHSIG (setpriv) covers the script itself; this covers what the script started.
 */
import { createInterface } from 'node:readline';

const groups = new Set<number>();

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) return;
    if (line[0] === '+') groups.add(pgid);
    else if (line[0] === '-') groups.delete(pgid);
  })
  .on('close', () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    process.exit(0);
  });

// Never die of the signals meant for the daemon's terminal or session: only stdin closing ends the reaper.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => {});
