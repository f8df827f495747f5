/**
 * Value parsers for keepalived's argument types. Each reports a located error and returns undefined on bad
 * input, so one bad value never stops the compiler from finding the next problem.
 */
import * as z from 'zod';
import { canonicalIp } from '../../util/ipAddress.js';
import type { Token } from '../lexer.js';
import type { AddressFamily, ScriptCommand } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { type CompileContext, locOf, posOf, singleArg } from './context.js';

const ipv4 = z.ipv4();
const ipv6 = z.ipv6();

/** Dotted quad without leading zeros (same rule as zod's ipv4), checked first because it is the common case. */
const IPV4 = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

export function addressFamily(text: string): AddressFamily | undefined {
  if (IPV4.test(text)) return 'inet';
  if (text.includes(':') && ipv6.safeParse(text).success) return 'inet6';
  if (!text.includes(':') && ipv4.safeParse(text).success) return 'inet';
  return undefined;
}

export function parseInteger(token: Token, min: number, max: number, what: string, ctx: CompileContext): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(token.text)) {
    ctx.sink.error(posOf(token), `${what}: '${token.text}' is not an integer`);
    return undefined;
  }
  const value = Number(token.text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    ctx.sink.error(posOf(token), `${what}: ${token.text} is out of range ${min}..${max}`);
    return undefined;
  }
  return value;
}

export function intArg(node: ConfigNode, min: number, max: number, ctx: CompileContext): number | undefined {
  const t = singleArg(node, ctx);
  return t === undefined ? undefined : parseInteger(t, min, max, node.keyword.text, ctx);
}

/** keepalived <TIMER>: seconds, fractional allowed (microsecond resolution). */
export function parseSeconds(token: Token, min: number, max: number, what: string, ctx: CompileContext): number | undefined {
  if (!/^[0-9]+(\.[0-9]*)?$|^\.[0-9]+$/.test(token.text)) {
    ctx.sink.error(posOf(token), `${what}: '${token.text}' is not a number of seconds`);
    return undefined;
  }
  const value = Number(token.text);
  if (!Number.isFinite(value) || value < min || value > max) {
    ctx.sink.error(posOf(token), `${what}: ${token.text} is out of range ${min}..${max} seconds`);
    return undefined;
  }
  return Math.round(value * 1e6) / 1e6;
}

/** Upper bound for timers (a year): far beyond any real use, and keeps every timer a safe integer of µs. */
export const MAX_TIMER_SECONDS = 86_400 * 365;

export function secondsArg(node: ConfigNode, ctx: CompileContext, min = 0, max = MAX_TIMER_SECONDS): number | undefined {
  const t = singleArg(node, ctx);
  return t === undefined ? undefined : parseSeconds(t, min, max, node.keyword.text, ctx);
}

/**
 * keepalived <BOOL>: no argument = true; on|true|yes / off|false|no. Also 1/0: keepalived 2.2.7 ignored
 * the argument of alpha/omega, and maintainer configs write `alpha 1`.
 */
export function boolArg(node: ConfigNode, ctx: CompileContext): boolean {
  if (node.args.length === 0) return true;
  const t = node.args[0];
  const v = t.text.toLowerCase();
  if (v === 'on' || v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === 'no' || v === '0') return false;
  ctx.sink.error(posOf(t), `${node.keyword.text}: '${t.text}' is not a boolean (on|off|true|false|yes|no)`);
  return true;
}

export function parseIp(token: Token, what: string, ctx: CompileContext): { address: string; family: AddressFamily } | undefined {
  const text = token.text.startsWith('[') && token.text.endsWith(']') ? token.text.slice(1, -1) : token.text;
  const family = addressFamily(text);
  if (family === undefined) {
    ctx.sink.error(posOf(token), `${what}: '${token.text}' is not an IPv4 or IPv6 address`);
    return undefined;
  }
  return { address: canonicalIp(text), family };
}

/** `ADDR[/PREFIX]` with the family's full-length default prefix. */
export function parseIpPrefix(token: Token, what: string, ctx: CompileContext):
  { address: string; family: AddressFamily; prefixLength: number } | undefined {
  const slash = token.text.indexOf('/');
  const addrText = slash < 0 ? token.text : token.text.slice(0, slash);
  const family = addressFamily(addrText);
  if (family === undefined) {
    ctx.sink.error(posOf(token), `${what}: '${addrText}' is not an IPv4 or IPv6 address`);
    return undefined;
  }
  const max = family === 'inet' ? 32 : 128;
  let prefixLength = max;
  if (slash >= 0) {
    const p = token.text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) {
      ctx.sink.error(posOf(token), `${what}: '/${p}' is not a prefix length 0..${max}`);
      return undefined;
    }
    prefixLength = Number(p);
  }
  return { address: canonicalIp(addrText), family, prefixLength };
}

export function parsePort(token: Token, what: string, ctx: CompileContext): number | undefined {
  return parseInteger(token, 0, 65535, what, ctx);
}

/**
 * Splits a command line as keepalived does for scripts: whitespace separates arguments, single quotes
 * (and double quotes left inside a quoted string) group them. No shell is ever involved.
 */
export function splitCommand(command: string): string[] {
  const argv: string[] = [];
  let current = '';
  let inWord = false;
  let quote: string | undefined;
  for (const c of command) {
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) argv.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) argv.push(current);
  return argv;
}

/** `notify_master CMD [user [group]]`: the command is one (usually quoted) word. */
export function notifyScriptArg(node: ConfigNode, ctx: CompileContext): ScriptCommand | undefined {
  if (node.args.length === 0) {
    ctx.sink.error(posOf(node.keyword), `'${node.keyword.text}' needs a script`);
    return undefined;
  }
  const argv = splitCommand(node.args[0].text);
  if (argv.length === 0) {
    ctx.sink.error(posOf(node.args[0]), `'${node.keyword.text}': empty script`);
    return undefined;
  }
  if (node.args.length > 3) {
    ctx.sink.warning(posOf(node.args[3]),
      `'${node.keyword.text}': arguments after 'script user group' ignored (quote the command to pass arguments)`);
  }
  const cmd: ScriptCommand = { loc: locOf(node.keyword), argv };
  if (node.args[1] !== undefined) cmd.user = node.args[1].text;
  if (node.args[2] !== undefined) cmd.group = node.args[2].text;
  return cmd;
}

/** `script …` / `misc_path …`: the whole rest of the line is the command. */
export function commandLineArg(node: ConfigNode, ctx: CompileContext): ScriptCommand | undefined {
  const argv = node.args.flatMap((a) => (a.quoted ? splitCommand(a.text) : [a.text]));
  if (argv.length === 0) {
    ctx.sink.error(posOf(node.keyword), `'${node.keyword.text}' needs a command`);
    return undefined;
  }
  return { loc: locOf(node.keyword), argv };
}
