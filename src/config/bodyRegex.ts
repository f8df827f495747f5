/**
 * How a url `regex` (keepalived: PCRE2, compiled without PCRE2_UTF) becomes a JavaScript RegExp, shared by
 * the compiler (which refuses what will not compile) and the HTTP checker (which runs it). Pattern and body
 * are taken byte for byte (latin1): `.` is one byte, offsets count bytes, and a UTF-8 literal in the pattern
 * matches the same bytes in the body, as with PCRE2.
 *
 * Differences with PCRE2, refused rather than silently read otherwise: PCRE-only escapes (`\A`, `\Z`, `\z`,
 * `\G`, `\K`, `\Q…\E`, `\h`, `\H`, `\R`, `\X`, `\C`, `\N`, `\e`, `\a`, `\p{…}`, `\o{…}`, …) which
 * JavaScript would take as a plain letter; possessive quantifiers (`a++`), atomic groups (`(?>…)`),
 * inline options (`(?i)`), recursion and conditionals, which JavaScript refuses itself. `\v` is a vertical
 * tab in JavaScript (PCRE2: any vertical space).
 */

/** Letters JavaScript (without the u flag) gives a meaning after a backslash. */
const JS_LETTER_ESCAPES = new Set('bBdDsSwWfnrtvcxuk');

/** Why the pattern cannot be run, or undefined when it can. */
export function bodyRegexProblem(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    const next = pattern[i + 1] ?? '';
    if (/[A-Za-z]/.test(next) && !JS_LETTER_ESCAPES.has(next)) return `'\\${next}' is PCRE syntax that JavaScript regular expressions do not have`;
    i++;
  }
  try {
    new RegExp(bodyRegexSource(pattern));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * keepalived's `regex_options` that have a JavaScript flag. Options that change nothing here (PCRE2
 * compile-time tuning, or never_utf / never_ucp, which is how the pattern is run anyway) are accepted;
 * the others are refused with a warning and not applied.
 */
export const REGEX_OPTION_FLAGS: Readonly<Record<string, string>> = { caseless: 'i', multiline: 'm', dotall: 's' };
export const REGEX_OPTIONS_WITHOUT_EFFECT: ReadonlySet<string> = new Set([
  'never_utf', 'never_ucp', 'no_auto_possess', 'no_start_optimize', 'no_dotstar_anchor', 'never_backslash_c', 'auto_callout',
]);

/** The RegExp source: the pattern's UTF-8 bytes as latin1 characters. */
export function bodyRegexSource(pattern: string): string {
  return Buffer.from(pattern, 'utf8').toString('latin1');
}
