/**
 * keepalived's line preprocessor: comments, `include` (globs, relative to the including file), `@id` /
 * `@^id` conditional lines, `$NAME=value` definitions (multi-line with a trailing `\`), `$NAME` / `${NAME}`
 * substitution (recursive, at use time), and `~SEQ` / `~SEQx` / `~LST` repetition. Output: logical lines,
 * each remembering the FILE:LINE it came from. Pure: files come through a FileSource.
 *
 * Every expansion is charged to a CompileBudget (files, bytes, lines, substitution, include fan-out, depth):
 * the first limit reached stops the preprocessor with a located error, so no input can hang it or make it
 * grow without bound. Only regular text files are read: a FIFO, a device, a socket or a directory named by
 * an include is an error, and so are NUL bytes or invalid UTF-8 outside comments (a binary file).
 */
import { BudgetExceeded, CompileBudget, type CompileLimits, CompileStopped, mib } from './budget.js';
import type { DiagnosticSink } from './diagnostics.js';
import { dirName, type FileSource, FileTooLargeError, NotRegularFileError } from './fileSource.js';
import { globFiles, hasGlobMagic } from './glob.js';

export interface LogicalLine {
  readonly text: string;
  readonly file: string;
  readonly line: number;
  /** 1-based column in the source line where `text` starts (after removed prefixes such as `@id`). */
  readonly colBase: number;
}

export interface PreprocessOptions {
  readonly files: FileSource;
  readonly sink: DiagnosticSink;
  /** `--config-id`: compared with `@id` lines and exposed as ${_INSTANCE}. */
  readonly configId: string;
  /** For ${_RANDOM}; defaults to Math.random. */
  readonly random?: () => number;
  /** What the preprocessing may cost (default: a fresh budget with DEFAULT_COMPILE_LIMITS). */
  readonly budget?: CompileBudget;
}

interface Origin {
  readonly file: string;
  readonly line: number;
  readonly colBase: number;
}

/** An origin as a diagnostic position: its column is where the (remaining) line text starts. */
function pos(o: Origin): { file: string; line: number; col: number } {
  return { file: o.file, line: o.line, col: o.colBase };
}

/** Removes a `#` or `!` comment that is outside quotes. */
export function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' || c === '!') return text.slice(0, i);
  }
  return text;
}

export class Preprocessor {
  private readonly out: LogicalLine[] = [];
  private readonly definitions = new Map<string, string>();
  private readonly openFiles: string[] = [];
  private readonly random: () => number;
  private readonly budget: CompileBudget;
  private pwd = '.';
  /** How many times the line being expanded is repeated by the ~SEQ/~LST around it. */
  private repeatProduct = 1;
  /** Set when a budget limit, an include loop or a binary file stopped it: the lines are incomplete, the config is rejected. */
  stopped = false;

  constructor(private readonly opts: PreprocessOptions) {
    this.random = opts.random ?? Math.random;
    this.budget = opts.budget ?? new CompileBudget();
  }

  private get limits(): CompileLimits {
    return this.budget.limits;
  }

  /** Reads `path` and everything it includes; diagnostics go to the sink, never thrown. */
  run(path: string): LogicalLine[] {
    try {
      this.readFile(path, undefined, true);
    } catch (e) {
      if (!(e instanceof CompileStopped)) throw e;
      this.opts.sink.fatal(e.at, e.message);
      this.stopped = true;
    }
    return this.out;
  }

