import { describe, expect, it } from 'vitest';
import { lexLine } from '../../src/config/lexer.js';

const words = (text: string) => lexLine(text, 'f', 1).tokens.map((t) => (t.kind === 'word' ? t.text : `<${t.kind}>`));

describe('lexer', () => {
  it('splits words and braces, keeping columns', () => {
    const { tokens } = lexLine('  track_script { chk }', 'f', 7);
    expect(tokens.map((t) => [t.kind, t.text, t.line, t.col])).toEqual([
      ['word', 'track_script', 7, 3], ['{', '{', 7, 16], ['word', 'chk', 7, 18], ['}', '}', 7, 22],
    ]);
  });

  it('braces glued to words are still braces', () => {
    expect(words('vrrp_instance VI_1{')).toEqual(['vrrp_instance', 'VI_1', '<{>']);
    expect(words('}}')).toEqual(['<}>', '<}>']);
  });

  it('joins quoted segments into one word and keeps their spaces and braces', () => {
    expect(words('script "/bin/check arg" user')).toEqual(['script', '/bin/check arg', 'user']);
    expect(words(`abcd" efg h jkl "mnop`)).toEqual(['abcd efg h jkl mnop']);
    expect(words(`a 'b { c }' d`)).toEqual(['a', 'b { c }', 'd']);
    const t = lexLine('"{"', 'f', 1).tokens[0];
    expect(t.kind).toBe('word');
    expect(t.quoted).toBe(true);
  });

  it('decodes C escapes inside double quotes only', () => {
    expect(words('"a\\tb\\n\\\\\\"q\\x41\\101\\cA"')).toEqual(['a\tb\n\\"qAA\x01']);
    expect(words("'a\\tb'")).toEqual(['a\\tb']);
    expect(words('plain\\t')).toEqual(['plain\\t']);
  });

  it('reports an unterminated quote at its opening column', () => {
    const r = lexLine('path "/index.html', 'f', 3);
    expect(r.unterminatedQuoteCol).toBe(6);
    expect(r.tokens[1].text).toBe('/index.html');
  });

  it('adds colBase for prefixes removed by the preprocessor', () => {
    expect(lexLine('priority 10', 'f', 1, 7).tokens.map((t) => t.col)).toEqual([7, 16]);
  });
});
