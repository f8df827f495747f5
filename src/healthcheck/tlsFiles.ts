/**
 * The edge that reads the `SSL` block's files (keepalived's check_ssl.c loads them once per config):
 * `readTlsMaterial` when the daemon builds the check plan (the checker worker reads no file), and
 * `checkSslFilesOnHost`, run by `-t`, at start and at every reload after the pure compiler, so that a file
 * that cannot be read, a key that does not open with `password` or does not fit the certificate, or a `ca`
 * with no certificate in it is an error at its FILE:LINE and a bad reload keeps the running config.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Diagnostic } from '../config/diagnostics.js';
import type { ConfigModel, SslContext, SslFile } from '../config/model.js';
import type { TlsClientMaterial } from './plan.js';

function readPem(file: SslFile): string | { error: string } {
  try {
    return readFileSync(file.path, 'utf8');
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

type Read = { material: { ca?: string; cert?: string; key?: string; passphrase?: string }; problems: Array<{ file: SslFile | undefined; message: string }> };

function readAll(ssl: SslContext): Read {
  const material: Read['material'] = {};
  const problems: Read['problems'] = [];
  const take = (file: SslFile | undefined, what: string, set: (pem: string) => void): void => {
    if (!file) return;
    const pem = readPem(file);
    if (typeof pem === 'string') set(pem);
    else problems.push({ file, message: `SSL ${what} '${file.path}' cannot be read (${pem.error})` });
  };
  take(ssl.ca, 'ca', (pem) => { material.ca = pem; });
  take(ssl.certificate, 'certificate', (pem) => { material.cert = pem; });
  // keepalived loads the key only when `key` is given; a certificate file holding its key works too.
  take(ssl.key, 'key', (pem) => { material.key = pem; });
  if (material.cert !== undefined && ssl.key === undefined) material.key = material.cert;
  if (ssl.password !== undefined) material.passphrase = ssl.password;
  if (problems.length === 0) {
    try {
      createSecureContext(material);
    } catch (err) {
      const message = (err as Error).message;
      // Name the file the error is about where OpenSSL says so.
      const file = /ca|certificate verify|x509/i.test(message) && ssl.ca ? ssl.ca : (ssl.key ?? ssl.certificate);
      problems.push({ file, message: `SSL: the certificate, key${ssl.password !== undefined ? ', password' : ''} or ca do not load: ${message}` });
    }
  }
  return { material, problems };
}

/** The PEM material of every SSL_GET; a problem makes them all fail with that reason. */
export function readTlsMaterial(ssl: SslContext | undefined): TlsClientMaterial | undefined {
  if (!ssl) return undefined;
  const { material, problems } = readAll(ssl);
  return problems.length ? { unreadable: problems.map((p) => p.message).join('; ') } : material;
}

export function checkSslFilesOnHost(model: ConfigModel): Diagnostic[] {
  if (!model.ssl) return [];
  const ssl = model.ssl;
  return readAll(ssl).problems.map((p) => ({ severity: 'error', file: (p.file ?? ssl).loc.file, line: (p.file ?? ssl).loc.line, message: p.message }));
}