  /**
   * @param mustRead an unreadable file is an error (else a warning: keepalived's plain `include`)
   * @param globbed the path came from a glob pattern: a directory it matched is skipped, as keepalived does
   */
  private readFile(path: string, includedAt: Origin | undefined, mustRead = true, globbed = false): void {
    const at = includedAt ?? { file: path, line: 1, colBase: 1 };
    if (this.openFiles.includes(path)) {
      // Stop at the first: 11 files that each include `g*.conf` hold 11! loops.
      throw new CompileStopped(pos(at), `include loop: ${path} is already being read`);
    }
    if (this.openFiles.length >= this.limits.maxIncludeDepth) {
      this.opts.sink.error(pos(at), `includes nested deeper than ${this.limits.maxIncludeDepth}`);
      return;
    }
    this.budget.file(pos(at), path);
    let text: string;
    try {
      text = this.opts.files.readText(path, this.limits.maxFileBytes);
    } catch (e) {
      if (e instanceof FileTooLargeError) throw new BudgetExceeded(pos(at), `${path} is larger than ${mib(this.limits.maxFileBytes)}`);
      if (e instanceof NotRegularFileError) {
        // Never read: a FIFO blocks forever, /dev/zero never ends. A directory a glob matched is skipped
        // (keepalived: "is a directory - skipping"); anything else is refused whatever the include kind.
        if (globbed && e.kind === 'directory' && !mustRead) this.opts.sink.warning(pos(at), `include: ${path} is a directory: skipped`);
        else this.opts.sink.error(pos(at), `cannot read ${path}: it is a ${e.kind}, not a regular file`);
        return;
      }
      const message = `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`;
      if (mustRead) this.opts.sink.error(pos(at), message);
      else this.opts.sink.warning(pos(at), message);
      return;
    }
    if (text.length > this.limits.maxFileBytes) {
      throw new BudgetExceeded(pos(at), `${path} is larger than ${mib(this.limits.maxFileBytes)}`);
    }
    const nul = text.indexOf('\0');
    if (nul >= 0) throw new CompileStopped(positionOf(text, nul, path), `NUL byte: ${path} is not a text file (binary?)`);
    const savedPwd = this.pwd;
    this.pwd = dirName(path);
    this.openFiles.push(path);
    try {
      // A UTF-8 byte-order mark (editors on other systems add one) is not part of the first keyword.
      const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
      let pending: { name: string; lines: string[]; origin: Origin } | undefined;
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
        const origin: Origin = { file: path, line: i + 1, colBase: 1 };
        // Invalid UTF-8 decodes as U+FFFD. In a comment it is harmless (a Shift-JIS comment in the corpus);
        // anywhere else the bytes cannot mean what they say: a binary file, or a wrong encoding.
        const bad = raw.includes('\uFFFD') ? stripComment(raw).indexOf('\uFFFD') : -1;
        if (bad >= 0) throw new CompileStopped({ file: path, line: i + 1, col: bad + 1 }, `invalid UTF-8 outside a comment: ${path} is not a text file in UTF-8 (binary?)`);
        // A trailing backslash continues a definition even after a comment (`# old line \`).
        const rawEnd = raw.trimEnd();
        const continues = rawEnd.endsWith('\\');
        if (pending !== undefined) {
          const piece = stripComment(continues ? rawEnd.slice(0, -1) : raw).trim();
          if (piece !== '') pending.lines.push(piece);
          if (!continues) {
            this.definitions.set(pending.name, pending.lines.join('\n'));
            pending = undefined;
          }
          continue;
        }
        const def = this.processLine(stripComment(continues ? rawEnd.slice(0, -1) : raw), origin, 0, continues);
        if (def !== undefined) pending = { ...def, origin };
      }
      if (pending !== undefined) this.definitions.set(pending.name, pending.lines.join('\n'));
    } finally {
      this.openFiles.pop();
      this.pwd = savedPwd;
    }
  }

  /**
   * Handles one line. Returns a started multi-line definition when the line is `$NAME=… \` read from a
   * file (`continued`: the raw line ended with that backslash, already cut from `text`); the caller feeds
   * it the continuation lines.
   */
  private processLine(text: string, origin: Origin, depth: number, continued: boolean): { name: string; lines: string[] } | undefined {
    this.budget.step(pos(origin), text.length);
    if (text.length > this.limits.maxLineBytes) {
      throw new BudgetExceeded(pos(origin), `line longer than ${this.limits.maxLineBytes} characters (after substitution)`);
    }
    const trimmed = text.trimStart();
    if (trimmed.length === 0) return undefined;
    const first = trimmed.charCodeAt(0);
    const at: Origin = { ...origin, colBase: origin.colBase + (text.length - trimmed.length) };
    if (depth > this.limits.maxExpansionDepth) {
      // Stop: a recursive definition that fans out (`$M` of three lines of `$M`) would report it 3^32 times.
      throw new BudgetExceeded(pos(at), `parameter substitution nested deeper than ${this.limits.maxExpansionDepth} (recursive definition?)`);
    }

    // @id / @^id: the line counts only on the matching (or, with ^, every other) config id.
    if (trimmed.startsWith('@')) {
      const m = /^@(\^?)(\S*)\s*/.exec(trimmed);
      if (m !== null) {
        if (m[2] === '') {
          this.opts.sink.warning(pos(at), "'@' without a config id: line ignored");
          return undefined;
        }
        const selected = (m[2] === this.opts.configId) !== (m[1] === '^');
        if (!selected) return undefined;
        return this.processLine(trimmed.slice(m[0].length), { ...at, colBase: at.colBase + m[0].length }, depth, continued);
      }
    }

    // $NAME=value defines (no space before '='); a trailing '\' continues it on the next lines.
    const def = first === 36 /* $ */ ? /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(trimmed) : null;
    if (def !== null) {
      const name = def[1];
      const value = def[2].trim();
      if (continued) return { name, lines: value === '' ? [] : [value] };
      this.definitions.set(name, value);
      return undefined;
    }

    // ~SEQ(var, start, step, end) / ~SEQx(...) / ~LST(var, v1, v2 …) repeat the rest of the line.
    if (trimmed.startsWith('~')) {
      const handled = this.processRepeat(trimmed, at, depth);
      if (handled) return undefined;
    }

    if (trimmed.includes('$')) {
      const substituted = this.substitute(trimmed, at);
      if (substituted !== trimmed) {
        for (const piece of substituted.split('\n')) this.processLine(piece, at, depth + 1, false);
        return undefined;
      }
    }

    const inc = first === 105 /* i */ ? /^(include[rmwba]?)(?:\s+|$)(.*)$/.exec(trimmed) : null;
    if (inc !== null) {
      this.include(inc[1], inc[2].trim(), at);
      return undefined;
    }

    this.budget.line(pos(at), trimmed.length);
    this.out.push({ text: trimmed, file: at.file, line: at.line, colBase: at.colBase });
    return undefined;
  }

  /**
   * keepalived's plain `include` tolerates unreadable files (a warning); `includer` and `includea` check
   * readability, so there it is an error.
   */
  private include(keyword: string, argument: string, at: Origin): void {
    const pattern = unquote(argument);
    if (pattern === '') {
      this.opts.sink.error(pos(at), 'include without a file name');
      return;
    }
    const matches = globFiles(pattern, this.pwd, this.opts.files, (n) => this.budget.dirEntries(pos(at), n));
    const globbed = hasGlobMagic(pattern);
    if (globbed && matches.length === 0) {
      this.opts.sink.warning(pos(at), `include ${pattern}: no file matches`);
      return;
    }
    if (matches.length > this.limits.maxIncludeMatches) {
      throw new BudgetExceeded(pos(at), `include ${pattern} names ${matches.length} files, more than ${this.limits.maxIncludeMatches}`);
    }
    const mustRead = keyword === 'includer' || keyword === 'includea';
    for (const path of matches) this.readFile(path, at, mustRead, globbed || matches.length > 1);
  }

  /** Substitutes until nothing changes (bounded), for values that are not re-processed as lines. */
  private substituteFully(text: string, at: Origin): string {
    let current = text;
    for (let i = 0; i < this.limits.maxExpansionDepth && current.includes('$'); i++) {
      const next = this.substitute(current, at);
      if (next === current) break;
      current = next;
    }
    return current;
  }

  /**
   * One pass of $NAME / ${NAME} replacement; undefined names stay as written (keepalived's rule). The
   * result's length is counted as it is built, so `$A=$A $A` stops at the line limit instead of doubling
   * until memory runs out.
   */
  private substitute(text: string, at: Origin): string {
    let length = text.length;
    return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\s+[0-9]+){0,2})\s*\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g,
      (whole: string, braced: string | undefined, args: string | undefined, bare: string | undefined) => {
        const name = braced ?? bare ?? '';
        const value = this.lookup(name, (args ?? '').trim(), at);
        if (value === undefined) return whole;
        length += value.length - whole.length;
        if (length > this.limits.maxLineBytes) {
          throw new BudgetExceeded(pos(at), `substituting $${name} makes the line longer than ${this.limits.maxLineBytes} characters (recursive definition?)`);
        }
        this.budget.expanded(pos(at), value.length);
        return value;
      });
  }

  private lookup(name: string, args: string, at: Origin): string | undefined {
    switch (name) {
      case '_PWD':
        return this.pwd;
      case '_INSTANCE':
        return this.opts.configId;
      case '_HASH':
        return '#';
      case '_BANG':
        return '!';
      case '_RANDOM': {
        const [min = 0, max = 32767] = args === '' ? [] : args.split(/\s+/).map(Number);
        if (!(max >= min)) {
          this.opts.sink.warning(pos(at), `\${_RANDOM ${args}}: MAX is less than MIN`);
          return String(min);
        }
        return String(min + Math.floor(this.random() * (max - min + 1)));
      }
      default:
        return args === '' ? this.definitions.get(name) : undefined;
    }
  }

  /** Returns false when the line is not a well-formed repeat block (it is then handled as ordinary text). */
  private processRepeat(text: string, at: Origin, depth: number): boolean {
    const head = /^~(SEQx?|LST)\(/.exec(text);
    if (head === null) return false;
    const close = findClosingParen(text, head[0].length);
    if (close < 0) {
      this.opts.sink.error(pos(at), `~${head[1]}( is not closed by ')'`);
      return true;
    }
    // Arguments may use parameters (`~SEQ(N,$START,$END)`): substitute each comma-separated argument on
    // its own, so `$START,` counts as a parameter followed by a separator.
    const written = text.slice(head[0].length, close);
    const inner = written.split(',').map((arg) => this.substituteFully(arg.trim(), at)).join(',');
    const rest = text.slice(close + 1);
    const restAt: Origin = { ...at, colBase: at.colBase + close + 1 };
    const repeat = head[1] === 'LST' ? parseList(inner) : parseSeq(inner, head[1] === 'SEQx');
    if (typeof repeat === 'string') {
      this.opts.sink.error(pos(at), `~${head[1]}(${written}): ${repeat}`);
      return true;
    }
    // Nested repeats multiply: refuse at once what the line limit would stop only after the work (a
    // repeat that makes more lines than a configuration may have is not a configuration).
    const product = this.repeatProduct * repeat.count;
    if (product > this.limits.maxLines) {
      const what = this.repeatProduct > 1 ? `nested repeats make ${product} lines` : `${repeat.count} lines`;
      throw new BudgetExceeded(pos(at), `~${head[1]}: ${what}, more than the ${this.limits.maxLines} a configuration may have`);
    }
    const savedProduct = this.repeatProduct;
    this.repeatProduct = product;
    try {
      this.repeatEach(repeat.values, rest, restAt, depth);
    } finally {
      this.repeatProduct = savedProduct;
    }
    return true;
  }

  private repeatEach(assignments: Iterable<Assignment>, rest: string, restAt: Origin, depth: number): void {
    for (const assignment of assignments) {
      const saved = assignment.map(([name]) => [name, this.definitions.get(name)] as const);
      for (const [name, value] of assignment) this.definitions.set(name, value);
      this.processLine(rest, restAt, depth + 1, false);
      for (const [name, value] of saved) {
        if (value === undefined) this.definitions.delete(name);
        else this.definitions.set(name, value);
      }
    }
  }
}

