import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Logging setup: pino JSON lines on stdout (journald keeps them as they are), or a small human formatter
 * for a terminal (`--log-format pretty`) that needs no extra dependency.
 *
 * Every state transition — a VRRP instance or a real server changing state — is logged by
 * `logTransition` as one line with the same fields (event, instance, from, to, reason), so operators can
 * grep or query them uniformly.
 */
export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stdout unless a test hands in its own sink. */
  sink?: { write(chunk: string): unknown };
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

export function createLogger(options: LogOptions): Logger {
  const sink = options.sink ?? process.stdout;
  const destination: DestinationStream =
    options.format === 'pretty' ? { write: (line: string) => void sink.write(formatPretty(line)) } : { write: (line: string) => void sink.write(line) };
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
