/**
 * The command-line contract, typed: `parseCliOptions(argv)` turns arguments into `CliOptions` or a usage
 * error. Pure (no I/O); defaults that need the machine (the hostname for --config-id) are filled by
 * cli.ts. Names match the daemon's options where they meet (configFile, logLevel, logFormat, pidFile,
 * metricsListen), so the whole object can be handed to `runDaemon`.
 */
import { parseArgs } from 'node:util';
import { socketPathProblem } from './daemon/socketPath.js';
import type { LogFormat, LogLevel } from './util/log.js';

export const DEFAULT_CONFIG_FILE = '/etc/tslvsd.conf';
export const DEFAULT_METRICS_LISTEN = { host: '127.0.0.1', port: 9165 } as const;

const LOG_LEVEL_VALUES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LogLevel[];
const LOG_FORMAT_VALUES = ['json', 'pretty'] as const satisfies readonly LogFormat[];

/** What the invocation asks for. `run` is the foreground daemon. */
export type CliCommand = 'run' | 'config-test' | 'dump-config' | 'status' | 'version' | 'help';

export interface CliOptions {
  readonly command: CliCommand;
  /** `--config/-f FILE` (default /etc/tslvsd.conf). */
  readonly configFile: string;
  /** `--strict`: warnings are fatal. */
  readonly strict: boolean;
  /** `--config-id/-i ID` for `@id` lines; undefined = the hostname up to the first dot (filled by cli.ts). */
  readonly configId: string | undefined;
  /** `--pid-file PATH`; nothing is written to disk unless given. */
  readonly pidFile: string | undefined;
  /** `--vrrp-only/-P`: run only VRRP (keepalived's -P). */
  readonly vrrpOnly: boolean;
  /** `--check-only/-C`: run only health checks and IPVS (keepalived's -C). */
  readonly checkOnly: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** `--metrics-listen HOST:PORT` (default 127.0.0.1:9165); undefined = `off`. */
  readonly metricsListen: { readonly host: string; readonly port: number } | undefined;
  /** `--keep-ipvs-on-exit`: leave the IPVS table in place when stopping. */
  readonly keepIpvsOnExit: boolean;
  /** `--status-socket PATH` for the daemon and for `status`; undefined = the daemon's default. */
  readonly statusSocket: string | undefined;
  /** `status --json`. */
  readonly json: boolean;
  /** The arguments after `status`, for the status command as given. */
  readonly statusArgs: readonly string[];
}

export type CliParseResult = { ok: true; options: CliOptions } | { ok: false; message: string };

export const HELP_TEXT = `usage: tslvsd [options]            run in the foreground
       tslvsd status [--json]      ask the running daemon for its state

options:
  -f, --config FILE          keepalived.conf-syntax configuration (default ${DEFAULT_CONFIG_FILE})
  -t, --config-test          check the configuration and exit (0 valid, warnings allowed; 1 errors)
      --dump-config          print the validated configuration model as JSON and exit
      --strict               treat configuration warnings as errors
  -i, --config-id ID         id for '@ID' conditional lines (default: hostname up to the first dot)
  -P, --vrrp-only            run VRRP only
  -C, --check-only           run health checks and IPVS only
      --log-level LEVEL      ${LOG_LEVEL_VALUES.join('|')} (default info)
      --log-format FORMAT    json|pretty (default json)
      --metrics-listen ADDR  HOST:PORT for Prometheus, or off (default ${DEFAULT_METRICS_LISTEN.host}:${DEFAULT_METRICS_LISTEN.port})
      --keep-ipvs-on-exit    leave the IPVS table in place when stopping
      --pid-file PATH        write the daemon's pid there (nothing is written unless asked)
      --status-socket PATH   the daemon's status socket
  -v, --version              print the version
  -h, --help                 this text
`;

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVEL_VALUES as readonly string[]).includes(value);
}

function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMAT_VALUES as readonly string[]).includes(value);
}