/** FILE:LINE:COL of a character offset in a file's text. */
function positionOf(text: string, offset: number, file: string): { file: string; line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { file, line, col: offset - start + 1 };
}

function unquote(s: string): string {
  const m = /^"(.*)"$|^'(.*)'$/.exec(s);
  return m === null ? s : (m[1] ?? m[2] ?? '');
}

function findClosingParen(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

type Assignment = Array<[string, string]>;

function parseNumber(s: string): number {
  const t = s.trim();
  if (/^-?0x[0-9a-f]+$/i.test(t)) return t.startsWith('-') ? -parseInt(t.slice(3), 16) : parseInt(t, 16);
  if (/^-?[0-9]+$/.test(t)) return parseInt(t, 10);
  return NaN;
}

/** The values a repeat assigns, produced lazily (a ~SEQ of 10^6 values is never an array), and how many. */
interface Repeat {
  readonly count: number;
  readonly values: Iterable<Assignment>;
}

/** `var, [start,] [step,] end` with keepalived's defaults; the values or an error message. */
function parseSeq(inner: string, hex: boolean): Repeat | string {
  const parts = inner.split(',').map((p) => p.trim());
  const name = parts[0];
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? '')) return 'the first argument must be a variable name';
  const nums = parts.slice(1).map(parseNumber);
  if (nums.length < 1 || nums.length > 3 || nums.some((n) => !Number.isFinite(n))) {
    return 'expected (var, [start,] [step,] end) with integers';
  }
  let start: number;
  let step: number;
  let end: number;
  if (nums.length === 1) {
    end = nums[0];
    start = end >= 0 ? 1 : -1;
    step = end >= start ? 1 : -1;
  } else if (nums.length === 2) {
    [start, end] = nums;
    step = end >= start ? 1 : -1;
  } else {
    [start, step, end] = nums;
  }
  if (step === 0) return 'step must not be 0';
  if (![start, step, end].every(Number.isSafeInteger)) return 'numbers out of range';
  const count = Math.max(0, Math.floor((end - start) / step) + 1);
  function* values(): Generator<Assignment> {
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) yield [[name, hex ? v.toString(16) : String(v)]];
  }
  return { count, values: values() };
}

/** `var, v1, v2 …` or `{a, b}, {1, 2}, {3, 4}`. */
function parseList(inner: string): Repeat | string {
  const list = parseListValues(inner);
  return typeof list === 'string' ? list : { count: list.length, values: list };
}

function parseListValues(inner: string): Assignment[] | string {
  const trimmed = inner.trim();
  if (trimmed.startsWith('{')) {
    const groups = [...trimmed.matchAll(/\{([^}]*)\}/g)].map((m) => m[1].split(',').map((s) => s.trim()));
    if (groups.length < 2) return 'expected ({var, …}, {value, …}, …)';
    const [names, ...values] = groups;
    if (!names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) return 'bad variable name';
    if (values.some((v) => v.length !== names.length)) return 'every value group needs one value per variable';
    return values.map((v) => names.map((n, i): [string, string] => [n, v[i]]));
  }
  const parts = trimmed.split(',').map((p) => p.trim());
  const name = parts[0];
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || parts.length < 2) return 'expected (var, value, …)';
  return parts.slice(1).map((v) => [[name, v]]);
}
