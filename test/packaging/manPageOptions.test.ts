/**
 * The shipped documentation keeps up with the parser: every option src/cliOptions.ts accepts (its own table,
 * exported as OPTION_NAMES) appears in tslvsd(8)'s OPTIONS section and in the bash completion's word list,
 * every refused keepalived option is listed in tslvsd(8) and never offered by the completion, and neither
 * names an option the parser does not know. Rendering without a groff warning is deb.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTION_NAMES, parseCliOptions } from '../../src/cliOptions.js';

const root = new URL('../..', import.meta.url).pathname;

/** The man page source as text: `\-` is a dash, font escapes (\fB, \fI, \fR, \fP) are dropped. */
function manText(page: string): string {
  return readFileSync(join(root, 'packaging/deb/man', page), 'utf8')
    .replace(/\\-/g, '-')
    .replace(/\\f[BIRP]/g, '');
}

/** The section from `.SH NAME` up to the next `.SH`. */
function section(text: string, name: string): string {
  const start = text.indexOf(`.SH ${name}\n`);
  expect(start, `.SH ${name} in the man page`).toBeGreaterThanOrEqual(0);
  const next = text.indexOf('\n.SH ', start + 1);
  return next < 0 ? text.slice(start) : text.slice(start, next);
}

/** Whether `name` occurs as a whole option (not as the start of --vrrp-only when looking for --vrrp). */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`).test(text);
}

/** Every option-looking word: `--long-name` (with `_`) or a lone `-x`; groups and attached values (`-nlD`, `-fFILE`) are examples. */
function optionWords(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])(--[A-Za-z][\w-]*|-[A-Za-z](?![\w-]))/g)].map((m) => m[1]!);
}

/** The words of the completion's `local options='…'` list, `--signum=` read as `--signum`. */
function completionWords(): string[] {
  const script = readFileSync(join(root, 'packaging/deb/tslvsd.bash-completion'), 'utf8');
  const m = /local options='([^']*)'/.exec(script);
  expect(m, "the completion's local options='…' list").not.toBeNull();
  return m![1]!.split(/\s+/).filter((w) => w !== '').map((w) => w.replace(/=$/, ''));
}

const known = new Set([...OPTION_NAMES.accepted, ...OPTION_NAMES.refused]);

describe('OPTION_NAMES, read from the parser table', () => {
  it('holds the short and long names of keepalived and tslvsd options', () => {
    for (const name of ['-f', '--config', '--use-file', '-P', '--vrrp', '-C', '--check', '-p', '--pid', '-r', '--vrrp_pid', '-c', '--checkers_pid', '-t', '-d', '-i', '-g', '-u', '-I', '--signum', '-v', '-h', '-n', '-l', '-D', '-G', '-S', '-R', '-B']) {
      expect(OPTION_NAMES.accepted).toContain(name);
    }
    expect(OPTION_NAMES.refused).toContain('-x');
    expect(OPTION_NAMES.refused).toContain('--snmp');
  });

  it('lists as refused exactly what the parser refuses', () => {
    for (const name of OPTION_NAMES.refused) {
      const parsed = parseCliOptions([name]);
      expect(parsed.ok, name).toBe(false);
      if (!parsed.ok) expect(parsed.message, name).toContain('is not supported');
    }
  });
});

describe('tslvsd(8)', () => {
  const options = section(manText('tslvsd.8'), 'OPTIONS');

  it('describes every option the parser accepts', () => {
    const missing = OPTION_NAMES.accepted.filter((name) => name !== '--json' && !mentions(options, name));
    expect(missing).toEqual([]);
  });

  it('describes --json with the status command', () => {
    expect(mentions(section(manText('tslvsd.8'), 'COMMANDS'), '--json')).toBe(true);
  });

  it('lists every refused keepalived option', () => {
    expect(OPTION_NAMES.refused.filter((name) => !mentions(options, name))).toEqual([]);
  });

  it('names no option the parser does not know', () => {
    expect(optionWords(options).filter((word) => !known.has(word))).toEqual([]);
  });

  it('has the sections an operator looks for', () => {
    const text = manText('tslvsd.8');
    for (const name of ['OPTIONS', 'PID FILES', 'ENVIRONMENT', 'SIGNALS', 'EXIT STATUS', 'FILES']) section(text, name);
    expect(section(text, 'ENVIRONMENT')).toContain('DAEMON_ARGS');
  });
});

describe('the bash completion', () => {
  const words = completionWords();

  it('offers every option the parser accepts', () => {
    expect(OPTION_NAMES.accepted.filter((name) => name !== '--json' && !words.includes(name))).toEqual([]);
  });

  it('offers nothing the parser refuses or does not know', () => {
    expect(words.filter((word) => !OPTION_NAMES.accepted.includes(word))).toEqual([]);
  });
});
