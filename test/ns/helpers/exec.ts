import { execFile } from 'node:child_process';

/** Result of one command; `code` is the exit status (null when killed by a signal). */
export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs a command with argv (never a shell) and resolves with its output, whatever the exit status. */
export function runCommand(file: string, args: string[], timeoutMs = 15_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

/** Runs a command and throws (with its stderr) unless it exits 0. */
export async function mustRun(file: string, args: string[], timeoutMs?: number): Promise<string> {
  const result = await runCommand(file, args, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Polls `check` until it returns a truthy value or the deadline passes; returns the value or undefined. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** argv to run a TypeScript file of this repository with Node + tsx (no build step). */
export function tsxArgv(scriptPath: string, args: string[] = []): string[] {
  return [process.execPath, '--import', 'tsx', scriptPath, ...args];
}
