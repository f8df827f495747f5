import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Socket } from 'node:net';
import type { HttpCheckSpec, StatusRange, TlsClientMaterial, UrlSpec } from '../plan.js';
import { compileBodyRegex, judgeBody } from './bodyRegex.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { HttpResponseReader, type HttpReply, type HttpResponseLimits } from './httpResponse.js';
import { describeSocketError, openConnection } from './tcp.js';
import { armVerdictTimer } from './verdictTimer.js';

export type { HttpReply } from './httpResponse.js';

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
    // A body cut at the cap has no digest: it cannot be said to match.
    if (reply.digest === undefined) return `${url.path}: ${reply.cut ?? 'no body'}, digest not checked`;
    if (reply.digest !== url.digest.toLowerCase()) return `${url.path}: digest ${reply.digest} != ${url.digest.toLowerCase()}`;
  }
  if (url.regex) {
    const verdict = judgeBody(compileBodyRegex(url.regex.pattern, url.regex.flags), url.regex, reply.body ?? Buffer.alloc(0), reply.cut === undefined);
    if (verdict) return `${url.path}: ${verdict}`;
  }
  return null;
}

/**
 * The TLS options of an SSL_GET: SNI; the SSL block's certificate and key, presented when the server asks;
 * with a `ca`, the server's certificate must chain to it (the name in it is not checked: the checker connects
 * to an address). Without a `ca` nothing is verified, as keepalived.
 */
export function tlsOptions(material: TlsClientMaterial | undefined, sni: string | undefined): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: false, servername: sni };
  if (!material || 'unreadable' in material) return options;
  if (material.cert !== undefined) options.cert = material.cert;
  if (material.key !== undefined) options.key = material.key;
  if (material.passphrase !== undefined) options.passphrase = material.passphrase;
  if (material.ca !== undefined) {
    options.ca = material.ca;
    options.rejectUnauthorized = true;
    options.checkServerIdentity = () => undefined;
  }
  return options;
}

/**
 * Connects (TCP, then TLS for SSL_GET, see tlsOptions), sends, reads to the end of the
 * response (its framing, or the close) — or to the body cap, where it stops reading and closes.
 */
async function fetchOnce(spec: HttpCheckSpec, url: UrlSpec, deadline: number, limits: Partial<HttpResponseLimits>): Promise<HttpReply | string> {
  const path = url.path;
  const tcp = await openConnection(spec.target);
  if ('error' in tcp) return tcp.error;
  let socket: Socket = tcp.socket;
  const remaining = (): number => Math.max(1, deadline - performance.now());
  return new Promise((resolve) => {
    let settled = false;
    const reader = new HttpResponseReader(url.digest !== undefined, limits, url.regex !== undefined);
    const finish = (v: HttpReply | string): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      socket.destroy();
      tcp.socket.destroy();
      resolve(v);
    };
    const timer = armVerdictTimer(remaining(), () => finish(`${path}: timeout after ${spec.target.timeoutMs} ms`));
    const settle = (outcome: ReturnType<HttpResponseReader['push']>): void => {
      if (outcome.kind === 'reply') finish(outcome.reply);
      else if (outcome.kind === 'error') finish(`${path}: ${outcome.reason}`);
    };
    const onEnd = (): void => {
      if (!settled) settle(reader.end());
    };
    const onData = (d: Buffer): void => {
      if (!settled) settle(reader.push(d));
    };
    tcp.socket.on('error', (err: NodeJS.ErrnoException) => finish(`${path}: ${describeSocketError(err)}`));
    if (spec.type === 'SSL_GET') {
      let tls;
      try {
        tls = tlsConnect({ ...tlsOptions(spec.tls, spec.sni), socket: tcp.socket });
      } catch (err) {
        // A key that does not open (wrong password) or does not fit the certificate.
        finish(`${path}: TLS client context: ${(err as Error).message}`);
        return;
      }
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
 * the MD5 digest of its body and its regex (both, when both are set, as keepalived). All urls are fetched
 * in one probe (keepalived's behaviour with fast_recovery). Each url has connect_timeout for the whole
 * exchange. A body longer than the
 * cap (1 MiB) is not read to its end: the status decides, and a url with a digest fails.
 */
export async function probeHttp(spec: HttpCheckSpec, limits: Partial<HttpResponseLimits> = {}): Promise<ProbeResult> {
  const started = performance.now();
  const urls = spec.urls.length ? spec.urls : [{ path: '/', statusCodes: [] }];
  if (spec.type === 'SSL_GET' && spec.tls && 'unreadable' in spec.tls) return downResult(`SSL: ${spec.tls.unreadable}`, 0);
  for (const url of urls) {
    const reply = await fetchOnce(spec, url, performance.now() + spec.target.timeoutMs, limits);
    if (typeof reply === 'string') return downResult(reply, performance.now() - started);
    const verdict = judgeReply(reply, url);
    if (verdict) return downResult(verdict, performance.now() - started);
  }
  return upResult(`${urls.length} url(s) ok`, performance.now() - started);
}
