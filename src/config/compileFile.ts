/**
 * The edge-facing wrapper: compile a file from disk and get formatted diagnostics, in the shape the daemon
 * uses for start-up and reload (`{ ok, model, warnings } | { ok: false, errors, warnings }`).
 *
 * `loadConfigFile` is the one function behind `tslvsd -t`, `--dump-config`, the daemon's start-up and the
 * reload child (src/daemon/reloadCompiler.ts): the same files, the same CompileBudget, the same answer.
 */
import type { CompileBudget, CompileLimits } from './budget.js';
import { formatDiagnostic } from './diagnostics.js';
import type { FileSource } from './fileSource.js';
import { loadConfig, type LoadOptions, type LoadResult } from './load.js';
import type { ConfigModel } from './model.js';
import { NodeFileSource } from './nodeFileSource.js';

export type ConfigFileOutcome =
  | { ok: true; model: ConfigModel; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

export interface CompileFileOptions {
  readonly configId: string;
  readonly strict?: boolean;
  readonly files?: FileSource;
  /** Host checks after compiling (script users and permissions); see LoadOptions.hostChecks. */
  readonly hostChecks?: LoadOptions['hostChecks'];
  readonly limits?: CompileLimits;
  readonly budget?: CompileBudget;
}

export function loadConfigFile(file: string, opts: CompileFileOptions): LoadResult {
  return loadConfig(file, {
    files: opts.files ?? new NodeFileSource(),
    configId: opts.configId,
    strict: opts.strict === true,
    ...(opts.hostChecks ? { hostChecks: opts.hostChecks } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
  });
}

export function outcomeOf(result: LoadResult): ConfigFileOutcome {
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (result.model === undefined) {
    // Under --strict, warnings are the errors.
    return { ok: false, errors: errors.length > 0 ? errors : warnings, warnings: errors.length > 0 ? warnings : [] };
  }
  return { ok: true, model: result.model, warnings };
}

export function compileConfigFile(file: string, opts: CompileFileOptions): ConfigFileOutcome {
  return outcomeOf(loadConfigFile(file, opts));
}

/** A `(file) => Promise<outcome>` compiler bound to the CLI's --config-id/--strict, in this process (tests). */
export function makeConfigCompiler(opts: CompileFileOptions): (file: string) => Promise<ConfigFileOutcome> {
  return (file) => Promise.resolve(compileConfigFile(file, opts));
}
