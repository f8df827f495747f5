/**
 * PING_CHECK's helper process. The raw-socket addon is not safe in worker threads (closing its socket in
 * a worker crashes Node), so ICMP lives in this small child of the checker worker: it reads
 * `{"seq":N,"host":"a.b.c.d"}` lines on stdin, sends echo requests on a raw socket (ICMP, or ICMPv6 for
 * IPv6 hosts), and writes
 * `{"seq":N,"from":"a.b.c.d"}` for each matching echo reply or `{"seq":N,"error":"..."}`. It exits when
 * stdin closes, which is how it never outlives the daemon, even one killed with SIGKILL.
 */
import { createInterface } from 'node:readline';
import raw from '@neuralegion/raw-socket';
import { isIPv6 } from 'node:net';
import { decodeEcho6Reply, decodeEchoReply, encodeEcho6Request, encodeEchoRequest } from './icmpEcho.js';

const ident = process.pid & 0xffff;
const socket = raw.createSocket({ protocol: raw.Protocol.ICMP });
/** ICMPv6 socket, opened on the first IPv6 target. */
let socket6: ReturnType<typeof raw.createSocket> | undefined;

function v6(): ReturnType<typeof raw.createSocket> {
  if (socket6) return socket6;
  const s = raw.createSocket({ protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 });
  s.on('message', (buffer: Buffer, source: string) => {
    const reply = decodeEcho6Reply(buffer);
    if (reply && reply.id === ident) write({ seq: reply.seq, from: source });
  });
  s.on('error', (err: Error) => write({ seq: -1, error: err.message }));
  socket6 = s;
  return s;
}

function write(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

socket.on('message', (buffer: Buffer) => {
  const reply = decodeEchoReply(buffer);
  if (reply && reply.id === ident) write({ seq: reply.seq, from: reply.from });
});
socket.on('error', (err: Error) => write({ seq: -1, error: err.message }));

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let req: { seq?: unknown; host?: unknown };
  try {
    req = JSON.parse(line) as { seq?: unknown; host?: unknown };
  } catch {
    return; // malformed request: dropped
  }
  if (typeof req.seq !== 'number' || typeof req.host !== 'string') return;
  const seq = req.seq;
  const six = isIPv6(req.host);
  const packet = six ? encodeEcho6Request(ident, seq) : encodeEchoRequest(ident, seq);
  (six ? v6() : socket).send(packet, 0, packet.length, req.host, (err: Error | null) => {
    if (err) write({ seq, error: err.message });
  });
});
lines.on('close', () => process.exit(0));
write({ seq: -1, ready: true });
