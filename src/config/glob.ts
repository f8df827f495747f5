/**
 * The `include` pattern expander: glob(3) semantics as keepalived uses them (`*`, `?`, `[...]`, and csh
 * brace expressions `{a,b}`), over a FileSource so it stays pure. Results are sorted like glob(3).
 */
import { type FileSource, joinPath } from './fileSource.js';

const MAX_BRACE_EXPANSIONS = 1024;

/** `a{b,c{d,e}}f` → [abf, acdf, acef]; unbalanced braces are left literal. */
export function expandBraces(pattern: string): string[] {
  const open = findTopBrace(pattern);
  if (open === undefined) return [pattern];
  const { start, end, alternatives } = open;
  const head = pattern.slice(0, start);
  const tail = pattern.slice(end + 1);
  const out: string[] = [];
  for (const alt of alternatives) {
    for (const expanded of expandBraces(head + alt + tail)) {
      out.push(expanded);
      if (out.length >= MAX_BRACE_EXPANSIONS) return out;
    }
  }
  return out;
}

function findTopBrace(p: string): { start: number; end: number; alternatives: string[] } | undefined {
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== '{') continue;
    let depth = 0;
    let last = i + 1;
    const alternatives: string[] = [];
    for (let j = i; j < p.length; j++) {
      const c = p[j];
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) {
          alternatives.push(p.slice(last, j));
          if (alternatives.length < 2) break; // "{x}" without a comma is literal in glob(3)
          return { start: i, end: j, alternatives };
        }
      } else if (c === ',' && depth === 1) {
        alternatives.push(p.slice(last, j));
        last = j + 1;
      }
    }
  }
  return undefined;
}

export function hasGlobMagic(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/** One path segment's glob pattern as a RegExp; a leading dot must be matched explicitly, as in glob(3). */
export function segmentRegExp(segment: string): RegExp {
  let re = '^';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/**
 * Expands `pattern` (absolute, or relative to `baseDir`) to the existing paths it names. `onList` is told
 * how many entries each directory listing returned (the compile budget counts them: a glob over /proc lists a
 * lot), and may throw to stop.
 */
export function globFiles(pattern: string, baseDir: string, files: FileSource, onList?: (entries: number) => void): string[] {
  const results = new Set<string>();
  for (const alternative of expandBraces(pattern)) {
    const absolute = joinPath(baseDir, alternative);
    const segments = absolute.split('/');
    let candidates: string[] = [absolute.startsWith('/') ? '' : '.'];
    for (let i = absolute.startsWith('/') ? 1 : 0; i < segments.length; i++) {
      const seg = segments[i];
      if (seg === '') continue;
      const next: string[] = [];
      for (const dir of candidates) {
        const dirPath = dir === '' ? '/' : dir;
        if (!hasGlobMagic(seg)) {
          next.push(dir === '.' ? seg : `${dir}/${seg}`);
          continue;
        }
        const re = segmentRegExp(seg);
        const names = files.listDir(dirPath) ?? [];
        onList?.(names.length);
        for (const name of names) {
          if (name.startsWith('.') && !seg.startsWith('.')) continue;
          if (re.test(name)) next.push(dir === '.' ? name : `${dir}/${name}`);
        }
      }
      candidates = next;
    }
    for (const c of candidates) results.add(c);
  }
  return [...results].sort();
}
