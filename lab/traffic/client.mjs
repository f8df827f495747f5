// @ts-check
// The lab's client: runs inside the client namespace and starts one HTTP request through the VIP every
// --interval ms, each on a fresh connection (so IPVS schedules every one) and abandoned after --timeout ms
// (generous: the emulated VM stalls; outages are measured as gaps between answers, see analysis.ts).
// Prints one JSON RequestRecord (see record.ts) per line on stdout. Stops on SIGTERM or when stdin closes.
// Plain JavaScript (type-checked through JSDoc) because it must start fast in the emulated VM, where
// loading a TypeScript transpiler costs ~8 s.
//   node lab/traffic/client.mjs --url http://10.10.0.100/ --interval 100 --timeout 2000
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { url: { type: 'string' }, interval: { type: 'string', default: '100' }, timeout: { type: 'string', default: '2000' } },
});
if (!values.url) {
  process.stderr.write('usage: client.mjs --url URL [--interval MS] [--timeout MS]\n');
  process.exit(2);
}
const url = new URL(values.url);
const intervalMs = Number(values.interval);
const timeoutMs = Number(values.timeout);

/** @param {import('./record.js').RequestRecord} r */
function emit(r) {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** @param {unknown} e */
const reason = (e) => /** @type {NodeJS.ErrnoException} */ (e).code ?? String(e);

function once() {
  const start = Date.now();
  let settled = false;
  /** @param {{ ok: boolean, server?: string, error?: string }} r */
  const finish = (r) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    emit({ start, end: Date.now(), ...r });
  };
  const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => {
      if (res.statusCode === 200) finish({ ok: true, server: body.trim().split(/\s+/)[0] ?? '' });
      else finish({ ok: false, error: `HTTP ${res.statusCode}` });
    });
    res.on('error', (e) => finish({ ok: false, error: reason(e) }));
  });
  const timer = setTimeout(() => {
    finish({ ok: false, error: 'timeout' });
    req.destroy();
  }, timeoutMs);
  req.on('error', (e) => finish({ ok: false, error: reason(e) }));
  req.end();
}

const ticker = setInterval(once, intervalMs);
const stop = () => {
  clearInterval(ticker);
  setTimeout(() => process.exit(0), timeoutMs + 50).unref();
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
