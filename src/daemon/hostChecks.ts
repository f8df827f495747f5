/**
 * What `-t`, start and every reload check on the host after the pure compiler (config/load.ts hostChecks):
 * the scripts' users and permissions (src/scripts/hostChecks.ts) and the SSL block's files
 * (src/healthcheck/tlsFiles.ts). An error refuses the config; on reload the running one is kept.
 */
import type { Diagnostic } from '../config/diagnostics.js';
import type { ConfigModel } from '../config/model.js';
import { checkSslFilesOnHost } from '../healthcheck/tlsFiles.js';
import { checkScriptsOnHost } from '../scripts/hostChecks.js';

export function checkConfigOnHost(model: ConfigModel): Diagnostic[] {
  return [...checkScriptsOnHost(model), ...checkSslFilesOnHost(model)];
}
