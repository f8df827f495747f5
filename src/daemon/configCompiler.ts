import { formatDiagnostic } from '../config/diagnostics.js';
import type { FileSource } from '../config/fileSource.js';
import { loadConfig } from '../config/load.js';
import { NodeFileSource } from '../config/nodeFileSource.js';
import type { CompileOutcome, ConfigCompiler } from './parts.js';

/**
 * The reload's compiler: the config room's loadConfig on the real files, with the options the daemon was
 * started with (`--config-id`, `--strict`), diagnostics already formatted `FILE:LINE[:COL]: …`.
 */
export function configCompiler(options: { configId: string; strict?: boolean; files?: FileSource }): ConfigCompiler {
  const files = options.files ?? new NodeFileSource();
  return async (file: string): Promise<CompileOutcome> => {
    const result = loadConfig(file, { files, configId: options.configId, strict: options.strict ?? false });
    const errors = result.diagnostics.filter((d) => d.severity === 'error' || options.strict).map(formatDiagnostic);
    const warnings = result.diagnostics.filter((d) => d.severity === 'warning' && !options.strict).map(formatDiagnostic);
    if (!result.model) return { ok: false, errors: errors.length > 0 ? errors : [`${file}: configuration rejected`], warnings };
    return { ok: true, model: result.model, warnings };
  };
}
