/**
 * What every block compiler shares: the diagnostic sink, token → location helpers, and the keyword
 * dispatch that turns "no handler" into the right warning (unknown vs. parsed-but-not-acted-on).
 */
import type { DiagnosticSink, SourcePosition } from '../diagnostics.js';
import { KEEPALIVED_KEYWORDS } from '../keepalivedKeywords.js';
import type { Token } from '../lexer.js';
import type { SourceLocation } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { notActedOnReason } from '../runtimeSupport.js';

export interface CompileContext {
  readonly sink: DiagnosticSink;
}

export function locOf(token: Token): SourceLocation {
  return { file: token.file, line: token.line };
}

export function posOf(token: Token): SourcePosition {
  return { file: token.file, line: token.line, col: token.col };
}

/** Handles one statement of a block; `target` is the draft being filled. */
export type KeywordHandler<T> = (node: ConfigNode, target: T, ctx: CompileContext) => void;
export type KeywordTable<T> = Readonly<Record<string, KeywordHandler<T>>>;

/**
 * Runs the handler of each statement. `blockName` names the block in messages and in the
 * runtime-support list (see runtimeSupport.ts).
 */
export function applyKeywords<T>(nodes: readonly ConfigNode[] | undefined, table: KeywordTable<T>, target: T,
  blockName: string, ctx: CompileContext): void {
  for (const node of nodes ?? []) {
    const keyword = node.keyword.text;
    const handler = Object.prototype.hasOwnProperty.call(table, keyword) ? table[keyword] : undefined;
    if (handler === undefined) {
      reportUnhandled(node, blockName, ctx);
      continue;
    }
    const reason = notActedOnReason(blockName, keyword);
    if (reason !== undefined) {
      ctx.sink.warning(posOf(node.keyword), `'${keyword}' is parsed but not acted on at runtime (${reason})`);
    }
    handler(node, target, ctx);
  }
}

export function reportUnhandled(node: ConfigNode, blockName: string, ctx: CompileContext): void {
  const keyword = node.keyword.text;
  if (KEEPALIVED_KEYWORDS.has(keyword)) {
    ctx.sink.warning(posOf(node.keyword), `keepalived keyword '${keyword}' in ${blockName} is parsed but not acted on by tslvsd`);
  } else {
    ctx.sink.warning(posOf(node.keyword), `unknown keyword '${keyword}' in ${blockName}`);
  }
}

/** The single argument of `keyword VALUE`; reports a missing value as an error and extras as a warning. */
export function singleArg(node: ConfigNode, ctx: CompileContext): Token | undefined {
  if (node.args.length === 0) {
    ctx.sink.error(posOf(node.keyword), `'${node.keyword.text}' needs a value`);
    return undefined;
  }
  if (node.args.length > 1) {
    ctx.sink.warning(posOf(node.args[1]), `extra arguments after '${node.keyword.text} ${node.args[0].text}' ignored`);
  }
  return node.args[0];
}

/** Warns when a keyword that takes no block got one (its content is ignored). */
export function noBlock(node: ConfigNode, ctx: CompileContext): void {
  if (node.block !== undefined && node.blockOpen !== undefined) {
    ctx.sink.warning(posOf(node.blockOpen), `'${node.keyword.text}' takes no block; its content is ignored`);
  }
}

/** The statements of a keyword that must open a block (`authentication { … }`); reports when it does not. */
export function requireBlock(node: ConfigNode, ctx: CompileContext): ConfigNode[] | undefined {
  if (node.block === undefined) {
    ctx.sink.error(posOf(node.keyword), `'${node.keyword.text}' needs a { … } block`);
    return undefined;
  }
  return node.block;
}
