import { fstatSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import { keepalivedLines } from './keepalivedWording.js';

/**
 * Logging setup: pino JSON lines on stdout (journald keeps them as they are), or a small human formatter
 * for a terminal (`--log-format pretty`) that needs no extra dependency, or keepalived 2.2.7's wording for
 * the lines log alerts match on (`--log-format keepalived`: `(VI_1) Entering MASTER STATE`, …).
 *
 * Under journald (JOURNAL_STREAM names the stream stdout is) every line starts with its syslog priority,
 * sd-daemon(3)'s `<N>` prefix, so `journalctl -p warning` and the colouring work.
 *
 * Every state transition — a VRRP instance or a real server changing state — is logged by
 * `logTransition` as one line with the same fields (event, instance, from, to, reason), so operators can
 * grep or query them uniformly.
 */
export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty', 'keepalived'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stdout unless a test hands in its own sink. */
  sink?: { write(chunk: string): unknown };
  /** Prefix each line with its syslog priority (`<6>`); default: whether stdout is journald's stream. */
  journalPriority?: boolean;
}

/**
 * pino level → syslog priority (sd-daemon(3): `<3>` SD_ERR … `<7>` SD_DEBUG). fatal is CRIT (`<2>`): the
 * daemon ends on it, which an error it survives does not.
 */
export const JOURNAL_PRIORITY: Readonly<Record<Exclude<LogLevel, 'silent'>, number>> = {
  fatal: 2,
  error: 3,
  warn: 4,
  info: 6,
  debug: 7,
  trace: 7,
};

/**
 * Whether fd's stream is the journal: systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected
 * stdout/stderr to; a redirect (to a file, a pipe) changes fd's dev:inode, so the prefix then stays off.
 */
export function isJournalStream(journalStream: string | undefined, stat: { dev: number; ino: number } | undefined): boolean {
  if (!journalStream || !stat) return false;
  const match = /^(\d+):(\d+)$/.exec(journalStream.trim());
  return match !== null && Number(match[1]) === stat.dev && Number(match[2]) === stat.ino;
}

function stdoutIsJournal(): boolean {
  let stat: { dev: number; ino: number } | undefined;
  try {
    stat = fstatSync(1);
  } catch {
    stat = undefined;
  }
  return isJournalStream(process.env.JOURNAL_STREAM, stat);
}

/** `<N>` for a pino JSON line (its level label); info's when the line has none. */
export function journalPrefix(line: string): string {
  const level = /"level":"(\w+)"/.exec(line)?.[1];
  const priority = level && level in JOURNAL_PRIORITY ? JOURNAL_PRIORITY[level as keyof typeof JOURNAL_PRIORITY] : JOURNAL_PRIORITY.info;
  return `<${priority}>`;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

export function createLogger(options: LogOptions): Logger {
  const sink = options.sink ?? process.stdout;
  const journal = options.journalPriority ?? (options.sink === undefined && stdoutIsJournal());
  const format = options.format === 'pretty' ? formatPretty : options.format === 'keepalived' ? formatKeepalived : (line: string) => line;
  const destination: DestinationStream = {
    write: (line: string) => {
      const text = format(line);
      if (text === '') return;
      if (!journal) {
        void sink.write(text);
        return;
      }
      // One prefix per output line (the keepalived format may turn one record into two lines).
      const prefix = journalPrefix(line);
      void sink.write(text.split('\n').filter((l) => l !== '').map((l) => `${prefix}${l}\n`).join(''));
    },
  };
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      // ISO time reads well in both journald and a terminal; epoch ms would be pino's default.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that drops everything (tests of edges that need one). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const PRETTY_SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One pino JSON line → `HH:MM:SS.mmm LEVEL msg key=value …`. A line that is not JSON passes through. */
export function formatPretty(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const level = String(record.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !PRETTY_SKIP.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? quoteIfNeeded(value) : JSON.stringify(value)}`);
  return `${time} ${level} ${String(record.msg ?? '')}${fields.length ? ' ' + fields.join(' ') : ''}\n`;
}

/**
 * One pino JSON line → keepalived 2.2.7's wording: a transition that keepalived logs becomes its line(s)
 * (`src/util/keepalivedWording.ts`), any other record its bare message, as keepalived's own lines are.
 */
export function formatKeepalived(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const lines = keepalivedLines(record) ?? [String(record.msg ?? '')];
  return lines.map((l) => `${l}\n`).join('');
}

function quoteIfNeeded(value: string): string {
  return /[\s="]/.test(value) || value === '' ? JSON.stringify(value) : value;
}

/** What changed state: a VRRP instance, or a real server of a virtual server. */
export interface Transition {
  kind: 'vrrp' | 'real_server';
  /** The VRRP instance name, or `VIP:PORT/RIP:PORT` for a real server. */
  instance: string;
  from: string;
  to: string;
  reason: string;
  /** Extra context (priority, checker, …); never overrides the five fields above. */
  detail?: Record<string, unknown>;
}

/** The one structured line per transition. */
export function logTransition(logger: Logger, transition: Transition): void {
  const { kind, instance, from, to, reason, detail } = transition;
  logger.info({ ...detail, event: 'transition', kind, instance, from, to, reason }, `${instance}: ${from} -> ${to} (${reason})`);
}
