import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FifoOpenError, NotifyFifoWriter } from '../../src/notify/fifoWriter.js';
import { SystemClock } from '../../src/util/clock.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fifo-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Everything readable now from a non-blocking read end. */
function drain(fd: number): string {
  const buf = Buffer.alloc(1 << 20);
  let out = '';
  for (;;) {
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return out;
      out += buf.subarray(0, n).toString();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return out;
      throw err;
    }
  }
}

describe('NotifyFifoWriter (real FIFOs)', () => {
  it('creates a missing FIFO (0644), and removes it at close; a reader gets the lines in order, then EOF', () => {
    const fifo = path.join(tempDir(), 'notify');
    const w = NotifyFifoWriter.open(fifo, { clock: new SystemClock() });
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(statSync(fifo).mode & 0o777).toBe(0o644);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    w.write('INSTANCE "VI_1" BACKUP 100\n');
    w.write('INSTANCE "VI_1" MASTER 100\n');
    expect(drain(reader)).toBe('INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
    w.close();
    expect(existsSync(fifo)).toBe(false);
    expect(drain(reader)).toBe(''); // EOF: no writer left
    closeSync(reader);
    expect(w.counters).toEqual({ linesWritten: 2, linesDropped: 0, pipeFull: 0 });
  });

  it('no reader: writes do not block or fail, and a reader that comes later reads them in order', () => {
    const fifo = path.join(tempDir(), 'notify');
    const w = NotifyFifoWriter.open(fifo, { clock: new SystemClock() });
    const started = performance.now();
    for (let i = 0; i < 100; i++) w.write(`INSTANCE "VI_1" MASTER ${i}\n`);
    expect(performance.now() - started).toBeLessThan(1000);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    expect(drain(reader)).toBe(Array.from({ length: 100 }, (_, i) => `INSTANCE "VI_1" MASTER ${i}\n`).join(''));
    closeSync(reader);
    w.close();
  });

  it('a full pipe (reader gone to sleep): lines queue, bounded, the oldest are dropped and counted; order kept', async () => {
    const fifo = path.join(tempDir(), 'notify');
    const w = NotifyFifoWriter.open(fifo, { clock: new SystemClock(), maxQueuedLines: 10, retryMs: 10 });
    const line = (i: number): string => `${String(i).padStart(99, '0')}\n`; // 100 bytes
    const started = performance.now();
    // 64 KiB pipe = 655 lines fit (the last one partially, never torn); then 10 queue; the rest drop.
    for (let i = 0; i < 2000; i++) w.write(line(i));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(w.queued).toBe(10);
    expect(w.counters.pipeFull).toBeGreaterThan(0);
    const dropped = w.counters.linesDropped;
    expect(dropped).toBe(2000 - w.counters.linesWritten - 10);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    let text = '';
    for (let tries = 0; tries < 100 && w.queued > 0; tries++) {
      text += drain(reader);
      await new Promise((r) => setTimeout(r, 20));
    }
    text += drain(reader);
    const lines = text.split('\n').filter(Boolean).map(Number);
    // Every line whole, strictly increasing, ending with the newest.
    expect(text.split('\n').slice(0, -1).every((l) => l.length === 99)).toBe(true);
    expect(lines.every((n, i) => i === 0 || n > lines[i - 1]!)).toBe(true);
    expect(lines.at(-1)).toBe(1999);
    expect(lines.length).toBe(2000 - dropped);
    closeSync(reader);
    w.close();
  });

  it('refuses a path that is not a FIFO, and leaves it alone', () => {
    const file = path.join(tempDir(), 'regular');
    writeFileSync(file, 'keep me');
    expect(() => NotifyFifoWriter.open(file, { clock: new SystemClock() })).toThrow(FifoOpenError);
    expect(() => NotifyFifoWriter.open(file, { clock: new SystemClock() })).toThrow(/is not a FIFO/);
    expect(statSync(file).size).toBe(7);
  });

  it('an existing FIFO is used and not removed at close (we did not make it)', () => {
    const fifo = path.join(tempDir(), 'notify');
    NotifyFifoWriter.open(fifo, { clock: new SystemClock() }).close();
    expect(existsSync(fifo)).toBe(false);
    const first = NotifyFifoWriter.open(fifo, { clock: new SystemClock() });
    const second = NotifyFifoWriter.open(fifo, { clock: new SystemClock() });
    expect(second.created).toBe(false);
    second.close();
    expect(existsSync(fifo)).toBe(true);
    first.close();
  });
});
