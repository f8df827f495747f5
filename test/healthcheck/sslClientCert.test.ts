/**
 * SSL_GET with the `SSL { ca certificate key password }` block, and url { regex } bodies, against real
 * TLS / HTTP servers on loopback. The certificates are made at test time with the openssl CLI: CA A signs
 * the good server and client certificates, CA B a client certificate the server must refuse, and one server
 * certificate is self-signed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/compileFile.js';
import { probeHttp } from '../../src/healthcheck/checkers/http.js';
import type { CheckTiming, HttpCheckSpec, TlsClientMaterial, UrlSpec } from '../../src/healthcheck/plan.js';
import { checkSslFilesOnHost, readTlsMaterial } from '../../src/healthcheck/tlsFiles.js';
import { checkConfigOnHost } from '../../src/daemon/hostChecks.js';

const timing: CheckTiming = { delayLoopMs: 1000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1000, alpha: false };
const TIMEOUT_MS = 5000;
const PASSWORD = 'pa ss';

let dir: string;
const pem = (name: string): string => readFileSync(path.join(dir, name), 'utf8');

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}

/** A key and a certificate for CN signed by CA (or self-signed when ca is undefined). */
function makeLeaf(name: string, ca: string | undefined, extra: string[] = []): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  if (ca) openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...extra);
  else openssl('x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-out', `${name}.crt`, '-days', '2', ...extra);
}

const servers: Array<HttpsServer | HttpServer> = [];
async function listen<T extends HttpsServer | HttpServer>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const BODY = 'status: green\nversion 4.2 — ünïcode\n';
function answer(_req: unknown, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(BODY);
}

let mtlsPort: number; // requests and verifies a client certificate signed by CA A; server cert by CA A
let selfSignedPort: number; // self-signed server certificate, no client certificate asked
let httpPort: number;
/** What the mTLS server saw: the CN of each verified client. */
const clientsSeen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tslvsd-ssl-'));
  makeCa('caA');
  makeCa('caB');
  makeLeaf('server', 'caA');
  makeLeaf('client', 'caA');
  makeLeaf('stranger', 'caB');
  makeLeaf('selfsigned', undefined);
  // The client key again, encrypted with PASSWORD.
  openssl('pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${PASSWORD}`, '-out', 'client-enc.key');
  mtlsPort = await listen(createHttpsServer({ key: pem('server.key'), cert: pem('server.crt'), ca: pem('caA.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    clientsSeen.push((req.socket as TLSSocket).getPeerCertificate().subject.CN as string);
    answer(req, res);
  }));
  selfSignedPort = await listen(createHttpsServer({ key: pem('selfsigned.key'), cert: pem('selfsigned.crt') }, answer));
  httpPort = await listen(createHttpServer(answer));
}, 60_000);

