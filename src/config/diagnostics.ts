/**
 * Diagnostics of the config compiler: `FILE:LINE[:COL]: error|warning: message`, the format of gcc and of
 * keepalived's own messages, so editors and CI can jump to the offending token.
 */
export type Severity = 'error' | 'warning';

/** A place in a config file: 1-based line, optional 1-based column. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col?: number;
}

export interface Diagnostic extends SourcePosition {
  readonly severity: Severity;
  readonly message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.col === undefined ? `${d.file}:${d.line}` : `${d.file}:${d.line}:${d.col}`;
  return `${where}: ${d.severity}: ${d.message}`;
}

/** Collects diagnostics in order; the compiler never throws on bad input, it reports here and goes on. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  /** Upper bound so a pathological file cannot build gigabytes of messages. */
  private static readonly MAX = 10_000;
  /** Messages quote input (a ~SEQ's arguments, a token): a 64 KiB line must not be copied 10,000 times. */
  private static readonly MAX_MESSAGE = 500;
  private dropped = 0;

  error(at: SourcePosition, message: string): void {
    this.push('error', at, message);
  }

  warning(at: SourcePosition, message: string): void {
    this.push('warning', at, message);
  }

  /** The error that stopped the compilation: kept even when MAX is reached (it is the one that matters). */
  fatal(at: SourcePosition, message: string): void {
    this.push('error', at, message, true);
  }

  private push(severity: Severity, at: SourcePosition, message: string, always = false): void {
    if (this.items.length >= DiagnosticSink.MAX && !always) {
      this.dropped++;
      return;
    }
    if (message.length > DiagnosticSink.MAX_MESSAGE) message = `${message.slice(0, DiagnosticSink.MAX_MESSAGE)}…`;
    const d: Diagnostic = at.col === undefined
      ? { severity, file: at.file, line: at.line, message }
      : { severity, file: at.file, line: at.line, col: at.col, message };
    this.items.push(d);
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === 'error').length;
  }

  get warningCount(): number {
    return this.items.filter((d) => d.severity === 'warning').length;
  }

  /** How many diagnostics were not kept because MAX was reached. */
  get droppedCount(): number {
    return this.dropped;
  }
}
