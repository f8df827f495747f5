import { hostname } from 'node:os';
import { type CliOptions, HELP_TEXT, parseCliOptions } from './cliOptions.js';
import { formatDiagnostic } from './config/diagnostics.js';
import { loadConfigFile } from './config/compileFile.js';
import type { ConfigModel } from './config/model.js';
import { checkScriptsOnHost } from './scripts/hostChecks.js';
import { VERSION } from './version.js';

/** Where the CLI writes; injectable so tests can run main() in-process. */
export interface CliStreams {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown };
}

/** keepalived's default config id: the node name up to the first dot. */
export function defaultConfigId(): string {
  return hostname().split('.')[0] ?? '';
}

/**
 * Command-line entry. Returns the process exit code: 0 ok, 1 configuration errors (or a failed daemon),
 * 2 usage error. A foreground run resolves only when the daemon stops.
 */
export async function main(argv: string[], io: CliStreams = { out: process.stdout, err: process.stderr }): Promise<number> {
  const parsed = parseCliOptions(argv);
  if (!parsed.ok) {
    // One sentence, not the whole help: the error is what the operator must read.
    io.err.write(`tslvsd: ${parsed.message}\n`);
    return 2;
  }
  const options: CliOptions = { ...parsed.options, configId: parsed.options.configId ?? defaultConfigId() };
  switch (options.command) {
    case 'help':
      io.out.write(HELP_TEXT);
      return 0;
    case 'version':
      io.out.write(`tslvsd ${VERSION}\n`);
      return 0;
    case 'status': {
      const { runStatusCommand } = await import('./daemon/statusCommand.js');
      return runStatusCommand([...options.statusArgs], io.out, io.err);
    }
    default:
      break;
  }

  // The compile budget (src/config/budget.ts) bounds this: -t terminates on any input, FIFOs included.
  const result = loadConfigFile(options.configFile, {
    configId: options.configId ?? '',
    strict: options.strict,
    // -t and the start check what only the host can tell: script users, script file permissions.
    ...(options.command !== 'dump-config' ? { hostChecks: checkScriptsOnHost } : {}),
  });
  for (const d of result.diagnostics) io.err.write(`${formatDiagnostic(d)}\n`);
  const summary = `${result.errorCount} error(s), ${result.warningCount} warning(s)`;
  if (result.model === undefined) {
    const why = result.errorCount === 0 && options.strict ? ' (--strict: warnings are fatal)' : '';
    io.err.write(`tslvsd: ${options.configFile}: configuration invalid: ${summary}${why}\n`);
    return 1;
  }
  if (options.command === 'config-test') {
    io.err.write(`tslvsd: ${options.configFile}: configuration valid: ${summary}\n`);
    return 0;
  }
  if (options.command === 'dump-config') {
    io.out.write(`${JSON.stringify(result.model, null, 2)}\n`);
    return 0;
  }
  return runForeground(options, result.model);
}

/** The daemon is loaded only for a real run, so -t / --dump-config / --version stay fast and side-effect free. */
async function runForeground(options: CliOptions, model: ConfigModel): Promise<number> {
  const { runDaemon } = await import('./daemon.js');
  return runDaemon(options, model);
}
