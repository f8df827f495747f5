import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runScript } from '../../src/vrrp/edge/scriptRunner.js';

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

  it.skipIf(process.getuid?.() !== 0)('runs as script_user', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tv-script-'));
    try {
      const out = path.join(dir, 'uid');
      const { chmodSync } = await import('node:fs');
      chmodSync(dir, 0o777);
      const outcome = await runScript({ argv: ['/bin/sh', '-c', 'id -u > "$0"', out], user: 'nobody' });
      expect(outcome.exitCode).toBe(0);
      expect(readFileSync(out, 'utf8').trim()).toBe('65534');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
