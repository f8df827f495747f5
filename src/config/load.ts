/**
 * The compiler's front door: file → preprocessor → parser → compiler → ConfigModel + diagnostics.
 * Pure (files through FileSource); never throws on bad input.
 */
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
  readonly maxLines?: number;
  /**
   * Checks of a compiled model that need the host (script users, script file permissions:
   * src/scripts/hostChecks.ts), run when the compiler found no error. Injected by the CLI and the daemon
   * so the compiler itself stays pure.
   */
  readonly hostChecks?: (model: ConfigModel) => readonly Diagnostic[];
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
  const pre = new Preprocessor({
    files: opts.files, sink, configId: opts.configId,
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.maxLines !== undefined ? { maxLines: opts.maxLines } : {}),
  });
  const lines = pre.run(path);
  const tree = parse(lines, sink);
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
