/**
 * The command-line contract, typed: `parseCliOptions(argv)` turns arguments into `CliOptions` or a usage
 * error. Pure (no I/O); defaults that need the machine (the hostname for --config-id) are filled by
 * cli.ts. Names match the daemon's options where they meet (configFile, logLevel, logFormat, pidFile,
 * metricsListen), so the whole object can be handed to `runDaemon`.
 *
 * Two vocabularies, one parser: tslvsd's own long flags, and keepalived 2.2.7's command line with
 * keepalived's meaning (keepalived/core/main.c parse_cmdline), read the way getopt_long reads it —
 * combined short flags (`-nlD`), a short flag's value attached or next (`-fFILE`, `-f FILE`), optional
 * values only attached (`-tLOG`, `--config-test=LOG`), options and the `status` subcommand in any order,
 * `--` ending the options. keepalived flags with nothing to do here are accepted and listed in `notes`
 * (logged once at start); those that cannot be honoured are refused in one sentence.
 */
import { socketPathProblem } from './daemon/socketPath.js';
import type { LogFormat, LogLevel } from './util/log.js';

export const DEFAULT_CONFIG_FILE = '/etc/tslvsd.conf';
export const DEFAULT_METRICS_LISTEN = { host: '127.0.0.1', port: 9165 } as const;

const LOG_LEVEL_VALUES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LogLevel[];
const LOG_FORMAT_VALUES = ['json', 'pretty', 'keepalived'] as const satisfies readonly LogFormat[];

/** What the invocation asks for. `run` is the foreground daemon; `signum` is keepalived's --signum. */
export type CliCommand = 'run' | 'config-test' | 'dump-config' | 'status' | 'version' | 'help' | 'signum';

