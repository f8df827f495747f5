import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckTiming, ConnectTarget, HttpCheckSpec, MiscCheckSpec, UrlSpec } from '../../src/healthcheck/plan.js';
import { probeTcp } from '../../src/healthcheck/checkers/tcp.js';
import { probeHttp } from '../../src/healthcheck/checkers/http.js';
import { probeMisc } from '../../src/healthcheck/checkers/misc.js';
import { probeDns } from '../../src/healthcheck/checkers/dns.js';
import { probeUdp } from '../../src/healthcheck/checkers/udp.js';
import { probeSmtp } from '../../src/healthcheck/checkers/smtp.js';
import { processAlive } from '../util/processAlive.js';

const timing: CheckTiming = { delayLoopMs: 1000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1000, alpha: false };
const target = (port: number, timeoutMs = 2_000, host = '127.0.0.1'): ConnectTarget => ({ host, port, timeoutMs });
const port = (s: { address(): AddressInfo | string | null }): number => (s.address() as AddressInfo).port;
const listen = <T extends NetServer | HttpServer | HttpsServer>(s: T, host = '127.0.0.1'): Promise<T> =>
  new Promise((resolve) => s.listen(0, host, () => resolve(s)));
/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = await listen(createNetServer());
  const p = port(s);
  await new Promise((r) => s.close(r));
  return p;
}

const work = mkdtempSync(join(tmpdir(), 'hc-checkers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('TCP_CHECK', () => {
  let server: NetServer;
  beforeAll(async () => {
    server = await listen(createNetServer((c) => c.destroy()));
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('is up when the connection opens', async () => {
    const r = await probeTcp({ type: 'TCP_CHECK', timing, target: target(port(server)) });
    expect(r).toMatchObject({ up: true });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('is down with "connection refused" when nothing listens', async () => {
    const r = await probeTcp({ type: 'TCP_CHECK', timing, target: target(await closedPort()) });
    expect(r).toMatchObject({ up: false, reason: 'connection refused' });
  });

  it('binds to bindto when given', async () => {
    const seen: string[] = [];
    const s = await listen(createNetServer((c) => { seen.push(c.remoteAddress ?? ''); c.destroy(); }), '0.0.0.0');
    const r = await probeTcp({ type: 'TCP_CHECK', timing, target: { ...target(port(s)), bindTo: '127.0.0.9' } });
    // Up means the handshake completed; the server may accept it a moment later (the native prober is done
    // before Node's server has run its accept).
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    await new Promise((res) => s.close(res));
    expect(r.up).toBe(true);
    expect(seen).toEqual(['127.0.0.9']);
  });
});

describe('HTTP_GET / SSL_GET', () => {
  const body = 'hello, director\n';
  const md5 = createHash('md5').update(body).digest('hex');
  const seen: Array<{ url: string | undefined; host: string | undefined; httpVersion: string }> = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    seen.push({ url: req.url, host: req.headers.host, httpVersion: req.httpVersion });
    if (req.url === '/ok') res.end(body);
    else if (req.url === '/503') { res.statusCode = 503; res.end('busy'); }
    else if (req.url === '/slow') setTimeout(() => res.end(body), 700);
    else if (req.url === '/hang') { /* never answers */ }
    else { res.statusCode = 404; res.end(); }
  };
  let http: HttpServer;
  let https: HttpsServer;
  const sniSeen: Array<string | false> = [];

  beforeAll(async () => {
    http = await listen(createHttpServer(handler));
    const key = join(work, 'key.pem');
    const cert = join(work, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=rs.test'], { stdio: 'ignore' });
    https = await listen(createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler));
    https.on('secureConnection', (s) => sniSeen.push((s as TLSSocket & { servername?: string | false }).servername ?? false));
  });
  afterAll(async () => {
    http.closeAllConnections();
    https.closeAllConnections();
    await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => https.close(r))]);
  });

  const spec = (urls: UrlSpec[], over: Partial<HttpCheckSpec> = {}): HttpCheckSpec => ({
    type: 'HTTP_GET', timing, target: target(port(http), 1_500), urls, httpProtocol: '1.0', ...over,
  });

  it('is up on a 2xx with the right digest', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [], digest: md5 }]));
    expect(r).toMatchObject({ up: true });
    expect(seen.at(-1)).toMatchObject({ url: '/ok', httpVersion: '1.0', host: `127.0.0.1:${port(http)}` });
  });

  it('is down on a wrong digest', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [], digest: 'ffffffffffffffffffffffffffffffff' }]));
    expect(r.up).toBe(false);
    expect(r.reason).toContain(`digest ${md5}`);
  });

  it('judges status codes against ranges', async () => {
    expect((await probeHttp(spec([{ path: '/503', statusCodes: [] }]))).reason).toContain('status 503 not in 200-299');
    expect((await probeHttp(spec([{ path: '/503', statusCodes: [[200, 200], [500, 599]] }]))).up).toBe(true);
    expect((await probeHttp(spec([{ path: '/ok', statusCodes: [[201, 204]] }]))).up).toBe(false);
  });

  it('needs every url to pass', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [] }, { path: '/missing', statusCodes: [] }]));
    expect(r).toMatchObject({ up: false });
    expect(r.reason).toContain('/missing: status 404');
  });

  it('a slow answer within connect_timeout is up; a server that never answers times out', async () => {
    expect((await probeHttp(spec([{ path: '/slow', statusCodes: [] }]))).up).toBe(true);
    const started = performance.now();
    const r = await probeHttp(spec([{ path: '/hang', statusCodes: [] }], { target: target(port(http), 500) }));
    expect(r.up).toBe(false);
    expect(r.reason).toContain('timeout');
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('is down when refused', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [] }], { target: target(await closedPort()) }));
    expect(r).toMatchObject({ up: false, reason: 'connection refused' });
  });

  it('sends virtualhost and HTTP/1.1 (and decodes a chunked body)', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [], digest: md5 }], { virtualHost: 'www.example.test', httpProtocol: '1.1' }));
    expect(r.up).toBe(true);
    expect(seen.at(-1)).toMatchObject({ host: 'www.example.test', httpVersion: '1.1' });
  });

  it('http_protocol 1.0K sends keep-alive and ends at Content-Length without waiting for a close', async () => {
    const keep = await listen(createHttpServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      seen.push({ url: req.url, host: req.headers.host, httpVersion: req.httpVersion });
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
    }));
    const started = performance.now();
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [], digest: md5 }], { target: target(port(keep), 3_000), httpProtocol: '1.0K' }));
    keep.closeAllConnections();
    await new Promise((res) => keep.close(res));
    expect(r).toMatchObject({ up: true });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('SSL_GET: TLS without certificate verification, with SNI when asked', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [], digest: md5 }], { type: 'SSL_GET', target: target(port(https)), sni: 'rs.test' }));
    expect(r).toMatchObject({ up: true });
    expect(sniSeen.at(-1)).toBe('rs.test');
  });

  it('SSL_GET against a plain HTTP server is down (TLS error), not a crash', async () => {
    const r = await probeHttp(spec([{ path: '/ok', statusCodes: [] }], { type: 'SSL_GET' }));
    expect(r.up).toBe(false);
  });

  it('a server that sends garbage is down', async () => {
    const conns: Socket[] = [];
    const junk = await listen(createNetServer((c) => { conns.push(c); c.on('error', () => {}); c.end('garbage\r\n'); }));
    const r = await probeHttp(spec([{ path: '/', statusCodes: [] }], { target: target(port(junk)) }));
    for (const c of conns) c.destroy();
    await new Promise((res) => junk.close(res));
    expect(r).toMatchObject({ up: false });
    expect(r.reason).toContain('not an HTTP response');
  });
});

