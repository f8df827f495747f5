/**
 * keepalived's line preprocessor: comments, `include` (globs, relative to the including file), `@id` /
 * `@^id` conditional lines, `$NAME=value` definitions (multi-line with a trailing `\`), `$NAME` / `${NAME}`
 * substitution (recursive, at use time), and `~SEQ` / `~SEQx` / `~LST` repetition. Output: logical lines,
 * each remembering the FILE:LINE it came from. Pure: files come through a FileSource.
 *
 * Every expansion is bounded (include depth, substitution depth, total lines) so no input can hang it.
 */
import type { DiagnosticSink } from './diagnostics.js';
import { dirName, type FileSource } from './fileSource.js';
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
  /** Total logical lines allowed after expansion (default 2,000,000). */
  readonly maxLines?: number;
}

const MAX_INCLUDE_DEPTH = 32;
const MAX_EXPANSION_DEPTH = 32;
const MAX_SEQ_VALUES = 1_000_000;

interface Origin {
  readonly file: string;
  readonly line: number;
  readonly colBase: number;
}

class LineLimitExceeded extends Error {}

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
  private readonly maxLines: number;
  private readonly random: () => number;
  private pwd = '.';

  constructor(private readonly opts: PreprocessOptions) {
    this.maxLines = opts.maxLines ?? 2_000_000;
    this.random = opts.random ?? Math.random;
  }

  /** Reads `path` and everything it includes; diagnostics go to the sink, never thrown. */
  run(path: string): LogicalLine[] {
    try {
      this.readFile(path, undefined, true);
    } catch (e) {
      if (!(e instanceof LineLimitExceeded)) throw e;
    }
    return this.out;
  }

  private readFile(path: string, includedAt: Origin | undefined, mustRead = true): void {
    const at = includedAt ?? { file: path, line: 1, colBase: 1 };
    if (this.openFiles.includes(path)) {
      this.opts.sink.error(pos(at), `include loop: ${path} is already being read`);
      return;
    }
    if (this.openFiles.length >= MAX_INCLUDE_DEPTH) {
      this.opts.sink.error(pos(at), `includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
      return;
    }
    let text: string;
    try {
      text = this.opts.files.readText(path);
    } catch (e) {
      const message = `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`;
      if (mustRead) this.opts.sink.error(pos(at), message);
      else this.opts.sink.warning(pos(at), message);
      return;
    }
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
    const trimmed = text.trimStart();
    if (trimmed.length === 0) return undefined;
    const first = trimmed.charCodeAt(0);
    const at: Origin = { ...origin, colBase: origin.colBase + (text.length - trimmed.length) };
    if (depth > MAX_EXPANSION_DEPTH) {
      this.opts.sink.error(pos(at), `parameter substitution nested deeper than ${MAX_EXPANSION_DEPTH} (recursive definition?)`);
      return undefined;
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

    if (this.out.length >= this.maxLines) {
      this.opts.sink.error(pos(at), `configuration expands to more than ${this.maxLines} lines; stopped here`);
      throw new LineLimitExceeded();
    }
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
    const matches = globFiles(pattern, this.pwd, this.opts.files);
    if (hasGlobMagic(pattern) && matches.length === 0) {
      this.opts.sink.warning(pos(at), `include ${pattern}: no file matches`);
      return;
    }
    const mustRead = keyword === 'includer' || keyword === 'includea';
    for (const path of matches) this.readFile(path, at, mustRead);
  }

  /** Substitutes until nothing changes (bounded), for values that are not re-processed as lines. */
  private substituteFully(text: string, at: Origin): string {
    let current = text;
    for (let i = 0; i < MAX_EXPANSION_DEPTH && current.includes('$'); i++) {
      const next = this.substitute(current, at);
      if (next === current) break;
      current = next;
    }
    return current;
  }

  /** One pass of $NAME / ${NAME} replacement; undefined names stay as written (keepalived's rule). */
  private substitute(text: string, at: Origin): string {
    return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\s+[0-9]+){0,2})\s*\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g,
      (whole: string, braced: string | undefined, args: string | undefined, bare: string | undefined) => {
        const name = braced ?? bare ?? '';
        const value = this.lookup(name, (args ?? '').trim(), at);
        return value ?? whole;
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
    const assignments = head[1] === 'LST' ? parseList(inner) : parseSeq(inner, head[1] === 'SEQx');
    if (typeof assignments === 'string') {
      this.opts.sink.error(pos(at), `~${head[1]}(${written}): ${assignments}`);
      return true;
    }
    for (const assignment of assignments) {
      const saved = assignment.map(([name]) => [name, this.definitions.get(name)] as const);
      for (const [name, value] of assignment) this.definitions.set(name, value);
      this.processLine(rest, restAt, depth + 1, false);
      for (const [name, value] of saved) {
        if (value === undefined) this.definitions.delete(name);
        else this.definitions.set(name, value);
      }
    }
    return true;
  }
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

/** `var, [start,] [step,] end` with keepalived's defaults; a list of values or an error message. */
function parseSeq(inner: string, hex: boolean): Assignment[] | string {
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
  const count = Math.floor((end - start) / step) + 1;
  if (count > MAX_SEQ_VALUES) return `more than ${MAX_SEQ_VALUES} values`;
  const out: Assignment[] = [];
  for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
    out.push([[name, hex ? v.toString(16) : String(v)]]);
  }
  return out;
}

/** `var, v1, v2 …` or `{a, b}, {1, 2}, {3, 4}`. */
function parseList(inner: string): Assignment[] | string {
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
