import { createHash, type Hash } from 'node:crypto';

/**
 * Reads one HTTP response as it streams in, in bounded memory and CPU: the head (status line + headers,
 * at most 64 KiB) is kept, the body never is — it is only counted and, when a digest is wanted, fed to
 * MD5 as it arrives (keepalived's check_http.c does the same with a 4 KiB buffer). The body ends at
 * Content-Length, at the last chunk (chunked encoding is decoded, so the digest covers the body itself),
 * or at the close. Once `maxBodyBytes` have arrived after the head (chunk framing included), or after
 * `maxReads` reads, the reader stops: the caller closes the connection and judges what it has — the
 * status, and no digest. With `keepBody` (url { regex }) the body is kept too, up to the same cap, for the
 * regex to be matched over it. Pure: no sockets, no clocks.
 */

export const MAX_HEAD_BYTES = 64 * 1024;
/** Default body cap: health pages are small; a digest over a bigger body is refused (see README). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/**
 * Reads (socket 'data' events) per response at most. A server writing one byte per segment costs one
 * event per byte (≈ 20 µs of CPU each, measured); 4,096 of them ≈ 0.1 s, and a real body of 1 MiB arrives
 * in far fewer (it would need < 256 bytes per read on average to reach it).
 */
export const DEFAULT_MAX_READS = 4096;
const MAX_CHUNK_LINE = 4096;

export interface HttpResponseLimits {
  maxBodyBytes: number;
  maxReads: number;
}

export const DEFAULT_RESPONSE_LIMITS: Readonly<HttpResponseLimits> = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, maxReads: DEFAULT_MAX_READS };

/** What the checker judges. */
export interface HttpReply {
  status: number;
  headers: Map<string, string>;
  /** Body bytes seen (decoded). */
  bodyBytes: number;
  /** MD5 (hex) of the whole body; absent when no digest was asked for or the body was cut. */
  digest?: string;
  /** Set when the reader stopped at a cap before the body ended: why. */
  cut?: string;
  /** The body itself (at most the body cap), only when asked for (url { regex }). */
  body?: Buffer;
}

/** push()/end() outcome: read on, a reply (complete or cut), or not HTTP. */
export type ReadOutcome = { kind: 'more' } | { kind: 'reply'; reply: HttpReply } | { kind: 'error'; reason: string };

type BodyFraming = { kind: 'length'; remaining: number } | { kind: 'close' } | { kind: 'chunked' };
type ChunkState = 'size' | 'data' | 'dataEnd' | 'trailer';

export class HttpResponseReader {
  private readonly limits: HttpResponseLimits;
  /** The head so far, in a buffer allocated once (copying into it keeps 1-byte reads linear). */
  private head: Buffer | undefined;
  private headLength = 0;
  private status = 0;
  private headers = new Map<string, string>();
  private framing: BodyFraming | undefined;
  private readonly hash: Hash | undefined;
  /** Body slices kept for a regex (at most maxBodyBytes in all); undefined = not kept. */
  private readonly kept: Buffer[] | undefined;
  private bodyBytes = 0;
  private rawBodyBytes = 0;
  private reads = 0;
  private finished = false;
  // chunked decoding
  private chunkState: ChunkState = 'size';
  private chunkLine = '';
  private chunkRemaining = 0;

  constructor(wantDigest: boolean, limits: Partial<HttpResponseLimits> = {}, keepBody = false) {
    this.limits = { ...DEFAULT_RESPONSE_LIMITS, ...limits };
    if (wantDigest) this.hash = createHash('md5');
    if (keepBody) this.kept = [];
  }

  /** Feed one read. After a non-'more' outcome the reader is done: stop reading and close. */
  push(data: Buffer): ReadOutcome {
    if (this.finished) return { kind: 'error', reason: 'data after the end' };
    this.reads++;
    let body = data;
    if (!this.framing) {
      this.head ??= Buffer.allocUnsafe(MAX_HEAD_BYTES);
      const before = this.headLength;
      const copied = data.copy(this.head, before, 0, Math.min(data.length, MAX_HEAD_BYTES - before));
      this.headLength += copied;
      const end = this.head.subarray(0, this.headLength).indexOf('\r\n\r\n', Math.max(0, before - 3));
      if (end < 0) {
        if (this.headLength >= MAX_HEAD_BYTES) return this.fail(`response headers larger than ${MAX_HEAD_BYTES} bytes`);
        if (this.reads >= this.limits.maxReads) return this.fail(`no end of headers after ${this.reads} reads`);
        return { kind: 'more' };
      }
      const error = this.parseHead(this.head.subarray(0, end));
      if (error) return this.fail(error);
      body = data.subarray(end + 4 - before);
      this.head = undefined;
    }
    const outcome = this.consumeBody(body);
    if (outcome.kind !== 'more') return outcome;
    if (this.rawBodyBytes >= this.limits.maxBodyBytes) return this.cut(`body longer than ${this.limits.maxBodyBytes} bytes`);
    if (this.reads >= this.limits.maxReads) return this.cut(`body not complete after ${this.reads} reads`);
    return { kind: 'more' };
  }

