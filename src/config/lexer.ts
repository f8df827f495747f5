/**
 * Splits one preprocessed line into tokens: words and the braces `{` `}`. Quoting follows keepalived
 * (shell-like): `"…"` and `'…'` segments join the surrounding word, keep their whitespace and braces, and
 * `"…"` understands C escapes (\n, \t, \\, \", \xHH, \nnn, \cC …). Comments were removed by the preprocessor.
 */
export type TokenKind = 'word' | '{' | '}';

export interface Token {
  readonly kind: TokenKind;
  /** The word's value after quote removal and escapes; "{" or "}" for braces. */
  readonly text: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** True when any part of the word was quoted (so `"{"` is a word, not a brace). */
  readonly quoted: boolean;
}

export interface LexedLine {
  readonly tokens: Token[];
  /** Set when a quote was left open: the position of the opening quote. */
  readonly unterminatedQuoteCol?: number;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', E: '\x1b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v';
}

/**
 * @param colBase added to 0-based offsets to give 1-based columns in the original line (prefixes such as
 *   `@id ` removed by the preprocessor are accounted for here).
 */
export function lexLine(text: string, file: string, line: number, colBase = 1): LexedLine {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  let unterminatedQuoteCol: number | undefined;
  while (i < n) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '{' || c === '}') {
      tokens.push({ kind: c, text: c, file, line, col: i + colBase, quoted: false });
      i++;
      continue;
    }
    const start = i;
    // Fast path (almost every word): no quotes, so the word is a plain slice of the line.
    let end = i;
    while (end < n) {
      const d = text[end];
      if (isSpace(d) || d === '{' || d === '}' || d === '"' || d === "'") break;
      end++;
    }
    if (end === n || text[end] !== '"' && text[end] !== "'") {
      tokens.push({ kind: 'word', text: text.slice(start, end), file, line, col: start + colBase, quoted: false });
      i = end;
      continue;
    }
    let value = '';
    let quoted = false;
    while (i < n && !isSpace(text[i]) && text[i] !== '{' && text[i] !== '}') {
      const q = text[i];
      if (q === '"' || q === "'") {
        quoted = true;
        const open = i;
        i++;
        let closed = false;
        while (i < n) {
          const d = text[i];
          if (d === q) {
            closed = true;
            i++;
            break;
          }
          if (d === '\\' && q === '"' && i + 1 < n) {
            const [s, used] = unescape(text, i + 1);
            value += s;
            i += 1 + used;
            continue;
          }
          value += d;
          i++;
        }
        if (!closed && unterminatedQuoteCol === undefined) unterminatedQuoteCol = open + colBase;
        continue;
      }
      value += q;
      i++;
    }
    tokens.push({ kind: 'word', text: value, file, line, col: start + colBase, quoted });
  }
  return unterminatedQuoteCol === undefined ? { tokens } : { tokens, unterminatedQuoteCol };
}

/** Decodes the escape whose letter is at text[at]; returns the characters and how many input chars it used. */
function unescape(text: string, at: number): [string, number] {
  const c = text[at];
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return [simple, 1];
  if (c >= '0' && c <= '7') {
    const m = /^[0-7]{1,3}/.exec(text.slice(at, at + 3));
    const digits = m ? m[0] : c;
    return [String.fromCharCode(parseInt(digits, 8) & 0xff), digits.length];
  }
  if (c === 'x') {
    const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(at + 1, at + 3));
    if (!m) return ['x', 1];
    return [String.fromCharCode(parseInt(m[0], 16)), 1 + m[0].length];
  }
  if (c === 'c' && at + 1 < text.length) {
    return [String.fromCharCode(text.charCodeAt(at + 1) & 0x1f), 2];
  }
  return [c, 1];
}
