/**
 * The edge-facing wrapper: compile a file from disk and get formatted diagnostics, in the shape the daemon
 * uses for start-up and reload (`{ ok, model, warnings } | { ok: false, errors, warnings }`).
 */
import { formatDiagnostic } from './diagnostics.js';
import type { FileSource } from './fileSource.js';
import { loadConfig, type LoadOptions } from './load.js';
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
}

export function compileConfigFile(file: string, opts: CompileFileOptions): ConfigFileOutcome {
  const result = loadConfig(file, {
    files: opts.files ?? new NodeFileSource(),
    configId: opts.configId,
    strict: opts.strict === true,
    ...(opts.hostChecks ? { hostChecks: opts.hostChecks } : {}),
  });
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (result.model === undefined) {
    // Under --strict, warnings are the errors.
    return { ok: false, errors: errors.length > 0 ? errors : warnings, warnings: errors.length > 0 ? warnings : [] };
  }
  return { ok: true, model: result.model, warnings };
}

/** A `(file) => Promise<outcome>` compiler bound to the CLI's --config-id/--strict, for reloads. */
export function makeConfigCompiler(opts: CompileFileOptions): (file: string) => Promise<ConfigFileOutcome> {
  return (file) => Promise.resolve(compileConfigFile(file, opts));
}