/** `HOST:PORT`, `[V6]:PORT` or `off`. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined | 'invalid' {
  if (text === 'off') return undefined;
  const m = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(text) ?? /^([^:]+):([0-9]{1,5})$/.exec(text);
  if (m === null) return 'invalid';
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return 'invalid';
  return { host: m[1], port };
}

/**
 * node:util parseArgs says "Unknown option '--frob'. To specify a positional argument starting with a '-',
 * place it at the end…": a paragraph about a case this CLI does not have. One sentence instead.
 */
function parseArgsMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  const option = /'(-[^']*)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) return `unknown option '${option}' (tslvsd --help lists the options)`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return message.replace(/\.$/, '');
  return message;
}

export function parseCliOptions(argv: readonly string[]): CliParseResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'f' },
        'use-file': { type: 'string' },
        'config-test': { type: 'boolean', short: 't' },
        'dump-config': { type: 'boolean' },
        strict: { type: 'boolean' },
        'config-id': { type: 'string', short: 'i' },
        'vrrp-only': { type: 'boolean', short: 'P' },
        vrrp: { type: 'boolean' },
        'check-only': { type: 'boolean', short: 'C' },
        check: { type: 'boolean' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'metrics-listen': { type: 'string' },
        'keep-ipvs-on-exit': { type: 'boolean' },
        'pid-file': { type: 'string' },
        'status-socket': { type: 'string' },
        json: { type: 'boolean' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return { ok: false, message: parseArgsMessage(e) };
  }
  const v = parsed.values;
  const positionals = parsed.positionals;

  let command: CliCommand = 'run';
  if (positionals.length > 0) {
    if (positionals[0] !== 'status' || positionals.length > 1) {
      return { ok: false, message: `unexpected argument '${positionals.join(' ')}' (the only subcommand is 'status')` };
    }
    command = 'status';
  }
  if (v.help) command = 'help';
  else if (v.version) command = 'version';
  else if (command !== 'status') {
    if (v['config-test'] && v['dump-config']) return { ok: false, message: '--config-test and --dump-config exclude each other' };
    if (v['config-test']) command = 'config-test';
    else if (v['dump-config']) command = 'dump-config';
  }
  if (v.json && command !== 'status') return { ok: false, message: "--json applies to 'tslvsd status'" };

  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) {
    return { ok: false, message: `--log-level: '${logLevel}' is not one of ${LOG_LEVEL_VALUES.join(', ')}` };
  }
  const logFormat = v['log-format'] ?? 'json';
  if (!isLogFormat(logFormat)) {
    return { ok: false, message: `--log-format: '${logFormat}' is not json or pretty` };
  }
  let metricsListen: { host: string; port: number } | undefined = { ...DEFAULT_METRICS_LISTEN };
  if (v['metrics-listen'] !== undefined) {
    const listen = parseListenAddress(v['metrics-listen']);
    if (listen === 'invalid') return { ok: false, message: `--metrics-listen: '${v['metrics-listen']}' is not HOST:PORT or off` };
    metricsListen = listen;
  }
  const vrrpOnly = v['vrrp-only'] === true || v.vrrp === true;
  const checkOnly = v['check-only'] === true || v.check === true;
  if (vrrpOnly && checkOnly) return { ok: false, message: '--vrrp-only and --check-only exclude each other' };
  if (v.config !== undefined && v['use-file'] !== undefined) return { ok: false, message: '--config given twice' };

  if (v['status-socket'] !== undefined) {
    const problem = socketPathProblem(v['status-socket']);
    if (problem !== undefined) return { ok: false, message: `--status-socket: ${problem}` };
  }

  const statusArgs: string[] = [];
  if (command === 'status') {
    if (v.json) statusArgs.push('--json');
    if (v['status-socket'] !== undefined) statusArgs.push('--status-socket', v['status-socket']);
  }
  return {
    ok: true,
    options: {
      command,
      configFile: v.config ?? v['use-file'] ?? DEFAULT_CONFIG_FILE,
      strict: v.strict === true,
      configId: v['config-id'],
      pidFile: v['pid-file'],
      vrrpOnly,
      checkOnly,
      logLevel,
      logFormat,
      metricsListen,
      keepIpvsOnExit: v['keep-ipvs-on-exit'] === true,
      statusSocket: v['status-socket'],
      json: v.json === true,
      statusArgs,
    },
  };
}
