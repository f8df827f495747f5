/**
 * The script reaper: a tiny child process (one per thread that runs scripts) that knows the process
 * groups of the scripts currently running (`+PGID` / `-PGID` lines on its stdin). When its stdin closes —
 * the thread stopped, or the daemon died, even by SIGKILL — or its parent changes (the daemon died and it
 * was re-parented: checked every 500 ms), it SIGKILLs every group it still knows and exits. PR_SET_PDEATHSIG (setpriv) covers the script itself; this covers what the script started.
 *
 * It is plain JavaScript run with `node -e`, with no loader and no import: it starts in tens of
 * milliseconds, from dist/ and from the TypeScript sources alike, so the window in which a script runs
 * before its reaper listens stays small. It never dies of the signals meant for the daemon's terminal or
 * session: only its stdin closing ends it.
 */
export const REAPER_SOURCE = `
const groups = new Set();
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line[0] === '+') groups.add(pgid);
    else if (line[0] === '-') groups.delete(pgid);
  }
});
const reap = () => {
  for (const pgid of groups) {
    try { process.kill(-pgid, 'SIGKILL'); } catch {}
  }
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
// Belt and braces: the parent's death also shows as a new parent (re-parented to a subreaper or init),
// whether or not the end of our stdin closed (a process that inherited the daemon's end would hold it).
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) reap(); }, 500);
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGPIPE']) process.on(signal, () => {});
`;
