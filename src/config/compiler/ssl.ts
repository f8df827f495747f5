/**
 * keepalived's top-level `SSL { password P; ca FILE; certificate FILE; key FILE }` block (check_parser.c):
 * the one TLS client context of every SSL_GET. A second block replaces the first, with a warning (keepalived:
 * "SSL context already specified - replacing"). Whether the files can be read is a host check
 * (src/healthcheck/tlsFiles.ts), not the pure compiler's business.
 */
import type { SslContext, SslFile } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { applyKeywords, type CompileContext, type KeywordTable, locOf, posOf, requireBlock, singleArg } from './context.js';

function fileArg(n: ConfigNode, ctx: CompileContext): SslFile | undefined {
  const t = singleArg(n, ctx);
  return t === undefined ? undefined : { loc: locOf(t), path: t.text };
}

const SSL_KEYWORDS: KeywordTable<SslContext> = {
  password: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.password = t.text;
  },
  ca: (n, d, ctx) => {
    const f = fileArg(n, ctx);
    if (f) d.ca = f;
  },
  certificate: (n, d, ctx) => {
    const f = fileArg(n, ctx);
    if (f) d.certificate = f;
  },
  key: (n, d, ctx) => {
    const f = fileArg(n, ctx);
    if (f) d.key = f;
  },
};

export function compileSslBlock(node: ConfigNode, previous: SslContext | undefined, ctx: CompileContext): SslContext {
  if (previous) ctx.sink.warning(posOf(node.keyword), `SSL context already specified at ${previous.loc.file}:${previous.loc.line}; replacing it`);
  const d: SslContext = { loc: locOf(node.keyword) };
  applyKeywords(requireBlock(node, ctx), SSL_KEYWORDS, d, 'SSL', ctx);
  if (d.key && !d.certificate) ctx.sink.error(posOf(node.keyword), "SSL: 'key' given without 'certificate'");
  return d;
}