  /** The server closed the connection. */
  end(): ReadOutcome {
    if (this.finished) return { kind: 'error', reason: 'already ended' };
    if (!this.framing) return this.fail('not an HTTP response');
    if (this.framing.kind === 'chunked') return this.fail('not an HTTP response (chunked body cut short)');
    // keepalived judges what arrived before the close (a short Content-Length body included).
    return this.complete();
  }

  private parseHead(head: Buffer): string | undefined {
    const lines = head.toString('latin1').split('\r\n');
    const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
    if (!m) return 'not an HTTP response';
    this.status = Number(m[1]);
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) this.headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const length = Number(this.headers.get('content-length'));
    // 1xx, 204 and 304 never have a body (RFC 9112 §6.3): done at the head, even on a kept-alive connection.
    if (this.status < 200 || this.status === 204 || this.status === 304) this.framing = { kind: 'length', remaining: 0 };
    else if (this.headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) this.framing = { kind: 'chunked' };
    else if (this.headers.has('content-length') && Number.isFinite(length) && length >= 0) this.framing = { kind: 'length', remaining: length };
    else this.framing = { kind: 'close' };
    return undefined;
  }

  private consumeBody(data: Buffer): ReadOutcome {
    const framing = this.framing!;
    if (framing.kind === 'close') {
      this.rawBodyBytes += data.length;
      this.take(data.subarray(0, Math.max(0, this.limits.maxBodyBytes - this.bodyBytes)));
      return { kind: 'more' };
    }
    if (framing.kind === 'length') {
      const used = data.subarray(0, Math.min(data.length, framing.remaining));
      this.rawBodyBytes += used.length;
      this.take(used.subarray(0, Math.max(0, this.limits.maxBodyBytes - this.bodyBytes)));
      framing.remaining -= used.length;
      return framing.remaining === 0 ? this.complete() : { kind: 'more' };
    }
    return this.consumeChunked(data);
  }

  /** Chunked transfer coding (RFC 9112 §7.1), one byte state at a time for the framing, slices for data. */
  private consumeChunked(data: Buffer): ReadOutcome {
    let pos = 0;
    while (pos < data.length) {
      if (this.rawBodyBytes >= this.limits.maxBodyBytes) return { kind: 'more' };
      if (this.chunkState === 'data') {
        const n = Math.min(this.chunkRemaining, data.length - pos, this.limits.maxBodyBytes - this.rawBodyBytes);
        this.take(data.subarray(pos, pos + n));
        this.rawBodyBytes += n;
        this.chunkRemaining -= n;
        pos += n;
        if (this.chunkRemaining === 0) {
          this.chunkState = 'dataEnd';
          this.chunkLine = '';
        }
        continue;
      }
      const byte = data[pos++]!;
      this.rawBodyBytes++;
      if (byte !== 0x0a) {
        this.chunkLine += String.fromCharCode(byte);
        if (this.chunkLine.length > MAX_CHUNK_LINE) return this.fail('not an HTTP response (chunk line too long)');
        continue;
      }
      // A whole line (LF seen); drop its CR.
      const line = this.chunkLine.endsWith('\r') ? this.chunkLine.slice(0, -1) : this.chunkLine;
      this.chunkLine = '';
      if (this.chunkState === 'dataEnd') {
        if (line !== '') return this.fail('not an HTTP response (bad chunk end)');
        this.chunkState = 'size';
      } else if (this.chunkState === 'size') {
        const sizeText = line.split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return this.fail('not an HTTP response (bad chunk size)');
        const size = parseInt(sizeText, 16);
        if (size === 0) this.chunkState = 'trailer';
        else {
          this.chunkRemaining = size;
          this.chunkState = 'data';
        }
      } else if (line === '') {
        // The empty line after the last chunk's trailers: the body is whole.
        return this.complete();
      }
    }
    return { kind: 'more' };
  }

  private take(slice: Buffer): void {
    if (slice.length === 0) return;
    this.bodyBytes += slice.length;
    this.hash?.update(slice);
    // Copied: the socket's buffer is not ours to keep. take() never passes more than the cap in all.
    this.kept?.push(Buffer.from(slice));
  }

  private complete(): ReadOutcome {
    this.finished = true;
    const reply: HttpReply = { status: this.status, headers: this.headers, bodyBytes: this.bodyBytes };
    if (this.hash) reply.digest = this.hash.digest('hex');
    if (this.kept) reply.body = Buffer.concat(this.kept);
    return { kind: 'reply', reply };
  }

  private cut(why: string): ReadOutcome {
    this.finished = true;
    const reply: HttpReply = { status: this.status, headers: this.headers, bodyBytes: this.bodyBytes, cut: why };
    if (this.kept) reply.body = Buffer.concat(this.kept);
    return { kind: 'reply', reply };
  }

  private fail(reason: string): ReadOutcome {
    this.finished = true;
    return { kind: 'error', reason };
  }
}
