/**
 * The compile budget: how much work and memory one configuration may cost. The preprocessor and the parser
 * charge it as they go (files read, bytes read, lines handled, bytes produced by substitution, logical
 * lines and tokens produced, directory entries listed by include globs); the first charge over a limit
 * stops the compilation with a located error. Counting keeps the core pure and deterministic: the same
 * file is rejected at the same FILE:LINE on every machine. The wall-clock and memory limits of the
 * process that runs the compiler are a backstop at the edge (src/config/compileFile.ts, reloadCompiler.ts).
 *
 * The defaults are chosen against the 678 configurations of the corpus (../shared/corpus): the largest,
 * keepalived-devel-tools' 1173.conf (a ~SEQ stress test), produces 273,300 lines and 546,600 tokens in
 * 2.5 s and 160 MB of heap; every limit below is at least 1.8x what that file uses and ~10x what any other
 * does. The old single bound (2,000,000 lines) let 10^6 ~SEQ lines cost 656 MB.
 */
import type { SourcePosition } from './diagnostics.js';

export interface CompileLimits {
  /** Bytes of one file (the main config or an include). */
  readonly maxFileBytes: number;
  /** Files read in total, each include counted every time it is read. */
  readonly maxFiles: number;
  /** Files one `include` may name (after glob and brace expansion). */
  readonly maxIncludeMatches: number;
  /** Nesting of includes. */
  readonly maxIncludeDepth: number;
  /** Directory entries listed by include globs, in total. */
  readonly maxDirEntries: number;
  /** Nesting of $NAME substitution and ~SEQ/~LST repetition. */
  readonly maxExpansionDepth: number;
  /** Characters of one line after substitution. */
  readonly maxLineBytes: number;
  /**
   * Lines the preprocessor handles in total — read from files or made by $NAME, ~SEQ, ~SEQx, ~LST —
   * including those that produce nothing (an `@id` line for another id, a definition).
   */
  readonly maxExpansionSteps: number;
  /** Characters those lines hold in total (the preprocessor's work, and a bound on what it stores). */
  readonly maxExpandedBytes: number;
  /** Logical lines handed to the parser. */
  readonly maxLines: number;
  /** Characters of those lines. */
  readonly maxOutputBytes: number;
  /** Tokens the parser builds. */
  readonly maxTokens: number;
}

export const DEFAULT_COMPILE_LIMITS: CompileLimits = Object.freeze({
  maxFileBytes: 16 * 1024 * 1024,
  maxFiles: 1_000,
  maxIncludeMatches: 500,
  maxIncludeDepth: 32,
  maxDirEntries: 100_000,
  maxExpansionDepth: 32,
  maxLineBytes: 64 * 1024,
  maxExpansionSteps: 2_000_000,
  maxExpandedBytes: 128 * 1024 * 1024,
  maxLines: 500_000,
  maxOutputBytes: 16 * 1024 * 1024,
  maxTokens: 1_000_000,
});

/**
 * The compilation cannot go on (a budget limit was reached, or a file is not text): where, and why. Thrown
 * inside the preprocessor/parser, caught at their entry and reported as the one located error.
 */
export class CompileStopped extends Error {
  constructor(
    readonly at: SourcePosition,
    message: string,
  ) {
    super(message);
  }
}

/** A limit of the budget was reached. */
export class BudgetExceeded extends CompileStopped {}

/** What one compilation has used so far (reported by tests and the corpus measurement). */
export interface BudgetUse {
  files: number;
  dirEntries: number;
  expansionSteps: number;
  expandedBytes: number;
  lines: number;
  outputBytes: number;
  tokens: number;
}

/**
 * One compilation's budget. `onStep` is an optional observer called on every preprocessor step with the
 * place being read (the reload child uses it to report where a compilation was when it was killed).
 */
export class CompileBudget {
  readonly used: BudgetUse = { files: 0, dirEntries: 0, expansionSteps: 0, expandedBytes: 0, lines: 0, outputBytes: 0, tokens: 0 };

  constructor(
    readonly limits: CompileLimits = DEFAULT_COMPILE_LIMITS,
    private readonly onStep?: (at: SourcePosition) => void,
  ) {}

  /** One file about to be read. */
  file(at: SourcePosition, path: string): void {
    if (++this.used.files > this.limits.maxFiles) {
      throw new BudgetExceeded(at, `more than ${this.limits.maxFiles} files read (include fan-out?); stopped at ${path}`);
    }
  }

  /** `count` directory entries listed for an include glob. */
  dirEntries(at: SourcePosition, count: number): void {
    this.used.dirEntries += count;
    if (this.used.dirEntries > this.limits.maxDirEntries) {
      throw new BudgetExceeded(at, `include globs listed more than ${this.limits.maxDirEntries} directory entries`);
    }
  }

  /** One line handled by the preprocessor (from a file or an expansion). */
  step(at: SourcePosition, chars: number): void {
    this.onStep?.(at);
    if (++this.used.expansionSteps > this.limits.maxExpansionSteps) {
      throw new BudgetExceeded(at, `expansion handles more than ${this.limits.maxExpansionSteps} lines ($NAME / ~SEQ / ~LST)`);
    }
    this.expanded(at, chars);
  }

  /** Characters produced by substitution or handled as a line. */
  expanded(at: SourcePosition, chars: number): void {
    this.used.expandedBytes += chars;
    if (this.used.expandedBytes > this.limits.maxExpandedBytes) {
      throw new BudgetExceeded(at, `expansion produces more than ${mib(this.limits.maxExpandedBytes)} ($NAME / ~SEQ / ~LST)`);
    }
  }

  /** One logical line handed to the parser. */
  line(at: SourcePosition, chars: number): void {
    if (++this.used.lines > this.limits.maxLines) {
      throw new BudgetExceeded(at, `configuration expands to more than ${this.limits.maxLines} lines`);
    }
    this.used.outputBytes += chars;
    if (this.used.outputBytes > this.limits.maxOutputBytes) {
      throw new BudgetExceeded(at, `configuration expands to more than ${mib(this.limits.maxOutputBytes)}`);
    }
  }

  /** `count` tokens built by the parser. */
  tokens(at: SourcePosition, count: number): void {
    this.used.tokens += count;
    if (this.used.tokens > this.limits.maxTokens) {
      throw new BudgetExceeded(at, `configuration has more than ${this.limits.maxTokens} words`);
    }
  }
}

export function mib(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
