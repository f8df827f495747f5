/**
 * Builds the keyword tree from logical lines. A statement is the words up to the end of a line, a `{` or a
 * `}` (so `track_script { chk }` is three statements on one line). A statement followed by `{` — on the same
 * line or the next — owns the block up to the matching `}`. Structural errors are reported with the
 * position of the offending token; a block never closed is reported at its `{`.
 */
import type { CompileBudget } from './budget.js';
import type { DiagnosticSink } from './diagnostics.js';
import { lexLine, type Token } from './lexer.js';
import type { LogicalLine } from './preprocess.js';

export interface ConfigNode {
  /** The first word: the keyword (or, in list blocks, the item itself). */
  readonly keyword: Token;
  /** The words after the keyword. */
  readonly args: Token[];
  /** The statements inside `{ … }` when the keyword opened a block. */
  block?: ConfigNode[];
  /** The `{` token, for "never closed" diagnostics and block locations. */
  blockOpen?: Token;
}

interface OpenBlock {
  readonly owner: ConfigNode | undefined;
  readonly open: Token;
  readonly children: ConfigNode[];
}

/** @param budget counts the tokens built (throws BudgetExceeded past its limit). */
export function parse(lines: readonly LogicalLine[], sink: DiagnosticSink, budget?: CompileBudget): ConfigNode[] {
  const root: ConfigNode[] = [];
  const stack: OpenBlock[] = [];
  let words: Token[] = [];
  /** The last statement that ended at a line end without a block: a `{` at the start of the next line opens its block. */
  let awaitingBrace: ConfigNode | undefined;

  const current = (): ConfigNode[] => (stack.length === 0 ? root : stack[stack.length - 1].children);

  const finish = (): ConfigNode | undefined => {
    if (words.length === 0) return undefined;
    const node: ConfigNode = { keyword: words[0], args: words.slice(1) };
    current().push(node);
    words = [];
    return node;
  };

  for (const line of lines) {
    const lexed = lexLine(line.text, line.file, line.line, line.colBase);
    budget?.tokens({ file: line.file, line: line.line }, lexed.tokens.length);
    if (lexed.unterminatedQuoteCol !== undefined) {
      sink.error({ file: line.file, line: line.line, col: lexed.unterminatedQuoteCol }, 'unterminated quoted string');
    }
    for (const token of lexed.tokens) {
      if (token.kind === 'word') {
        awaitingBrace = undefined;
        words.push(token);
        continue;
      }
      if (token.kind === '{') {
        let owner = finish();
        if (owner === undefined && awaitingBrace !== undefined) owner = awaitingBrace;
        awaitingBrace = undefined;
        if (owner === undefined) {
          sink.error(token, "'{' without a keyword before it");
        } else if (owner.block !== undefined) {
          sink.error(token, `'${owner.keyword.text}' already has a block`);
          owner = undefined;
        }
        const children: ConfigNode[] = [];
        if (owner !== undefined) {
          owner.block = children;
          owner.blockOpen = token;
        }
        stack.push({ owner, open: token, children });
        continue;
      }
      // '}'
      finish();
      awaitingBrace = undefined;
      if (stack.length === 0) {
        sink.error(token, "unmatched '}'");
        continue;
      }
      stack.pop();
    }
    const last = finish();
    awaitingBrace = last;
  }
  finish();
  for (const open of stack) {
    const what = open.owner === undefined ? 'block' : `'${open.owner.keyword.text}' block`;
    sink.error(open.open, `${what} opened here is never closed (missing '}')`);
  }
  return root;
}
