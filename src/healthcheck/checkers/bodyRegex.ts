/**
 * url { regex; regex_no_match; regex_min_offset; regex_max_offset } (keepalived 2.2.7's check_http.c). Pure.
 * The pattern is run over the body's bytes as src/config/bodyRegex.ts says (and documents the differences
 * with keepalived's PCRE2).
 */
import { bodyRegexSource } from '../../config/bodyRegex.js';
import type { BodyRegexSpec } from '../plan.js';

/** The pattern as the matcher runs it: over the pattern's UTF-8 bytes, global so that it can start at an offset. */
export function compileBodyRegex(pattern: string, flags = ''): RegExp {
  return new RegExp(bodyRegexSource(pattern), `g${flags}`);
}

/**
 * Judges a body (the bytes read, at most the reader's cap) against a url's regex. `complete` = the body was
 * read to its end; a cut body that did not match cannot be said not to match further on. Returns null when
 * the url passes, else why not.
 */
export function judgeBody(regex: RegExp, spec: BodyRegexSpec, body: Buffer, complete: boolean): string | null {
  regex.lastIndex = spec.minOffset ?? 0;
  const m = regex.exec(body.toString('latin1'));
  const matched = m !== null && (spec.maxOffset === undefined || m.index <= spec.maxOffset);
  if (!matched && !complete) return `regex /${spec.pattern}/ not found in the first ${body.length} bytes (body cut there), not checked further`;
  if (matched === spec.noMatch) {
    return spec.noMatch ? `body matches regex /${spec.pattern}/ at offset ${m!.index} (regex_no_match)` : `body does not match regex /${spec.pattern}/`;
  }
  return null;
}
