import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { type CliOptions, HELP_TEXT, parseCliOptions } from './cliOptions.js';
import type { ConfigModel } from './config/model.js';
import { VERSION } from './version.js';

// Only the option parser and the version are imported statically: --version and --help load nothing else
// (five modules), -t loads the config compiler, and only a real run loads the daemon (issue 16).

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
    case 'signum':
      // keepalived's --signum=SIGFUNC: the number to send (`kill -$(tslvsd --signum=RELOAD) PID`).
      io.out.write(`${options.signum}\n`);
      return 0;
    case 'status': {
      const { runStatusCommand } = await import('./daemon/statusCommand.js');
      return runStatusCommand([...options.statusArgs], io.out, io.err);
    }
    default:
      break;
  }

  // keepalived's -t=LOG_FILE: the check's output appended there instead of stderr.
  if (options.command === 'config-test' && options.configTestLogFile !== undefined) {
    const file = options.configTestLogFile;
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      io.err.write(`tslvsd: --config-test=${file}: cannot open it (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
      return 1;
    }
    try {
      return await checkAndRun(options, { out: io.out, err: { write: (text: string) => writeSync(fd, text) } });
    } finally {
      closeSync(fd);
    }
  }
  return checkAndRun(options, io);
}

/** Compiles the configuration, then tests, dumps or runs it. */
async function checkAndRun(options: CliOptions, io: CliStreams): Promise<number> {
  const [{ formatDiagnostic }, { loadConfigFile }, { checkConfigOnHost }] = await Promise.all([
    import('./config/diagnostics.js'),
    import('./config/compileFile.js'),
    import('./daemon/hostChecks.js'),
  ]);
  // The compile budget (src/config/budget.ts) bounds this: -t terminates on any input, FIFOs included.
  const result = loadConfigFile(options.configFile, {
    configId: options.configId ?? '',
    strict: options.strict,
    // -t and the start check what only the host can tell: script users, script file permissions, SSL files.
    ...(options.command !== 'dump-config' ? { hostChecks: checkConfigOnHost } : {}),
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
    if (options.dumpConf) io.out.write(`${JSON.stringify(result.model, null, 2)}\n`);
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
  // keepalived's -u/--umask, for every file the daemon creates.
  if (options.umask !== undefined) process.umask(options.umask);
  const { runDaemon } = await import('./daemon.js');
  return runDaemon(options, model);
}
