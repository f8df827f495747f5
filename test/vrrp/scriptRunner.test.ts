import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runScript } from '../../src/vrrp/edge/scriptRunner.js';
import { processAlive } from '../util/processAlive.js';
import { until } from '../util/until.js';

const alive = processAlive;

describe('script runner (argv, never a shell)', () => {
  it('passes arguments verbatim, shell metacharacters included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tv-script-'));
    try {
      const out = path.join(dir, 'out');
      const outcome = await runScript({ argv: ['/usr/bin/env', 'sh', '-c', 'printf "%s|" "$@" > "$0"', out, 'INSTANCE', 'VI_1; rm -rf /', 'MASTER', '$(id)'] });
      expect(outcome).toEqual({ exitCode: 0, timedOut: false });
      expect(readFileSync(out, 'utf8')).toBe('INSTANCE|VI_1; rm -rf /|MASTER|$(id)|');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports the exit status', async () => {
    expect(await runScript({ argv: ['/bin/false'] })).toEqual({ exitCode: 1, timedOut: false });
    expect(await runScript({ argv: ['/bin/sh', '-c', 'exit 3'] })).toEqual({ exitCode: 3, timedOut: false });
  });

  it('kills a script at its timeout', async () => {
    const t0 = performance.now();
    const outcome = await runScript({ argv: ['/bin/sleep', '5'], timeoutMs: 200 });
    expect(outcome.timedOut).toBe(true);
    expect(outcome.exitCode).toBeNull();
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('a missing program or unknown user is a failed script, not a throw', async () => {
    // setpriv (the pdeathsig wrapper) reports a program it cannot find as 127, as a shell would.
    const missing = await runScript({ argv: ['/nonexistent/tv-check'] });
    expect(missing.exitCode).not.toBe(0);
    const user = await runScript({ argv: ['/bin/true'], user: 'tv-no-such-user' });
    expect(user).toEqual({ exitCode: null, timedOut: false, error: "not run: user 'tv-no-such-user' does not exist" });
  });

  it('stdio is /dev/null: 10 MB of output, reading stdin, a child holding stdout — all exit 0 at once', async () => {
    const t0 = performance.now();
    expect(await runScript({ argv: ['/bin/sh', '-c', 'head -c 10000000 /dev/zero; exit 0'], timeoutMs: 10_000 })).toEqual({ exitCode: 0, timedOut: false });
    expect(await runScript({ argv: ['/bin/sh', '-c', 'cat > /dev/null; exit 0'], timeoutMs: 10_000 })).toEqual({ exitCode: 0, timedOut: false });
    expect(await runScript({ argv: ['/bin/sh', '-c', 'sleep 30 & exit 0'], timeoutMs: 10_000 })).toEqual({ exitCode: 0, timedOut: false });
    expect(performance.now() - t0).toBeLessThan(8_000);
  });

  it('a track script\'s leftovers die with it, a notify script\'s may outlive it; aborting a running script ends its group', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tv-script-'));
    try {
      const pidFile = path.join(dir, 'pid');
      const leave = ['/bin/sh', '-c', 'sleep 30 & echo $! > "$0"; exit 0', pidFile];
      expect((await runScript({ argv: leave, leftovers: 'kill' })).exitCode).toBe(0);
      const tracked = Number(readFileSync(pidFile, 'utf8'));
      expect(await until(() => !alive(tracked), 10_000)).toBe(true);

      const stop = new AbortController();
      expect((await runScript({ argv: leave, leftovers: 'keep', signal: stop.signal })).exitCode).toBe(0);
      const kept = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(kept)).toBe(true); // may outlive the notify script, as with keepalived
      process.kill(kept, 'SIGKILL');

      const running = runScript({ argv: ['/bin/sh', '-c', 'sleep 30 & echo $! > "$0"; wait', pidFile], leftovers: 'keep', signal: stop.signal });
      expect(await until(() => readFileSync(pidFile, 'utf8').trim() !== String(kept), 5_000)).toBe(true);
      const child = Number(readFileSync(pidFile, 'utf8'));
      const t0 = performance.now();
      stop.abort();
      expect(await running).toMatchObject({ error: 'ended: stopping' });
      expect(performance.now() - t0).toBeLessThan(5_000); // SIGTERM, SIGKILL 1 s later at the latest
      expect(await until(() => !alive(child), 10_000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)('runs as script_user', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tv-script-'));
    try {
      const out = path.join(dir, 'uid');
      const { chmodSync } = await import('node:fs');
      chmodSync(dir, 0o777);
      const outcome = await runScript({ argv: ['/bin/sh', '-c', 'echo "$(id -u) $(id -g)" > "$0"', out], user: 'nobody' });
      expect(outcome.exitCode).toBe(0);
      expect(readFileSync(out, 'utf8').trim()).toBe('65534 65534');
      // A numeric user gets that uid's passwd group, not gid 0.
      expect((await runScript({ argv: ['/bin/sh', '-c', 'echo "$(id -u) $(id -g)" > "$0"', out], user: '65534' })).exitCode).toBe(0);
      expect(readFileSync(out, 'utf8').trim()).toBe('65534 65534');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
