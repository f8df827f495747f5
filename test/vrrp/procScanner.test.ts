/** The /proc edge for real: a process with a distinctive argv is counted, then not once it exits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcScanner } from '../../src/vrrp/edge/procScanner.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function startSleep(argv0: string, ...args: string[]): ChildProcess {
  const child = spawn('sleep', ['1000', ...args], { argv0, stdio: 'ignore' });
  children.push(child);
  return child;
}

async function waitFor(predicate: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ProcScanner over the real /proc', () => {
  it('counts processes by argv[0] (full_command) and by params; the async pass follows exits', async () => {
    const name = `tslvsd-proc-test-${process.pid}`;
    const a = startSleep(name);
    startSleep(name);
    const scanner = new ProcScanner({ periodMs: 3_600_000, batch: 8 });
    const fullCommand = { process: name, params: [], paramMatch: 'any', fullCommand: true } as const;
    // Until exec has replaced the forked image, argv[0] is not yet ours.
    await waitFor(() => {
      const probe = scanner.track(fullCommand, () => {});
      probe.close();
      return probe.initialCount === 2;
    });
    const counts: number[] = [];
    const byArgv0 = scanner.track(fullCommand, (n) => counts.push(n));
    expect(byArgv0.initialCount).toBe(2);
    const byParams = scanner.track({ process: 'sleep', params: ['1000'], paramMatch: 'initial', fullCommand: false }, () => {});
    expect(byParams.initialCount).toBeGreaterThanOrEqual(2);
    a.kill('SIGKILL');
    await new Promise((r) => a.once('exit', r));
    await scanner.scan();
    expect(counts.at(-1)).toBe(1);
    byArgv0.close();
    byParams.close();
  });

  it('a missing /proc reads as no process', () => {
    const scanner = new ProcScanner({ procRoot: '/nonexistent-proc' });
    const w = scanner.track({ process: 'x', params: [], paramMatch: 'any', fullCommand: false }, () => {});
    expect(w.initialCount).toBe(0);
    w.close();
  });
});
