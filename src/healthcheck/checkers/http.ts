import { createHash } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import type { Socket } from 'node:net';
import type { HttpCheckSpec, StatusRange, UrlSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { describeSocketError, openConnection } from './tcp.js';

/** A parsed HTTP response: what the checker judges. */
export interface HttpReply {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const DEFAULT_STATUS: StatusRange[] = [[200, 299]];

/** Builds the request keepalived's HTTP_GET sends (HTTP/1.0 unless http_protocol says otherwise). */
export function buildRequest(spec: HttpCheckSpec, path: string, urlVirtualHost?: string): string {
  const defaultPort = spec.type === 'SSL_GET' ? 443 : 80;
  const host = urlVirtualHost ?? spec.virtualHost ?? (spec.target.port === defaultPort ? bracket(spec.target.host) : `${bracket(spec.target.host)}:${spec.target.port}`);
  const version = spec.httpProtocol === '1.1' ? '1.1' : '1.0';
  const lines = [`GET ${path} HTTP/${version}`, 'User-Agent: KeepAliveClient', `Host: ${host}`];
  if (spec.httpProtocol === '1.0C' || spec.httpProtocol === '1.1') lines.push('Connection: close');
  if (spec.httpProtocol === '1.0K') lines.push('Connection: keep-alive');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Tells when a response is whole by its own framing (Content-Length reached, or the last chunk), so the
 * probe need not wait for the server to close the connection (it may keep it alive). Fed every chunk.
 */
export class ResponseFraming {
  private head = Buffer.alloc(0);
  private bodyStart = -1;
  private expected: number | 'chunked' | 'close' = 'close';
  private size = 0;
  private tail = Buffer.alloc(0);

  push(d: Buffer): boolean {
    this.size += d.length;
    if (this.bodyStart < 0) {
      this.head = Buffer.concat([this.head, d]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return false;
      this.bodyStart = end + 4;
      const text = this.head.subarray(0, end).toString('latin1').toLowerCase();
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(text);
      if (/\r\ntransfer-encoding:[^\r]*chunked/.test(text)) this.expected = 'chunked';
      else if (cl) this.expected = Number(cl[1]);
      this.tail = this.head.subarray(this.bodyStart);
      this.head = Buffer.alloc(0);
    } else {
      this.tail = Buffer.concat([this.tail.subarray(-8), d]);
    }
    if (typeof this.expected === 'number') return this.size - this.bodyStart >= this.expected;
    if (this.expected === 'chunked') {
      const t = this.tail.subarray(-7);
      return t.includes('\r\n0\r\n\r\n') || (this.size - this.bodyStart === 5 && t.equals(Buffer.from('0\r\n\r\n')));
    }
    return false;
  }
}

/** Parses a complete response; null if it is not HTTP. */
export function parseResponse(raw: Buffer): HttpReply | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(head[0] ?? '');
  if (!m) return null;
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  let body = raw.subarray(end + 4);
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
    const decoded = decodeChunked(body);
    if (!decoded) return null;
    body = decoded;
  } else if (headers.has('content-length')) {
    const len = Number(headers.get('content-length'));
    if (Number.isFinite(len) && len >= 0) body = body.subarray(0, len);
  }
  return { status: Number(m[1]), headers, body };
}

function decodeChunked(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', pos);
    if (eol < 0) return null;
    const size = parseInt(data.subarray(pos, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (start + size > data.length) return null;
    parts.push(data.subarray(start, start + size));
    pos = start + size + 2;
  }
}

export function statusAccepted(status: number, ranges: StatusRange[]): boolean {
  return (ranges.length ? ranges : DEFAULT_STATUS).some(([lo, hi]) => status >= lo && status <= hi);
}

function formatRanges(ranges: StatusRange[]): string {
  return (ranges.length ? ranges : DEFAULT_STATUS).map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

/** Judges one reply against one url block. Returns null when it passes, else the reason. */
export function judgeReply(reply: HttpReply, url: UrlSpec): string | null {
  if (!statusAccepted(reply.status, url.statusCodes)) {
    return `${url.path}: status ${reply.status} not in ${formatRanges(url.statusCodes)}`;
  }
  if (url.digest) {
    const digest = createHash('md5').update(reply.body).digest('hex');
    if (digest !== url.digest.toLowerCase()) return `${url.path}: digest ${digest} != ${url.digest.toLowerCase()}`;
  }
  return null;
}

/** Connects (TCP, then TLS for SSL_GET without verification, as keepalived), sends, reads to the close. */
async function fetchOnce(spec: HttpCheckSpec, url: UrlSpec, deadline: number): Promise<HttpReply | string> {
  const path = url.path;
  const tcp = await openConnection(spec.target);
  if ('error' in tcp) return tcp.error;
  let socket: Socket = tcp.socket;
  const remaining = (): number => Math.max(1, deadline - performance.now());
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (v: HttpReply | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      tcp.socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(`${path}: timeout after ${spec.target.timeoutMs} ms`), remaining());
    const onEnd = (): void => {
      const reply = parseResponse(Buffer.concat(chunks));
      finish(reply ?? `${path}: not an HTTP response`);
    };
    const framing = new ResponseFraming();
    const onData = (d: Buffer): void => {
      chunks.push(d);
      size += d.length;
      if (size > MAX_RESPONSE_BYTES) finish(`${path}: response larger than ${MAX_RESPONSE_BYTES} bytes`);
      else if (framing.push(d)) onEnd();
    };
    tcp.socket.on('error', (err: NodeJS.ErrnoException) => finish(`${path}: ${describeSocketError(err)}`));
    if (spec.type === 'SSL_GET') {
      const tls = tlsConnect({ socket: tcp.socket, rejectUnauthorized: false, servername: spec.sni });
      socket = tls;
      tls.on('error', (err: NodeJS.ErrnoException) => finish(`${path}: TLS ${describeSocketError(err)}`));
      tls.once('secureConnect', () => tls.write(buildRequest(spec, path, url.virtualHost)));
      tls.on('data', onData);
      tls.on('end', onEnd);
      tls.on('close', onEnd);
    } else {
      tcp.socket.on('data', onData);
      tcp.socket.on('end', onEnd);
      tcp.socket.on('close', onEnd);
      tcp.socket.write(buildRequest(spec, path, url.virtualHost));
    }
  });
}

/**
 * HTTP_GET / SSL_GET: every url block must answer with an accepted status (default 2xx) and, when set,
 * the MD5 digest of its body. Each url has connect_timeout for the whole exchange.
 */
export async function probeHttp(spec: HttpCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  const urls = spec.urls.length ? spec.urls : [{ path: '/', statusCodes: [] }];
  for (const url of urls) {
    const reply = await fetchOnce(spec, url, performance.now() + spec.target.timeoutMs);
    if (typeof reply === 'string') return downResult(reply, performance.now() - started);
    const verdict = judgeReply(reply, url);
    if (verdict) return downResult(verdict, performance.now() - started);
  }
  return upResult(`${urls.length} url(s) ok`, performance.now() - started);
}
