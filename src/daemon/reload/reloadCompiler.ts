import { spawn } from 'node:child_process';
import type { CompileLimits } from '../../config/budget.js';
import type { SourcePosition } from '../../config/diagnostics.js';
import { nodeArgs, sibling } from '../../healthcheck/worker/moduleRunner.js';
import type { CompileOutcome, ConfigCompiler } from '../parts.js';
import type { CompileChildMessage, CompileRequest } from './protocol.js';

/**
 * SIGHUP's compiler: the configuration is compiled in a child process, never on the daemon's event loop,
 * which is the VRRP thread — adverts, timers and the status socket keep running whatever the file holds.
 *
 * A child process rather than a worker thread: a child can always be killed (SIGKILL), while a worker
 * stuck in a blocking system call — open() of a FIFO, a read on a hung NFS mount — cannot be terminated
 * and would hold the daemon's exit; the child's memory is its own (the OOM killer sees it, not the daemon,
 * and the daemon's heap never holds a hostile expansion); and a V8 fatal error kills only the child. The
 * cost, a node start per reload (0.3-0.6 s from dist/ on the 2-core test machine under load), is paid only on
 * SIGHUP, while the running configuration goes on.
 *
 * The compiler's own CompileBudget (counted, deterministic) rejects hostile files long before these limits;
 * the wall clock and the heap limit are the backstop for whatever the budget does not count.
 */
export interface ReloadCompilerOptions {
  readonly configId: string;
  readonly strict: boolean;
  /**
   * Wall clock for one compilation, from when the child has loaded (default 30 s; the corpus's largest takes
   * 2.5 s). The child's own start is not in it: on a loaded or emulated machine loading Node and the compiler
   * alone took over 30 s (VM e2e-ecmp), and a valid reload must not be refused for that.
   */
  readonly timeLimitMs?: number;
  /** Wall clock for the child to load (default 120 s). */
  readonly startLimitMs?: number;
  /**
   * V8 heap of the child (default 1024 MB). The corpus's largest needs 160 MB; files at the budget's ceiling
   * measured 330 MB RSS (499,000 lines) and 423 MB (458,000 VIPs) under `tslvsd -t`.
   */
  readonly heapLimitMb?: number;
  /** Budgets other than DEFAULT_COMPILE_LIMITS (tests). */
  readonly limits?: CompileLimits;
}

export const DEFAULT_RELOAD_TIME_LIMIT_MS = 30_000;
export const DEFAULT_RELOAD_START_LIMIT_MS = 120_000;
export const DEFAULT_RELOAD_HEAP_LIMIT_MB = 1024;

const CHILD = sibling(import.meta.url, './compileChild');

export function childCompiler(options: ReloadCompilerOptions): ConfigCompiler {
  return (file, signal) => compileInChild(file, options, signal);
}

function compileInChild(file: string, options: ReloadCompilerOptions, signal?: AbortSignal): Promise<CompileOutcome> {
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_RELOAD_TIME_LIMIT_MS;
  const startLimitMs = options.startLimitMs ?? DEFAULT_RELOAD_START_LIMIT_MS;
  const heapLimitMb = options.heapLimitMb ?? DEFAULT_RELOAD_HEAP_LIMIT_MB;
  return new Promise((resolve) => {
    let at: SourcePosition = { file, line: 1 };
    let outcome: CompileOutcome | undefined;
    let stopped: string | undefined;
    let stderr = '';
    const fail = (message: string): CompileOutcome => ({ ok: false, errors: [`${at.file}:${at.line}: error: ${message}`], warnings: [] });

    const child = spawn(process.execPath, [`--max-old-space-size=${heapLimitMb}`, ...nodeArgs(CHILD)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
    const kill = (why: string): void => {
      if (stopped === undefined) stopped = why;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(() => kill(`the compiler process did not start within ${startLimitMs / 1000} s`), startLimitMs);
    const startCompileClock = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => kill(`compiling the configuration took longer than ${timeLimitMs / 1000} s: stopped (it was reading this line)`), timeLimitMs);
    };
    const onAbort = (): void => kill('reload abandoned: the daemon is stopping');
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (m: CompileChildMessage) => {
      if (m.type === 'ready') startCompileClock();
      else if (m.type === 'progress') at = m.at;
      else if (m.type === 'result') outcome = m.outcome;
    });
    child.on('error', (err) => kill(`cannot start the compiler process: ${err.message}`));
    child.on('close', (code, exitSignal) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome !== undefined) return resolve(outcome);
      if (stopped !== undefined) return resolve(fail(stopped));
      if (/heap limit|out of memory/i.test(stderr)) {
        return resolve(fail(`compiling the configuration needed more than ${heapLimitMb} MB: stopped (it was reading this line)`));
      }
      const how = exitSignal ? `signal ${exitSignal}` : `exit code ${code}`;
      const last = stderr.trim().split('\n').slice(-1)[0] ?? '';
      resolve(fail(`the compiler process ended (${how}) without an answer${last ? `: ${last}` : ''}`));
    });
    const request: CompileRequest = {
      type: 'compile', file, configId: options.configId, strict: options.strict, ...(options.limits ? { limits: options.limits } : {}),
    };
    child.send(request);
  });
}
