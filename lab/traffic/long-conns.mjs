// N long-lived TCP connections through the VIP, each sending a numbered line every --interval ms and
// expecting it back (lab/traffic/echo-server.mjs). Commands on stdin, one JSON answer line on stdout each:
//   open N   — opens N more connections (answer when all are echoing or failed)
//   mark     — reports every connection since the previous mark: alive, error, echoes, longest gap
//              between two echoes (ms), then starts a new window
// A connection that is reset or closed stays dead (reported with its error): nothing reconnects.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/** @type {Record<string, string>} */
const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const host = args.host;
const port = Number(args.port ?? 7);
const intervalMs = Number(args.interval ?? 100);
/** @typedef {{ id: number, alive: boolean, error: string | undefined, echoes: number, lastEcho: number, maxGap: number, sent: number, server: string | undefined, lastServer: string | undefined, port: number | undefined }} Conn */
/** @type {Conn[]} */
const conns = [];
const now = () => Date.now();

function openOne() {
  /** @type {Conn} */
  const c = { id: conns.length, alive: false, error: undefined, echoes: 0, lastEcho: 0, maxGap: 0, sent: 0, server: undefined, lastServer: undefined, port: undefined };
  conns.push(c);
  return /** @type {Promise<void>} */ (new Promise((resolve) => {
    const s = connect({ host, port });
    s.setNoDelay(true);
    let pending = '';
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    s.on('connect', () => {
      c.alive = true;
      c.port = s.localPort;
      c.lastEcho = now();
      timer = setInterval(() => s.write(`${c.id} ${c.sent++}\n`), intervalMs);
    });
    s.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const t = now();
        c.maxGap = Math.max(c.maxGap, t - c.lastEcho);
        c.lastEcho = t;
        c.echoes++;
        c.server ??= line.split(' ')[0];
        c.lastServer = line.split(' ')[0];
        if (c.echoes === 1) resolve();
      }
    });
    /** @param {string} why */
    const dead = (why) => {
      if (c.error === undefined) c.error = why;
      c.alive = false;
      clearInterval(timer);
      resolve();
    };
    s.on('error', (e) => dead(/** @type {NodeJS.ErrnoException} */ (e).code ?? e.message));
    s.on('close', () => dead('closed'));
  }));
}

function report() {
  const t = now();
  const out = conns.map((c) => ({ id: c.id, alive: c.alive, error: c.error, echoes: c.echoes, server: c.server, lastServer: c.lastServer, port: c.port, maxGapMs: Math.max(c.maxGap, c.alive ? t - c.lastEcho : 0) }));
  for (const c of conns) c.maxGap = 0;
  return out;
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, n] = line.trim().split(/\s+/);
  if (cmd === 'open') {
    await Promise.all(Array.from({ length: Number(n) }, openOne));
    process.stdout.write(JSON.stringify({ opened: Number(n), conns: report() }) + '\n');
  } else if (cmd === 'mark') process.stdout.write(JSON.stringify({ conns: report() }) + '\n');
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