describe('MISC_CHECK', () => {
  const script = (name: string, text: string): string => {
    const p = join(work, name);
    writeFileSync(p, `#!/bin/sh\n${text}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const misc = (argv: string[], over: Partial<MiscCheckSpec> = {}): MiscCheckSpec => ({
    type: 'MISC_CHECK', timing, argv, timeoutMs: 3_000, dynamic: false, ...over,
  });

  it('exit 0 is up (restoring the configured weight), exit 1 is down; argv is passed without a shell', async () => {
    const ok = script('ok.sh', 'test "$1" = "a b;c" && exit 0; exit 1');
    expect(await probeMisc(misc([ok, 'a b;c']))).toMatchObject({ up: true, weight: null });
    expect(await probeMisc(misc([ok, 'other']))).toMatchObject({ up: false, reason: 'exit 1' });
  });

  it('misc_dynamic: exit 2–255 is up with weight = code − 2; without misc_dynamic it is down', async () => {
    const seven = script('seven.sh', 'exit 7');
    expect(await probeMisc(misc([seven], { dynamic: true }))).toMatchObject({ up: true, weight: 5 });
    expect(await probeMisc(misc([seven], { dynamic: false }))).toMatchObject({ up: false, reason: 'exit 7' });
  });

  it('a hanging script is killed at misc_timeout with everything it started', async () => {
    const pidFile = join(work, 'grandchild.pid');
    const hang = script('hang.sh', `sleep 300 & echo $! > ${pidFile}\nwait`);
    const started = performance.now();
    const r = await probeMisc(misc([hang], { timeoutMs: 500 }));
    expect(r.up).toBe(false);
    expect(r.reason).toContain('timed out');
    expect(performance.now() - started).toBeLessThan(4_000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    expect(processAlive(grandchild)).toBe(false);
  });

  it('a missing script is down, not a crash', async () => {
    const r = await probeMisc(misc([join(work, 'nope.sh')]));
    expect(r.up).toBe(false);
  });
});

describe('DNS_CHECK', () => {
  let server: UdpSocket;
  let rcode = 0;
  let sendWrongIdFirst = false;
  const questions: Buffer[] = [];
  beforeAll(async () => {
    server = createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      questions.push(msg);
      const reply = Buffer.from(msg);
      reply.writeUInt16BE(0x8180 | rcode, 2); // QR, RD, RA, rcode
      reply.writeUInt16BE(rcode === 0 ? 1 : 0, 6);
      if (sendWrongIdFirst) {
        const wrong = Buffer.from(reply);
        wrong.writeUInt16BE((reply.readUInt16BE(0) + 1) & 0xffff, 0);
        wrong.writeUInt16BE(0x8183, 2);
        server.send(wrong, rinfo.port, rinfo.address);
      }
      server.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  });
  afterAll(() => server.close());
  const dns = (timeoutMs = 1_000) => probeDns({ type: 'DNS_CHECK', timing, target: target(port(server), timeoutMs), queryType: 'A', name: 'www.example.test' });

  it('is up on NOERROR and asks the configured question', async () => {
    rcode = 0;
    expect(await dns()).toMatchObject({ up: true, reason: 'NOERROR, 1 answer(s)' });
    const q = questions.at(-1)!;
    expect(q.subarray(12).includes(Buffer.from([3, 0x77, 0x77, 0x77, 7]))).toBe(true);
    expect(q.readUInt16BE(q.length - 4)).toBe(1); // type A
  });

  it('is down on an error rcode', async () => {
    rcode = 3;
    expect(await dns()).toMatchObject({ up: false, reason: 'rcode 3' });
    rcode = 0;
  });

  it('ignores a reply with another id, as keepalived', async () => {
    sendWrongIdFirst = true;
    expect(await dns()).toMatchObject({ up: true });
    sendWrongIdFirst = false;
  });

  it('is down when nobody answers', async () => {
    const r = await probeDns({ type: 'DNS_CHECK', timing, target: target(await closedPort(), 500), queryType: 'SOA', name: '.' });
    expect(r.up).toBe(false);
  });
});

describe('UDP_CHECK', () => {
  let echo: UdpSocket;
  beforeAll(async () => {
    echo = createSocket('udp4');
    echo.on('message', (msg, rinfo) => {
      if (msg.toString() === 'silent') return;
      echo.send(Buffer.concat([Buffer.from('PONG:'), msg]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  });
  afterAll(() => echo.close());
  const udp = (payload: string, requireReply?: string, p = port(echo)) =>
    probeUdp({
      type: 'UDP_CHECK', timing, target: target(p, 500), payload: Buffer.from(payload),
      requireReply: requireReply !== undefined, minReplyLength: 0, maxReplyLength: 0,
      replyPattern: requireReply === undefined ? undefined : Buffer.from(requireReply).toString('hex'),
    });

  it('require_reply: up on the expected reply, down on another or none', async () => {
    expect(await udp('x', 'PONG:x')).toMatchObject({ up: true });
    expect(await udp('x', 'NOPE')).toMatchObject({ up: false });
    expect((await udp('silent', 'PONG')).reason).toContain('no reply');
  });

  it('require_reply pattern: x nibbles are wildcards; length bounds apply', async () => {
    const spec = (replyPattern: string, minReplyLength = 0, maxReplyLength = 0) => probeUdp({
      type: 'UDP_CHECK', timing, target: target(port(echo), 500), payload: Buffer.from('ab'),
      requireReply: true, replyPattern, minReplyLength, maxReplyLength,
    });
    // Reply is "PONG:ab" = 50 4f 4e 47 3a 61 62
    expect(await spec('504fxx47')).toMatchObject({ up: true });
    expect(await spec('504f4e48')).toMatchObject({ up: false });
    expect(await spec('50', 8)).toMatchObject({ up: false });
    expect(await spec('50', 0, 6)).toMatchObject({ up: false });
    expect(await spec('50', 7, 7)).toMatchObject({ up: true });
    // As keepalived: only the bytes the reply has are compared; the length bounds judge the rest.
    expect(await spec('504f4e473a6162ffff')).toMatchObject({ up: true });
    expect(await spec('504f4e473a6162ffff', 9)).toMatchObject({ up: false });
  });

  it('without require_reply: down on ICMP port unreachable, up on silence', async () => {
    expect(await udp('x', undefined, await closedPort())).toMatchObject({ up: false, reason: 'connection refused' });
    expect(await udp('silent')).toMatchObject({ up: true });
  });
});

describe('SMTP_CHECK', () => {
  const smtp = (banner: string): Promise<NetServer> =>
    listen(createNetServer((c) => {
      c.write(`${banner}\r\n`);
      c.on('data', (d) => {
        const line = d.toString();
        if (line.startsWith('HELO')) c.write(`250-hello ${line.slice(5).trim()}\r\n250 OK\r\n`);
        if (line.startsWith('QUIT')) c.end('221 bye\r\n');
      });
      c.on('error', () => {});
    }));

  it('is up on 220 banner and 250 to HELO; down on a 554 banner', async () => {
    const good = await smtp('220 mail.test ESMTP');
    const bad = await smtp('554 go away');
    const spec = (p: number) => ({ type: 'SMTP_CHECK' as const, timing, target: target(p, 1_000), heloName: 'director.test' });
    expect(await probeSmtp(spec(port(good)))).toMatchObject({ up: true });
    const r = await probeSmtp(spec(port(bad)));
    expect(r.up).toBe(false);
    expect(r.reason).toContain('554');
    await Promise.all([new Promise((res) => good.close(res)), new Promise((res) => bad.close(res))]);
  });
});
