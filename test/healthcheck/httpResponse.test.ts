import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpResponseReader, MAX_HEAD_BYTES, type ReadOutcome } from '../../src/healthcheck/checkers/httpResponse.js';

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/** Feeds `raw` in pieces of `step` bytes; returns the first final outcome (or end()'s). */
function feed(reader: HttpResponseReader, raw: Buffer, step: number, close = true): ReadOutcome & { reads: number } {
  let reads = 0;
  for (let i = 0; i < raw.length; i += step) {
    reads++;
    const out = reader.push(raw.subarray(i, i + step));
    if (out.kind !== 'more') return { ...out, reads };
  }
  return close ? { ...reader.end(), reads } : { kind: 'more', reads };
}

function chunked(body: Buffer, chunk: number, ext = ''): Buffer {
  const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')];
  for (let i = 0; i < body.length; i += chunk) {
    const piece = body.subarray(i, i + chunk);
    parts.push(Buffer.from(`${piece.length.toString(16)}${ext}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\nX-Trailer: 1\r\n\r\n'));
  return Buffer.concat(parts);
}

describe('HttpResponseReader', () => {
  const body = Buffer.from('hello, health check\n'.repeat(50));

  it('Content-Length: ends at the length without a close, digest over the body, any split', () => {
    const raw = Buffer.concat([Buffer.from(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body, Buffer.from('trailing junk')]);
    for (const step of [1, 3, 7, 64, raw.length]) {
      const out = feed(new HttpResponseReader(true), raw, step, false);
      expect(out.kind, `step ${step}`).toBe('reply');
      if (out.kind === 'reply') expect(out.reply).toMatchObject({ status: 200, bodyBytes: body.length, digest: md5(body) });
    }
  });

  it('chunked: decoded (digest of the body, not of the framing), extensions and trailers, any split', () => {
    for (const [chunk, step] of [[1, 1], [5, 2], [100, 13], [1000, 4096]] as const) {
      const out = feed(new HttpResponseReader(true, { maxReads: 1e6 }), chunked(body, chunk, ';ext=1'), step, false);
      expect(out.kind, `chunk ${chunk} step ${step}`).toBe('reply');
      if (out.kind === 'reply') expect(out.reply).toMatchObject({ status: 200, bodyBytes: body.length, digest: md5(body) });
    }
  });

  it('no framing: the body runs to the close; status without a digest when none is asked for', () => {
    const raw = Buffer.concat([Buffer.from('HTTP/1.0 503 Service Unavailable\r\nServer: x\r\n\r\n'), body]);
    const out = feed(new HttpResponseReader(false), raw, 10);
    expect(out).toMatchObject({ kind: 'reply', reply: { status: 503, bodyBytes: body.length } });
    if (out.kind === 'reply') expect(out.reply.digest).toBeUndefined();
  });

  it('stops at the body cap: no digest, the cut says why', () => {
    const big = Buffer.alloc(5000, 0x61);
    const raw = Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), big]);
    const out = feed(new HttpResponseReader(true, { maxBodyBytes: 1000 }), raw, 300);
    expect(out).toMatchObject({ kind: 'reply', reply: { status: 200, cut: 'body longer than 1000 bytes' } });
    if (out.kind === 'reply') {
      expect(out.reply.digest).toBeUndefined();
      expect(out.reply.bodyBytes).toBeLessThanOrEqual(1000);
    }
    // Stopped at the read that crossed the cap, not at the end of the data.
    expect(out.reads).toBe(4);
  });

  it('counts chunk framing against the cap (1-byte chunks cost 6 bytes each)', () => {
    const out = feed(new HttpResponseReader(false, { maxBodyBytes: 600 }), chunked(Buffer.alloc(1000, 0x62), 1), 50);
    expect(out).toMatchObject({ kind: 'reply', reply: { status: 200, cut: 'body longer than 600 bytes' } });
    if (out.kind === 'reply') expect(out.reply.bodyBytes).toBeLessThanOrEqual(100);
  });

  it('stops after maxReads reads, in the body or in the head', () => {
    const raw = Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), Buffer.alloc(500, 0x63)]);
    const out = feed(new HttpResponseReader(false, { maxReads: 100 }), raw, 1);
    expect(out).toMatchObject({ kind: 'reply', reply: { cut: 'body not complete after 100 reads' }, reads: 100 });
    const head = Buffer.from('HTTP/1.0 200 OK\r\n' + 'X-Slow: y\r\n'.repeat(100));
    expect(feed(new HttpResponseReader(false, { maxReads: 100 }), head, 1)).toMatchObject({ kind: 'error', reason: 'no end of headers after 100 reads', reads: 100 });
  });

  it('refuses headers over 64 KiB, bad status lines, bad chunking, a chunked body cut by the close', () => {
    const huge = Buffer.from('HTTP/1.0 200 OK\r\n' + 'X-Pad: ' + 'z'.repeat(MAX_HEAD_BYTES) + '\r\n\r\n');
    expect(feed(new HttpResponseReader(false), huge, 8192)).toMatchObject({ kind: 'error', reason: `response headers larger than ${MAX_HEAD_BYTES} bytes` });
    expect(feed(new HttpResponseReader(false), Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), 5)).toMatchObject({ kind: 'error', reason: 'not an HTTP response' });
    expect(feed(new HttpResponseReader(false), Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 5)).toMatchObject({
      kind: 'error',
      reason: 'not an HTTP response (bad chunk size)',
    });
    expect(feed(new HttpResponseReader(false), chunked(body, 10).subarray(0, 100), 7)).toMatchObject({ kind: 'error', reason: /chunked body cut short/ });
    expect(feed(new HttpResponseReader(false), Buffer.from('HTTP/1.0 200 OK\r\n'), 5)).toMatchObject({ kind: 'error', reason: 'not an HTTP response' });
  });

  it('204 and 304 end at the head (no body), even without a close', () => {
    for (const status of [204, 304]) {
      const out = new HttpResponseReader(true).push(Buffer.from(`HTTP/1.1 ${status} X\r\nConnection: keep-alive\r\n\r\n`));
      expect(out).toMatchObject({ kind: 'reply', reply: { status, bodyBytes: 0, digest: md5('') } });
    }
  });

  it('a short Content-Length body ended by the close is judged on what arrived (keepalived)', () => {
    const raw = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort');
    expect(feed(new HttpResponseReader(true), raw, 4)).toMatchObject({ kind: 'reply', reply: { status: 200, bodyBytes: 5, digest: md5('short') } });
  });
});