afterAll(() => {
  for (const s of servers) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ssl(port: number, tls: TlsClientMaterial | undefined, urls: UrlSpec[] = [{ path: '/', statusCodes: [] }]): HttpCheckSpec {
  return { type: 'SSL_GET', timing, target: { host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS }, urls, httpProtocol: '1.0', ...(tls ? { tls } : {}) };
}

describe('SSL_GET client certificates against a server that verifies them', () => {
  it('the client certificate signed by the CA the server trusts: up, and the server saw it', async () => {
    clientsSeen.length = 0;
    const r = await probeHttp(ssl(mtlsPort, { cert: pem('client.crt'), key: pem('client.key'), ca: pem('caA.crt') }));
    expect(r.reason).toBe('1 url(s) ok');
    expect(r.up).toBe(true);
    expect(clientsSeen).toEqual(['client']);
  });

  it('no client certificate: the server refuses the handshake, down', async () => {
    clientsSeen.length = 0;
    const r = await probeHttp(ssl(mtlsPort, undefined));
    expect(r.up).toBe(false);
    expect(r.reason).toMatch(/TLS|reset|closed|not an HTTP response/i);
    expect(clientsSeen).toEqual([]);
  });

  it('a client certificate from another CA: down', async () => {
    clientsSeen.length = 0;
    const r = await probeHttp(ssl(mtlsPort, { cert: pem('stranger.crt'), key: pem('stranger.key') }));
    expect(r.up).toBe(false);
    expect(clientsSeen).toEqual([]);
  });

  it('an encrypted key with its password, read from a config SSL block: up', async () => {
    const conf = path.join(dir, 'enc.conf');
    writeFileSync(conf, `SSL {\n  ca ${path.join(dir, 'caA.crt')}\n  certificate ${path.join(dir, 'client.crt')}\n  key ${path.join(dir, 'client-enc.key')}\n  password "${PASSWORD}"\n}\n`);
    const loaded = loadConfigFile(conf, { configId: 'lb1', hostChecks: checkConfigOnHost });
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const material = readTlsMaterial(loaded.model!.ssl);
    expect(material && 'unreadable' in material).toBe(false);
    const r = await probeHttp(ssl(mtlsPort, material));
    expect(r.reason).toBe('1 url(s) ok');
  });
});

describe('SSL_GET server verification only with a ca', () => {
  it('ca given, server certificate signed by another CA: down, naming the verification', async () => {
    const r = await probeHttp(ssl(mtlsPort, { cert: pem('client.crt'), key: pem('client.key'), ca: pem('caB.crt') }));
    expect(r.up).toBe(false);
    expect(r.reason).toMatch(/certificate/i);
  });

  it('ca given, self-signed server certificate: down', async () => {
    const r = await probeHttp(ssl(selfSignedPort, { ca: pem('caA.crt') }));
    expect(r.up).toBe(false);
    expect(r.reason).toMatch(/self.signed|certificate/i);
  });

  it('no ca: the self-signed server is not verified (keepalived), up', async () => {
    expect((await probeHttp(ssl(selfSignedPort, undefined))).up).toBe(true);
    expect((await probeHttp(ssl(selfSignedPort, { cert: pem('client.crt'), key: pem('client.key') }))).up).toBe(true);
  });
});

describe('SSL block files that do not load are errors at FILE:LINE', () => {
  it('a missing file, a wrong password, a key that is not the certificate\'s', () => {
    const unreadable = path.join(dir, 'unreadable.key');
    writeFileSync(unreadable, pem('client.key'));
    chmodSync(unreadable, 0o000);
    const conf = path.join(dir, 'bad.conf');
    const cases: Array<[string, RegExp]> = [
      [`SSL {\n  certificate ${path.join(dir, 'client.crt')}\n  key ${path.join(dir, 'nope.key')}\n}\n`, /bad\.conf:3: error: SSL key '.*nope\.key' cannot be read \(ENOENT\)/],
      [`SSL {\n  ca ${path.join(dir, 'missing-ca.crt')}\n}\n`, /bad\.conf:2: error: SSL ca '.*missing-ca\.crt' cannot be read \(ENOENT\)/],
      [`SSL {\n  certificate ${path.join(dir, 'client.crt')}\n  key ${path.join(dir, 'client-enc.key')}\n  password wrong\n}\n`, /bad\.conf:3: error: SSL: the certificate, key, password or ca do not load/],
      [`SSL {\n  certificate ${path.join(dir, 'client.crt')}\n  key ${path.join(dir, 'stranger.key')}\n}\n`, /bad\.conf:3: error: SSL: the certificate, key or ca do not load/],
    ];
    // root reads a 0000 file; only a non-root run can judge that case.
    if (process.getuid?.() !== 0) cases.push([`SSL {\n  certificate ${path.join(dir, 'client.crt')}\n  key ${unreadable}\n}\n`, /bad\.conf:3: error: SSL key .* cannot be read \(EACCES\)/]);
    for (const [text, expected] of cases) {
      writeFileSync(conf, text);
      const loaded = loadConfigFile(conf, { configId: 'lb1', hostChecks: checkSslFilesOnHost });
      expect(loaded.model).toBeUndefined();
      const lines = loaded.diagnostics.map((d) => `${d.file}:${d.line}: ${d.severity}: ${d.message}`);
      expect(lines.some((l) => expected.test(l)), `${lines.join('\n')}\nexpected ${expected}`).toBe(true);
      // The daemon's plan builder gets the same answer: every SSL_GET fails with it.
      expect(readTlsMaterial(loadConfigFile(conf, { configId: 'lb1' }).model!.ssl)).toHaveProperty('unreadable');
    }
  });

  it('a check with unreadable material is down with the reason', async () => {
    const r = await probeHttp(ssl(selfSignedPort, { unreadable: "SSL key '/x' cannot be read (ENOENT)" }));
    expect(r.up).toBe(false);
    expect(r.reason).toContain('ENOENT');
  });
});

describe('url { regex } over real bodies', () => {
  const http = (urls: UrlSpec[]): HttpCheckSpec => ({ type: 'HTTP_GET', timing, target: { host: '127.0.0.1', port: httpPort, timeoutMs: TIMEOUT_MS }, urls, httpProtocol: '1.0' });
  const url = (regex: NonNullable<UrlSpec['regex']>, extra: Partial<UrlSpec> = {}): UrlSpec => ({ path: '/', statusCodes: [], regex, ...extra });
  const md5 = createHash('md5').update(BODY).digest('hex');

  it('regex matches: up; does not match: down; regex_no_match inverts', async () => {
    expect((await probeHttp(http([url({ pattern: 'status: (green|amber)', noMatch: false })]))).up).toBe(true);
    const miss = await probeHttp(http([url({ pattern: 'status: red', noMatch: false })]));
    expect(miss.up).toBe(false);
    expect(miss.reason).toContain('does not match regex /status: red/');
    expect((await probeHttp(http([url({ pattern: 'status: red', noMatch: true })]))).up).toBe(true);
    const hit = await probeHttp(http([url({ pattern: 'green', noMatch: true })]));
    expect(hit.up).toBe(false);
    expect(hit.reason).toContain('regex_no_match');
  });

  it('bytes, as PCRE2 without UTF: a UTF-8 literal matches, offsets count bytes', async () => {
    expect((await probeHttp(http([url({ pattern: 'ünïcode$', noMatch: false })]))).up).toBe(false); // $ without m: end of body is "\n"
    expect((await probeHttp(http([url({ pattern: 'ünïcode\\n$', noMatch: false })]))).up).toBe(true);
    const at = Buffer.from(BODY).indexOf('version');
    expect((await probeHttp(http([url({ pattern: 'version', noMatch: false, minOffset: at })]))).up).toBe(true);
    expect((await probeHttp(http([url({ pattern: 'version', noMatch: false, minOffset: at + 1 })]))).up).toBe(false);
    expect((await probeHttp(http([url({ pattern: 'version', noMatch: false, maxOffset: at })]))).up).toBe(true);
    expect((await probeHttp(http([url({ pattern: 'version', noMatch: false, maxOffset: at - 1 })]))).up).toBe(false);
  });

  it('regex_options caseless / multiline / dotall as flags', async () => {
    expect((await probeHttp(http([url({ pattern: 'STATUS: GREEN', noMatch: false })]))).up).toBe(false);
    expect((await probeHttp(http([url({ pattern: 'STATUS: GREEN', noMatch: false, flags: 'i' })]))).up).toBe(true);
    expect((await probeHttp(http([url({ pattern: '^version', noMatch: false })]))).up).toBe(false);
    expect((await probeHttp(http([url({ pattern: '^version', noMatch: false, flags: 'm' })]))).up).toBe(true);
    expect((await probeHttp(http([url({ pattern: 'green.version', noMatch: false })]))).up).toBe(false);
    expect((await probeHttp(http([url({ pattern: 'green.version', noMatch: false, flags: 's' })]))).up).toBe(true);
  });

  it('digest and regex together must both pass', async () => {
    expect((await probeHttp(http([url({ pattern: 'green', noMatch: false }, { digest: md5 })]))).up).toBe(true);
    expect((await probeHttp(http([url({ pattern: 'green', noMatch: false }, { digest: '0'.repeat(32) })]))).up).toBe(false);
    expect((await probeHttp(http([url({ pattern: 'red', noMatch: false }, { digest: md5 })]))).up).toBe(false);
  });

  it('over SSL_GET with a client certificate too', async () => {
    const tls = { cert: pem('client.crt'), key: pem('client.key'), ca: pem('caA.crt') };
    expect((await probeHttp(ssl(mtlsPort, tls, [url({ pattern: '^status: green', noMatch: false })]))).up).toBe(true);
    expect((await probeHttp(ssl(mtlsPort, tls, [url({ pattern: '^status: green', noMatch: true })]))).up).toBe(false);
  });
});