export interface CliOptions {
  readonly command: CliCommand;
  /** `--config/-f/--use-file FILE` (default /etc/tslvsd.conf). */
  readonly configFile: string;
  /** `--strict`: warnings are fatal. */
  readonly strict: boolean;
  /** `--config-id/-i ID` for `@id` lines; undefined = the hostname up to the first dot (filled by cli.ts). */
  readonly configId: string | undefined;
  /** `--pid-file/-p/--pid PATH`: the daemon's pid file, held locked while it runs; nothing is written unless given. */
  readonly pidFile: string | undefined;
  /** `-r/--vrrp_pid PATH`: keepalived's VRRP child pid file (tslvsd's one process), when VRRP runs. */
  readonly vrrpPidFile: string | undefined;
  /** `-c/--checkers_pid PATH`: keepalived's checker child pid file (tslvsd's one process), when checkers run. */
  readonly checkersPidFile: string | undefined;
  /** `--vrrp-only/-P/--vrrp`: run only VRRP (keepalived's -P). */
  readonly vrrpOnly: boolean;
  /** `--check-only/-C/--check`: run only health checks and IPVS (keepalived's -C). */
  readonly checkOnly: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** `-g/--log-file[=FILE]`: also log there (keepalived's default name keepalived.log when bare). */
  readonly logFile: string | undefined;
  /** `-t/--config-test=LOG_FILE`: the check's output goes there (appended) instead of stderr. */
  readonly configTestLogFile: string | undefined;
  /** `-d/--dump-conf`: log the compiled configuration at start (with -t: print it). */
  readonly dumpConf: boolean;
  /** `-u/--umask MASK` (numeric, C notation: 022 octal, 0x12 hex, 18 decimal). */
  readonly umask: number | undefined;
  /** `--metrics-listen HOST:PORT` (default 127.0.0.1:9165); undefined = `off`. */
  readonly metricsListen: { readonly host: string; readonly port: number } | undefined;
  /** `--keep-ipvs-on-exit`/`-I/--dont-release-ipvs`: leave the IPVS table in place when stopping. */
  readonly keepIpvsOnExit: boolean;
  /** `--status-socket PATH` for the daemon and for `status`; undefined = the daemon's default. */
  readonly statusSocket: string | undefined;
  /** `status --json`. */
  readonly json: boolean;
  /** The arguments after `status`, for the status command as given. */
  readonly statusArgs: readonly string[];
  /** `--signum=SIGFUNC`: the signal number to print. */
  readonly signum: number | undefined;
  /** keepalived flags accepted with nothing to do here: one sentence each, logged once at start. */
  readonly notes: readonly string[];
}

export type CliParseResult = { ok: true; options: CliOptions } | { ok: false; message: string };

export const HELP_TEXT = `usage: tslvsd [options]            run in the foreground
       tslvsd status [--json]      ask the running daemon for its state

options:
  -f, --config FILE          keepalived.conf-syntax configuration (default ${DEFAULT_CONFIG_FILE}; also --use-file)
  -t, --config-test[=LOG]    check the configuration and exit (0 valid, warnings allowed; 1 errors)
      --dump-config          print the validated configuration model as JSON and exit
  -d, --dump-conf            log the configuration model at start (with -t: print it)
      --strict               treat configuration warnings as errors
  -i, --config-id ID         id for '@ID' conditional lines (default: hostname up to the first dot)
  -P, --vrrp-only            run VRRP only (also --vrrp)
  -C, --check-only           run health checks and IPVS only (also --check)
      --log-level LEVEL      ${LOG_LEVEL_VALUES.join('|')} (default info)
      --log-format FORMAT    json|pretty|keepalived (default json)
  -g, --log-file[=FILE]      also log to FILE (default keepalived.log)
      --metrics-listen ADDR  HOST:PORT for Prometheus, or off (default ${DEFAULT_METRICS_LISTEN.host}:${DEFAULT_METRICS_LISTEN.port})
      --keep-ipvs-on-exit    leave the IPVS table in place when stopping (also -I, --dont-release-ipvs)
  -p, --pid-file PATH        the daemon's pid file, locked while it runs (also --pid; nothing is written unless asked)
  -r, --vrrp_pid PATH        keepalived's VRRP pid file: tslvsd's pid, locked, when VRRP runs
  -c, --checkers_pid PATH    keepalived's checkers pid file: tslvsd's pid, locked, when health checks run
  -u, --umask MASK           umask for the files the daemon creates (numeric, e.g. 022)
      --status-socket PATH   the daemon's status socket
      --signum=SIGFUNC       print the signal number of STOP, RELOAD, DATA or STATS and exit
  -v, --version              print the version
  -h, --help                 this text

keepalived's -n, -l, -D, -G, -S FACILITY, -R, -B and --all are accepted (tslvsd never forks, logs to
stdout for journald, has no syslog, no child processes and no BFD); its -x, -A, -s, -T, -X, -V, -a, -m,
-M, -b, -e, -L and debugging options are refused with the reason.
`;

type ArgKind = 'none' | 'required' | 'optional';

/** One option: its long names, its short letter, whether it takes a value. `key` names the meaning. */
interface OptionSpec {
  readonly key: OptionKey;
  readonly long: readonly string[];
  readonly short?: string;
  readonly arg: ArgKind;
}

type OptionKey =
  | 'config' | 'config-test' | 'dump-config' | 'dump-conf' | 'strict' | 'config-id' | 'vrrp-only' | 'check-only'
  | 'log-level' | 'log-format' | 'log-file' | 'metrics-listen' | 'keep-ipvs-on-exit' | 'pid-file' | 'vrrp-pid'
  | 'checkers-pid' | 'status-socket' | 'json' | 'version' | 'help' | 'umask' | 'signum'
  | 'dont-fork' | 'log-console' | 'log-detail' | 'log-facility' | 'no-syslog' | 'dont-respawn' | 'no-bfd' | 'all'
  | 'flush-log-file' | 'refused';

const OPTIONS: readonly OptionSpec[] = [
  { key: 'config', long: ['config', 'use-file'], short: 'f', arg: 'required' },
  { key: 'config-test', long: ['config-test'], short: 't', arg: 'optional' },
  { key: 'dump-config', long: ['dump-config'], arg: 'none' },
  { key: 'dump-conf', long: ['dump-conf'], short: 'd', arg: 'none' },
  { key: 'strict', long: ['strict'], arg: 'none' },
  { key: 'config-id', long: ['config-id'], short: 'i', arg: 'required' },
  { key: 'vrrp-only', long: ['vrrp-only', 'vrrp'], short: 'P', arg: 'none' },
  { key: 'check-only', long: ['check-only', 'check'], short: 'C', arg: 'none' },
  { key: 'log-level', long: ['log-level'], arg: 'required' },
  { key: 'log-format', long: ['log-format'], arg: 'required' },
  { key: 'log-file', long: ['log-file'], short: 'g', arg: 'optional' },
  { key: 'metrics-listen', long: ['metrics-listen'], arg: 'required' },
  { key: 'keep-ipvs-on-exit', long: ['keep-ipvs-on-exit', 'dont-release-ipvs'], short: 'I', arg: 'none' },
  { key: 'pid-file', long: ['pid-file', 'pid'], short: 'p', arg: 'required' },
  { key: 'vrrp-pid', long: ['vrrp_pid'], short: 'r', arg: 'required' },
  { key: 'checkers-pid', long: ['checkers_pid'], short: 'c', arg: 'required' },
  { key: 'status-socket', long: ['status-socket'], arg: 'required' },
  { key: 'json', long: ['json'], arg: 'none' },
  { key: 'version', long: ['version'], short: 'v', arg: 'none' },
  { key: 'help', long: ['help'], short: 'h', arg: 'none' },
  { key: 'umask', long: ['umask'], short: 'u', arg: 'required' },
  { key: 'signum', long: ['signum'], arg: 'required' },
  // keepalived's, with nothing to do here: accepted, said once in the log.
  { key: 'dont-fork', long: ['dont-fork'], short: 'n', arg: 'none' },
  { key: 'log-console', long: ['log-console'], short: 'l', arg: 'none' },
  { key: 'log-detail', long: ['log-detail'], short: 'D', arg: 'none' },
  { key: 'log-facility', long: ['log-facility'], short: 'S', arg: 'required' },
  { key: 'no-syslog', long: ['no-syslog'], short: 'G', arg: 'none' },
  { key: 'dont-respawn', long: ['dont-respawn'], short: 'R', arg: 'none' },
  { key: 'no-bfd', long: ['no_bfd'], short: 'B', arg: 'none' },
  { key: 'all', long: ['all'], arg: 'none' },
  { key: 'flush-log-file', long: ['flush-log-file'], arg: 'none' },
];

/** keepalived's flags that cannot be honoured: the one sentence that says why (and what to do instead). */
const REFUSED: readonly { readonly long: string; readonly short?: string; readonly arg: ArgKind; readonly why: string }[] = [
  { long: 'snmp', short: 'x', arg: 'none', why: 'tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)' },
  { long: 'snmp-agent-socket', short: 'A', arg: 'required', why: 'tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)' },
  { long: 'namespace', short: 's', arg: 'required', why: 'tslvsd does not enter a network namespace itself; run it under `ip netns exec NAME` (or systemd NetworkNamespacePath=)' },
  { long: 'genhash', short: 'T', arg: 'none', why: 'tslvsd has no genhash mode; an HTTP_GET digest is the MD5 of the body (`curl -s URL | md5sum`)' },
  { long: 'release-vips', short: 'X', arg: 'none', why: 'tslvsd does not drop the VIPs on a signal-driven transition; stop it (SIGTERM releases them)' },
  { long: 'dont-release-vrrp', short: 'V', arg: 'none', why: 'tslvsd always removes its VIPs when it stops, so a stopped director never holds them beside the new master' },
  { long: 'address-monitoring', short: 'a', arg: 'none', why: 'tslvsd does not log the host\'s address changes (`ip monitor address` does)' },
  { long: 'core-dump', short: 'm', arg: 'none', why: 'tslvsd does not set up core dumps; systemd-coredump and LimitCORE= do' },
  { long: 'core-dump-pattern', short: 'M', arg: 'optional', why: 'tslvsd does not set up core dumps; systemd-coredump and LimitCORE= do' },
  { long: 'bfd_pid', short: 'b', arg: 'required', why: 'tslvsd has no BFD' },
  { long: 'all-config', short: 'e', arg: 'none', why: 'write `includer` (an error when a file is missing) in the configuration instead of `include`' },
  { long: 'mem-check-log', short: 'L', arg: 'none', why: 'a keepalived debugging option tslvsd does not have' },
  { long: 'no-mem-check', arg: 'none', why: 'a keepalived debugging option tslvsd does not have' },
  { long: 'openssl-mem-check', short: 'O', arg: 'none', why: 'a keepalived debugging option tslvsd does not have' },
  { long: 'perf', arg: 'optional', why: 'a keepalived debugging option tslvsd does not have (node --cpu-prof profiles it)' },
  { long: 'debug', arg: 'optional', why: 'a keepalived debugging option tslvsd does not have (--log-level debug)' },
  { long: 'ignore-sigint', arg: 'none', why: 'a keepalived debugging option tslvsd does not have' },
  { long: 'config-fd', arg: 'required', why: 'an internal keepalived option tslvsd does not have' },
];

/** Every option name the parser knows, as written on a command line (`-f`, `--use-file`): for the man page and completion tests. */
export const OPTION_NAMES: { readonly accepted: readonly string[]; readonly refused: readonly string[] } = {
  accepted: OPTIONS.flatMap((o) => [...(o.short === undefined ? [] : [`-${o.short}`]), ...o.long.map((l) => `--${l}`)]),
  refused: REFUSED.flatMap((r) => [...(r.short === undefined ? [] : [`-${r.short}`]), `--${r.long}`]),
};

/** What `-S/--log-facility` accepts (keepalived: 0-7, local0-7, user, daemon). */
const LOG_FACILITY = /^(?:[0-7]|local[0-7]|user|daemon)$/;

/** keepalived's --signum functions tslvsd has (lib/signals.c get_signum): SIGTERM, SIGHUP, SIGUSR1, SIGUSR2. */
const SIGNUMS: Readonly<Record<string, number>> = { STOP: 15, RELOAD: 1, DATA: 10, STATS: 12 };

/** The note logged once for each accepted keepalived flag with nothing to do. */
const NOTES: Partial<Record<OptionKey, string>> = {
  'dont-fork': '-n/--dont-fork: nothing to do, tslvsd never forks (it runs in the foreground)',
  'log-console': '-l/--log-console: nothing to do, tslvsd always logs to stdout (journald keeps it)',
  'log-detail': '-D/--log-detail: nothing to do, tslvsd\'s log lines always carry every field (--log-level debug for more)',
  'no-syslog': '-G/--no-syslog: nothing to do, tslvsd never logs via syslog',
  'dont-respawn': '-R/--dont-respawn: nothing to do, tslvsd has no child processes to respawn (systemd Restart= restarts it)',
  'no-bfd': '-B/--no_bfd: nothing to do, tslvsd has no BFD',
  all: '--all: nothing to do, tslvsd runs VRRP and the health checks whenever the configuration has them',
  'flush-log-file': '--flush-log-file: nothing to do, tslvsd writes each log line to --log-file as it is logged',
};

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

/** keepalived's set_umask: strtoll base 0 (0NNN octal, 0xNN hex, decimal), only permission bits. */
export function parseUmask(text: string): number | undefined {
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) value = Number.parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) value = Number.parseInt(text, 8);
  else if (/^[1-9][0-9]*$/.test(text)) value = Number.parseInt(text, 10);
  else return undefined;
  return value >= 0 && value <= 0o777 ? value : undefined;
}

