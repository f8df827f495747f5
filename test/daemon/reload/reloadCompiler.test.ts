/**
 * The reload compiler's edge, for real: a child process per compilation, the same answer as the
 * in-process `-t` path, the event loop free while it works, and the wall-clock, heap and abort limits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMPILE_LIMITS } from '../../../src/config/budget.js';
import { compileConfigFile } from '../../../src/config/compileFile.js';
import { childCompiler } from '../../../src/daemon/reload/reloadCompiler.js';
import { writeHostileConfigs } from '../../config/hostileConfigs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'td-reloadc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALID = `global_defs {
  router_id lb1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    ~SEQ(N, 10, 12) 10.0.0.\${N}/24
  }
}
`;

/** The longest the event loop went without running a 5 ms timer while `work` ran. */
async function maxLoopLagMs<T>(work: Promise<T>): Promise<{ value: T; lagMs: number }> {
  let last = performance.now();
  let lagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last);
    last = now;
  }, 5);
  const value = await work;
  clearInterval(timer);
  return { value, lagMs };
}

/** No budget to speak of: what the edge's limits must stop on their own. */
const UNBOUNDED = { ...DEFAULT_COMPILE_LIMITS, maxLines: 1e12, maxExpansionSteps: 1e12, maxExpandedBytes: 1e15, maxOutputBytes: 1e15, maxTokens: 1e12 };

describe('reload compiler: a child process per SIGHUP', () => {
  const compile = childCompiler({ configId: 'lb1', strict: false });

  it('gives the model the in-process path gives', async () => {
    const file = path.join(dir, 'valid.conf');
    writeFileSync(file, VALID);
    const child = await compile(file);
    const inProcess = compileConfigFile(file, { configId: 'lb1' });
    expect(child.ok).toBe(true);
    expect(child).toEqual(inProcess);
  });

  it('rejects every hostile file with the error -t gives', async () => {
    const hostile = writeHostileConfigs(path.join(dir, 'hostile'));
    // Four children at a time: each start is a node (and, from source, a tsx) start.
    for (let i = 0; i < hostile.length; i += 4) {
      const batch = hostile.slice(i, i + 4);
      const outcomes = await Promise.all(batch.map((h) => compile(h.file)));
      batch.forEach((h, k) => {
        const outcome = outcomes[k]!;
        expect(outcome.ok, h.name).toBe(false);
        if (!outcome.ok) expect(outcome.errors.some((e) => h.error.test(e)), `${h.name}: ${outcome.errors.slice(0, 3).join('\n')}`).toBe(true);
      });
    }
  }, 300_000);

  it('the event loop keeps running while a large file compiles', async () => {
    const file = path.join(dir, 'large.conf');
    writeFileSync(file, `${VALID}~SEQ(I, 400000) router_id $I\n`);
    const t0 = performance.now();
    const { value, lagMs } = await maxLoopLagMs(compile(file));
    const elapsedMs = performance.now() - t0;
    console.log(`[reload compiler] 400,000 lines in the child in ${elapsedMs.toFixed(0)} ms: the parent's loop lag was at most ${lagMs.toFixed(0)} ms`);
    expect(value.ok, JSON.stringify(value).slice(0, 300)).toBe(true);
    // Compiled on this loop, the lag would be the whole compilation. A loaded machine (other suites on the
    // two cores) delays timers too, hence the share rather than a fixed bound alone.
    expect(lagMs).toBeLessThan(Math.max(250, elapsedMs / 4));
  }, 120_000);

  it('the wall-clock limit kills it and reports the line it was reading', async () => {
    const file = path.join(dir, 'forever.conf');
    writeFileSync(file, '# a budget this test turns off\n\n~SEQ(A, 100000) ~SEQ(B, 100000) @other x\n');
    const t0 = performance.now();
    const outcome = await childCompiler({ configId: 'lb1', strict: false, limits: UNBOUNDED, timeLimitMs: 4000 })(file);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(outcome).toEqual({ ok: false, warnings: [], errors: [`${file}:3: error: compiling the configuration took longer than 4 s: stopped (it was reading this line)`] });
  }, 30_000);

  it('the time limit runs from when the child has loaded; a child that never loads is stopped', async () => {
    const file = path.join(dir, 'small.conf');
    writeFileSync(file, 'global_defs {\n  router_id lb1\n}\n');
    // A compile limit shorter than the child's own start (Node + the compiler through tsx): still compiled.
    expect(await childCompiler({ configId: 'lb1', strict: false, timeLimitMs: 300 })(file)).toMatchObject({ ok: true });
    const stopped = await childCompiler({ configId: 'lb1', strict: false, startLimitMs: 1 })(file);
    expect(stopped).toEqual({ ok: false, warnings: [], errors: [`${file}:1: error: the compiler process did not start within 0.001 s`] });
  }, 60_000);

  it('the heap limit stops it with a located error', async () => {
    const file = path.join(dir, 'huge.conf');
    writeFileSync(file, `$W=${'a '.repeat(30_000)}\n~SEQ(A, 100000) ~SEQ(B, 100000) $W\n`);
    const outcome = await childCompiler({ configId: 'lb1', strict: false, limits: UNBOUNDED, heapLimitMb: 64 })(file);
    expect(outcome).toEqual({ ok: false, warnings: [], errors: [`${file}:2: error: compiling the configuration needed more than 64 MB: stopped (it was reading this line)`] });
  }, 120_000);

  it('an abort (the daemon stops) ends it at once', async () => {
    const file = path.join(dir, 'forever2.conf');
    writeFileSync(file, '~SEQ(A, 100000) ~SEQ(B, 100000) @other x\n');
    const abort = new AbortController();
    const pending = childCompiler({ configId: 'lb1', strict: false, limits: UNBOUNDED })(file, abort.signal);
    setTimeout(() => abort.abort(), 500);
    const t0 = performance.now();
    const outcome = await pending;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.errors[0]).toMatch(new RegExp(`^${file}:1: error: reload abandoned: the daemon is stopping$`));
  }, 30_000);
});
