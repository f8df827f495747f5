/**
 * The compiler's front door: file → preprocessor → parser → compiler → ConfigModel + diagnostics.
 * Pure (files through FileSource); never throws on bad input.
 */
import { CompileBudget, type CompileLimits, CompileStopped } from './budget.js';
import { type Diagnostic, DiagnosticSink } from './diagnostics.js';
import type { FileSource } from './fileSource.js';
import { compileConfig } from './compiler/compile.js';
import type { ConfigModel } from './model.js';
import { parse } from './parser.js';
import { Preprocessor } from './preprocess.js';

export interface LoadOptions {
  readonly files: FileSource;
  /** `--config-id`; default is the caller's business (the CLI uses the hostname up to the first dot). */
  readonly configId: string;
  /** `--strict`: warnings count as errors. */
  readonly strict?: boolean;
  readonly random?: () => number;
  /**
   * Checks of a compiled model that need the host (script users, script file permissions:
   * src/scripts/hostChecks.ts), run when the compiler found no error. Injected by the CLI and the daemon
   * so the compiler itself stays pure.
   */
  readonly hostChecks?: (model: ConfigModel) => readonly Diagnostic[];
  /** What one compilation may cost (default DEFAULT_COMPILE_LIMITS); ignored when `budget` is given. */
  readonly limits?: CompileLimits;
  /** The budget to charge (to observe it, or to watch progress); default a fresh one from `limits`. */
  readonly budget?: CompileBudget;
}

export interface LoadResult {
  /** The model, or undefined when there were errors (or warnings under --strict). */
  readonly model: ConfigModel | undefined;
  readonly diagnostics: readonly Diagnostic[];
  readonly errorCount: number;
  readonly warningCount: number;
}

export function loadConfig(path: string, opts: LoadOptions): LoadResult {
  const sink = new DiagnosticSink();
  const budget = opts.budget ?? new CompileBudget(opts.limits);
  const pre = new Preprocessor({ files: opts.files, sink, configId: opts.configId, budget, ...(opts.random ? { random: opts.random } : {}) });
  const lines = pre.run(path);
  // Stopped (over budget, an include loop, a binary file): the lines are incomplete, and parsing them would
  // only add noise to the one error that matters.
  if (pre.stopped) return rejected(sink);
  let tree;
  try {
    tree = parse(lines, sink, budget);
  } catch (e) {
    if (!(e instanceof CompileStopped)) throw e;
    sink.fatal(e.at, e.message);
    return rejected(sink);
  }
  const compiled = compileConfig(tree, path, { sink });
  if (opts.hostChecks && compiled && sink.errorCount === 0) {
    for (const d of opts.hostChecks(compiled)) {
      if (d.severity === 'error') sink.error(d, d.message);
      else sink.warning(d, d.message);
    }
  }
  const errorCount = sink.errorCount;
  const warningCount = sink.warningCount;
  const failed = errorCount > 0 || (opts.strict === true && warningCount > 0);
  return { model: failed ? undefined : compiled, diagnostics: sink.items, errorCount, warningCount };
}

function rejected(sink: DiagnosticSink): LoadResult {
  return { model: undefined, diagnostics: sink.items, errorCount: sink.errorCount, warningCount: sink.warningCount };
}