/** One option as it appeared, with its value (undefined for none, or an optional value not given). */
interface ParsedOption {
  readonly spec: OptionSpec;
  /** As the user wrote it: `-f` or `--use-file`, for messages. */
  readonly name: string;
  readonly value: string | undefined;
}

type Scan = { ok: true; options: ParsedOption[]; positionals: string[] } | { ok: false; message: string };

function refusedMessage(name: string, why: string): string {
  return `${name} is not supported: ${why}`;
}

/** getopt_long's reading of argv (with permutation, as GNU getopt): options anywhere, `--` ends them. */
function scan(argv: readonly string[]): Scan {
  const options: ParsedOption[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const refused = REFUSED.find((r) => r.long === name);
      if (refused) return { ok: false, message: refusedMessage(`--${name}`, refused.why) };
      const spec = OPTIONS.find((o) => o.long.includes(name));
      if (!spec) return { ok: false, message: `unknown option '--${name}' (tslvsd --help lists the options)` };
      if (spec.arg === 'none') {
        if (inline !== undefined) return { ok: false, message: `option --${name} takes no value` };
        options.push({ spec, name: `--${name}`, value: undefined });
      } else if (spec.arg === 'optional') {
        // getopt: an optional value is only ever attached (--config-test=LOG), never the next argument.
        options.push({ spec, name: `--${name}`, value: inline === '' ? undefined : inline });
      } else {
        const value = inline ?? argv[++i];
        // keepalived refuses an empty value (--use-file=) as a missing one.
        if (value === undefined || value === '') return { ok: false, message: `missing parameter for option --${name}` };
        options.push({ spec, name: `--${name}`, value });
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A group of short flags (-nlD); a flag that takes a value takes the rest of the group, or the next argument.
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const refused = REFUSED.find((r) => r.short === letter);
        if (refused) return { ok: false, message: refusedMessage(`-${letter}/--${refused.long}`, refused.why) };
        const spec = OPTIONS.find((o) => o.short === letter);
        if (!spec) return { ok: false, message: `unknown option '-${letter}' (tslvsd --help lists the options)` };
        const rest = arg.slice(j + 1);
        if (spec.arg === 'none') {
          options.push({ spec, name: `-${letter}`, value: undefined });
          continue;
        }
        if (spec.arg === 'optional') {
          options.push({ spec, name: `-${letter}`, value: rest === '' ? undefined : rest });
          break;
        }
        const value = rest !== '' ? rest : argv[++i];
        if (value === undefined || value === '') return { ok: false, message: `missing parameter for option -${letter}` };
        options.push({ spec, name: `-${letter}`, value });
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { ok: true, options, positionals };
}

export function parseCliOptions(argv: readonly string[]): CliParseResult {
  const scanned = scan(argv);
  if (!scanned.ok) return scanned;
  // Last one wins, as getopt's callers do; `seen` keeps whether a flag appeared at all.
  const values = new Map<OptionKey, string | undefined>();
  const names = new Map<OptionKey, string>();
  const notes: string[] = [];
  const configNames = new Set<string>();
  for (const { spec, name, value } of scanned.options) {
    values.set(spec.key, value);
    names.set(spec.key, name);
    if (spec.key === 'config') configNames.add(name);
    const note = NOTES[spec.key];
    if (note !== undefined && !notes.includes(note)) notes.push(note);
  }
  const has = (key: OptionKey): boolean => values.has(key);
  const value = (key: OptionKey): string | undefined => values.get(key);
  const positionals = scanned.positionals;

  let command: CliCommand = 'run';
  if (positionals.length > 0) {
    if (positionals[0] !== 'status' || positionals.length > 1) {
      return { ok: false, message: `unexpected argument '${positionals.join(' ')}' (the only subcommand is 'status')` };
    }
    command = 'status';
  }
  let signum: number | undefined;
  if (has('help')) command = 'help';
  else if (has('version')) command = 'version';
  else if (has('signum')) {
    const fn = value('signum')!;
    signum = SIGNUMS[fn];
    if (signum === undefined) return { ok: false, message: `--signum: '${fn}' is not one of ${Object.keys(SIGNUMS).join(', ')} (the signals tslvsd handles)` };
    command = 'signum';
  } else if (command !== 'status') {
    if (has('config-test') && has('dump-config')) return { ok: false, message: '--config-test and --dump-config exclude each other' };
    if (has('config-test')) command = 'config-test';
    else if (has('dump-config')) command = 'dump-config';
  }
  if (has('json') && command !== 'status') return { ok: false, message: "--json applies to 'tslvsd status'" };

  const logLevel = value('log-level') ?? 'info';
  if (!isLogLevel(logLevel)) {
    return { ok: false, message: `--log-level: '${logLevel}' is not one of ${LOG_LEVEL_VALUES.join(', ')}` };
  }
  const logFormat = value('log-format') ?? 'json';
  if (!isLogFormat(logFormat)) {
    return { ok: false, message: `--log-format: '${logFormat}' is not json, pretty or keepalived` };
  }
  let metricsListen: { host: string; port: number } | undefined = { ...DEFAULT_METRICS_LISTEN };
  const listenText = value('metrics-listen');
  if (listenText !== undefined) {
    const listen = parseListenAddress(listenText);
    if (listen === 'invalid') return { ok: false, message: `--metrics-listen: '${listenText}' is not HOST:PORT or off` };
    metricsListen = listen;
  }
  const vrrpOnly = has('vrrp-only');
  const checkOnly = has('check-only');
  if (vrrpOnly && checkOnly) return { ok: false, message: '--vrrp-only and --check-only exclude each other' };
  if (configNames.size > 1) return { ok: false, message: `--config given twice (${[...configNames].join(' and ')})` };

  const facility = value('log-facility');
  if (facility !== undefined) {
    if (!LOG_FACILITY.test(facility)) return { ok: false, message: `${names.get('log-facility')}: invalid log facility '${facility}' (0-7, local0-7, user or daemon)` };
    notes.push(`${names.get('log-facility')} ${facility}: nothing to do, tslvsd does not use syslog (journald records its stdout; set the unit's SyslogFacility=)`);
  }
  let umask: number | undefined;
  const umaskText = value('umask');
  if (umaskText !== undefined) {
    umask = parseUmask(umaskText);
    if (umask === undefined) return { ok: false, message: `${names.get('umask')}: invalid umask '${umaskText}' (numeric, e.g. 022)` };
  }
  // keepalived's -g without a file name logs to keepalived.log (in its temporary directory; here, the working directory).
  const logFile = has('log-file') ? (value('log-file') ?? 'keepalived.log') : undefined;

  const statusSocket = value('status-socket');
  if (statusSocket !== undefined) {
    const problem = socketPathProblem(statusSocket);
    if (problem !== undefined) return { ok: false, message: `--status-socket: ${problem}` };
  }

  const statusArgs: string[] = [];
  if (command === 'status') {
    if (has('json')) statusArgs.push('--json');
    if (statusSocket !== undefined) statusArgs.push('--status-socket', statusSocket);
  }
  return {
    ok: true,
    options: {
      command,
      configFile: value('config') ?? DEFAULT_CONFIG_FILE,
      strict: has('strict'),
      configId: value('config-id'),
      pidFile: value('pid-file'),
      vrrpPidFile: value('vrrp-pid'),
      checkersPidFile: value('checkers-pid'),
      vrrpOnly,
      checkOnly,
      logLevel,
      logFormat,
      logFile,
      configTestLogFile: value('config-test'),
      dumpConf: has('dump-conf'),
      umask,
      metricsListen,
      keepIpvsOnExit: has('keep-ipvs-on-exit'),
      statusSocket,
      json: has('json'),
      statusArgs,
      signum,
      notes,
    },
  };
}
