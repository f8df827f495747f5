/**
 * Checker blocks inside `real_server` → the Checker union, with timers resolved in keepalived's order:
 * the checker's own value, else the real_server's, else the virtual_server's, else the checker type's
 * default (connect_timeout 5; retry 1, DNS 3, MISC 0; delay_before_retry 1, HTTP/SSL 3, DNS = delay_loop;
 * delay_loop 60; warmup = delay_loop).
 */
import type { Checker, CheckerType, FileCheck, HttpUrl, ScriptCommand } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { bodyRegexProblem, REGEX_OPTION_FLAGS, REGEX_OPTIONS_WITHOUT_EFFECT } from '../bodyRegex.js';
import { notActedOnReason } from '../runtimeSupport.js';
import { applyKeywords, type CompileContext, type KeywordTable, locOf, posOf, requireBlock, singleArg } from './context.js';
import {
  boolArg, commandLineArg, intArg, parseInteger, parseIp, parsePort, secondsArg,
} from './values.js';

/** FILE_CHECKs without their own `weight`: the cross-check gives them the track_file's weight and reverse. */
export const FILE_CHECKS_WITH_TRACK_FILE_WEIGHT = new WeakSet<FileCheck>();

export const CHECKER_TYPES: readonly CheckerType[] = [
  'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK',
];

/** Timer settings a virtual_server or real_server passes down; undefined = not set there. */
export interface InheritedTimers {
  connectTimeout?: number;
  retry?: number;
  delayBeforeRetry?: number;
  delayLoop?: number;
  warmup?: number;
  alpha?: boolean;
  virtualhost?: string;
}

/**
 * The timers one level sets, and only those: spreading two of these (`{ ...ownTimers(outer), ...ownTimers(inner) }`)
 * lets the inner level win key by key, as keepalived's inheritance does.
 */
export function ownTimers(level: InheritedTimers): InheritedTimers {
  const { connectTimeout, retry, delayBeforeRetry, delayLoop, warmup, alpha, virtualhost } = level;
  return {
    ...(connectTimeout !== undefined && { connectTimeout }),
    ...(retry !== undefined && { retry }),
    ...(delayBeforeRetry !== undefined && { delayBeforeRetry }),
    ...(delayLoop !== undefined && { delayLoop }),
    ...(warmup !== undefined && { warmup }),
    ...(alpha !== undefined && { alpha }),
    ...(virtualhost !== undefined && { virtualhost }),
  };
}

/** The keywords every level (virtual_server, real_server, checker) accepts for timers. */
export function timerHandlers<T extends InheritedTimers>(): KeywordTable<T> {
  return {
    connect_timeout: (n, d, ctx) => { const v = secondsArg(n, ctx, 0.000001); if (v !== undefined) d.connectTimeout = v; },
    retry: (n, d, ctx) => { const v = intArg(n, 0, 1_000_000, ctx); if (v !== undefined) d.retry = v; },
    nb_get_retry: (n, d, ctx) => { const v = intArg(n, 0, 1_000_000, ctx); if (v !== undefined) d.retry = v; },
    delay_before_retry: (n, d, ctx) => { const v = secondsArg(n, ctx); if (v !== undefined) d.delayBeforeRetry = v; },
    delay_loop: (n, d, ctx) => { const v = secondsArg(n, ctx, 0.000001); if (v !== undefined) d.delayLoop = v; },
    warmup: (n, d, ctx) => { const v = secondsArg(n, ctx); if (v !== undefined) d.warmup = v; },
    alpha: (n, d, ctx) => { d.alpha = boolArg(n, ctx); },
  };
}

interface CheckerDraft extends InheritedTimers {
  trackFile?: string;
  fileWeight?: number;
  fileWeightReverse?: boolean;
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  logAllFailures: boolean;
  urls: HttpUrl[];
  httpProtocol: '1.0' | '1.0C' | '1.0K' | '1.1';
  fastRecovery: boolean;
  enableSni: boolean;
  script?: ScriptCommand;
  user?: { user: string; group?: string };
  miscTimeout?: number;
  dynamic: boolean;
  heloName?: string;
  queryType: 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';
  queryName: string;
  payload?: string;
  requireReply: boolean;
  replyPattern?: string;
  minReplyLength: number;
  maxReplyLength: number;
}

const COMMON: KeywordTable<CheckerDraft> = {
  ...timerHandlers<CheckerDraft>(),
  connect_ip: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    const ip = t && parseIp(t, 'connect_ip', ctx);
    if (ip) d.connectIp = ip.address;
  },
  connect_port: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    const port = t && parsePort(t, 'connect_port', ctx);
    if (port !== undefined) d.connectPort = port;
  },
  bindto: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    const ip = t && parseIp(t, 'bindto', ctx);
    if (ip) d.bindTo = ip.address;
  },
  bind_port: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    const port = t && parsePort(t, 'bind_port', ctx);
    if (port !== undefined) d.bindPort = port;
  },
  bind_if: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.bindIf = t.text;
  },
  fwmark: (n, d, ctx) => { const v = intArg(n, 0, 0xffffffff, ctx); if (v !== undefined) d.fwmark = v; },
  log_all_failures: (n, d, ctx) => { d.logAllFailures = boolArg(n, ctx); },
};

/** `status_code 200 300-399 …` → inclusive ranges. */
function parseStatusCodes(n: ConfigNode, ctx: CompileContext): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (n.args.length === 0) ctx.sink.error(posOf(n.keyword), "'status_code' needs a code or range");
  for (const a of n.args) {
    const m = /^([0-9]{1,3})(?:-([0-9]{1,3}))?$/.exec(a.text);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || hi < lo) {
      ctx.sink.error(posOf(a), `status_code: '${a.text}' is not a status code or range within 100..599`);
      continue;
    }
    out.push([lo, hi]);
  }
  return out;
}

function compileUrl(n: ConfigNode, ctx: CompileContext): HttpUrl {
  const url: HttpUrl = { loc: locOf(n.keyword), path: '/', statusCodes: [], regexNoMatch: false };
  let pathSet = false;
  for (const item of requireBlock(n, ctx) ?? []) {
    const k = item.keyword.text;
    const pending = notActedOnReason('url', k);
    if (pending !== undefined) ctx.sink.warning(posOf(item.keyword), `'${k}' is parsed but not acted on at runtime (${pending})`);
    switch (k) {
      case 'path': {
        const t = singleArg(item, ctx);
        if (t) { url.path = t.text; pathSet = true; }
        break;
      }
      case 'digest': {
        const t = singleArg(item, ctx);
        if (t === undefined) break;
        if (/^[0-9a-fA-F]{32}$/.test(t.text)) url.digest = t.text.toLowerCase();
        else ctx.sink.error(posOf(t), `digest: '${t.text}' is not an MD5 hex digest (32 hex digits)`);
        break;
      }
      case 'status_code':
        url.statusCodes.push(...parseStatusCodes(item, ctx));
        break;
      case 'virtualhost': {
        const t = singleArg(item, ctx);
        if (t) url.virtualhost = t.text;
        break;
      }
      case 'regex': {
        const t = singleArg(item, ctx);
        if (t === undefined) break;
        const problem = bodyRegexProblem(t.text);
        if (problem === undefined) url.regex = t.text;
        else ctx.sink.error(posOf(t), `regex: '${t.text}' is not a valid regular expression (${problem})`);
        break;
      }
      case 'regex_no_match':
        url.regexNoMatch = true;
        break;
      case 'regex_min_offset': case 'regex_max_offset': {
        const t = singleArg(item, ctx);
        if (t === undefined) break;
        const v = parseInteger(t, 0, 0x7fffffff, k, ctx);
        if (v === undefined) break;
        if (k === 'regex_min_offset') url.regexMinOffset = v;
        else url.regexMaxOffset = v;
        break;
      }
      case 'regex_options': {
        const flags = new Set(url.regexFlags ?? '');
        for (const a of item.args) {
          const flag = REGEX_OPTION_FLAGS[a.text];
          if (flag !== undefined) flags.add(flag);
          else if (!REGEX_OPTIONS_WITHOUT_EFFECT.has(a.text)) ctx.sink.warning(posOf(a), `regex_options: '${a.text}' is not applied (only caseless, multiline, dotall are)`);
        }
        url.regexFlags = ['i', 'm', 's'].filter((f) => flags.has(f)).join('');
        break;
      }
      case 'regex_stack':
        ctx.sink.warning(posOf(item.keyword), `'${k}' is parsed but not acted on at runtime`);
        break;
      default:
        ctx.sink.warning(posOf(item.keyword), `unknown keyword '${k}' in url`);
    }
  }
  if (!pathSet) ctx.sink.error(posOf(n.keyword), "url block without 'path'");
  if (url.regex === undefined && (url.regexNoMatch || url.regexMinOffset !== undefined || url.regexMaxOffset !== undefined || url.regexFlags !== undefined)) {
    // keepalived clears them too ("regex parameters specified without regex").
    ctx.sink.warning(posOf(n.keyword), 'url: regex_no_match / regex_options / regex_min_offset / regex_max_offset without regex; ignored');
    url.regexNoMatch = false;
    delete url.regexFlags;
    delete url.regexMinOffset;
    delete url.regexMaxOffset;
  }
  if (url.regexMinOffset !== undefined && url.regexMaxOffset !== undefined && url.regexMinOffset > url.regexMaxOffset) {
    ctx.sink.warning(posOf(n.keyword), `url: regex_min_offset ${url.regexMinOffset} > regex_max_offset ${url.regexMaxOffset}; both ignored`);
    delete url.regexMinOffset;
    delete url.regexMaxOffset;
  }
  if (url.statusCodes.length === 0) url.statusCodes.push([200, 299]);
  return url;
}

const HTTP: KeywordTable<CheckerDraft> = {
  ...COMMON,
  url: (n, d, ctx) => { d.urls.push(compileUrl(n, ctx)); },
  virtualhost: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.virtualhost = t.text;
  },
  http_protocol: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    if (t.text === '1.0' || t.text === '1.0C' || t.text === '1.0K' || t.text === '1.1') d.httpProtocol = t.text;
    else ctx.sink.error(posOf(t), `http_protocol: '${t.text}' is not 1.0, 1.0C, 1.0K or 1.1`);
  },
  fast_recovery: (n, d, ctx) => { d.fastRecovery = boolArg(n, ctx); },
};

const KEYWORDS_BY_TYPE: Readonly<Record<CheckerType, KeywordTable<CheckerDraft>>> = {
  // keepalived's FILE_CHECK takes only these two (no timers: the file is watched, not polled).
  FILE_CHECK: {
    track_file: (n, d, ctx) => {
      const t = singleArg(n, ctx);
      if (t) d.trackFile = t.text;
    },
    weight: (n, d, ctx) => {
      const t = n.args[0];
      if (t === undefined) {
        ctx.sink.error(posOf(n.keyword), "'weight' needs a value");
        return;
      }
      const w = parseInteger(t, -65535, 65535, 'weight', ctx);
      if (w !== undefined) d.fileWeight = w;
      const option = n.args[1];
      if (option?.text === 'reverse') d.fileWeightReverse = true;
      else if (option !== undefined && option.text !== 'noreverse') ctx.sink.error(posOf(option), `unknown weight option '${option.text}'`);
    },
  },
  TCP_CHECK: COMMON,
  PING_CHECK: COMMON,
  HTTP_GET: HTTP,
  SSL_GET: { ...HTTP, enable_sni: (n, d, ctx) => { d.enableSni = boolArg(n, ctx); } },
  MISC_CHECK: {
    ...COMMON,
    misc_path: (n, d, ctx) => { const v = commandLineArg(n, ctx); if (v !== undefined) d.script = v; },
    misc_timeout: (n, d, ctx) => { const v = secondsArg(n, ctx, 0.000001); if (v !== undefined) d.miscTimeout = v; },
    misc_dynamic: (n, d, ctx) => { d.dynamic = boolArg(n, ctx); },
    user: (n, d, ctx) => {
      if (n.args.length === 0) ctx.sink.error(posOf(n.keyword), "'user' needs a user name");
      else d.user = n.args[1] ? { user: n.args[0].text, group: n.args[1].text } : { user: n.args[0].text };
    },
  },
  SMTP_CHECK: {
    ...COMMON,
    helo_name: (n, d, ctx) => {
      const t = singleArg(n, ctx);
      if (t) d.heloName = t.text;
    },
    host: (n, _d, ctx) => {
      ctx.sink.warning(posOf(n.keyword),
        "SMTP_CHECK 'host' sub-blocks are legacy (removed in keepalived 2.x) and are not acted on; use one SMTP_CHECK per host");
    },
  },
  DNS_CHECK: {
    ...COMMON,
    type: (n, d, ctx) => {
      const t = singleArg(n, ctx);
      if (t === undefined) return;
      const v = t.text.toUpperCase();
      if (v === 'A' || v === 'NS' || v === 'CNAME' || v === 'SOA' || v === 'MX' || v === 'TXT' || v === 'AAAA') d.queryType = v;
      else ctx.sink.error(posOf(t), `DNS_CHECK type: '${t.text}' is not one of A NS CNAME SOA MX TXT AAAA`);
    },
    name: (n, d, ctx) => {
      const t = singleArg(n, ctx);
      if (t) d.queryName = t.text;
    },
  },
  UDP_CHECK: {
    ...COMMON,
    payload: (n, d, ctx) => { const v = hexArg(n, false, ctx); if (v !== undefined) d.payload = v; },
    require_reply: (n, d, ctx) => {
      d.requireReply = true;
      const pattern = n.args.length > 0 ? hexArg(n, true, ctx) : undefined;
      if (pattern !== undefined) d.replyPattern = pattern;
    },
    min_reply_length: (n, d, ctx) => { d.minReplyLength = intArg(n, 0, 65535, ctx) ?? d.minReplyLength; },
    max_reply_length: (n, d, ctx) => { d.maxReplyLength = intArg(n, 0, 65535, ctx) ?? d.maxReplyLength; },
  },
};

/** keepalived's free-form hex (`Ab12f 3 456`): each space-separated group is split into bytes right-aligned. */
function hexArg(n: ConfigNode, allowWildcard: boolean, ctx: CompileContext): string | undefined {
  if (n.args.length === 0) {
    ctx.sink.error(posOf(n.keyword), `'${n.keyword.text}' needs a hex string`);
    return undefined;
  }
  let out = '';
  for (const a of n.args) {
    const re = allowWildcard ? /^[0-9a-fA-FxX]+$/ : /^[0-9a-fA-F]+$/;
    if (!re.test(a.text)) {
      ctx.sink.error(posOf(a), `${n.keyword.text}: '${a.text}' is not hex`);
      return undefined;
    }
    const text = a.text.length % 2 === 1 ? '0' + a.text : a.text;
    out += text.toLowerCase();
  }
  return out;
}

export interface CheckerTarget {
  readonly address: string;
  readonly port: number;
}

export function compileChecker(node: ConfigNode, type: CheckerType, rs: CheckerTarget, inherited: InheritedTimers,
  ctx: CompileContext): Checker | undefined {
  const d: CheckerDraft = {
    logAllFailures: false, urls: [], httpProtocol: '1.0', fastRecovery: false, enableSni: false, dynamic: false,
    queryType: 'SOA', queryName: '.', requireReply: false, minReplyLength: 0, maxReplyLength: 255,
  };
  applyKeywords(requireBlock(node, ctx), KEYWORDS_BY_TYPE[type], d, type, ctx);
  const delayLoop = d.delayLoop ?? inherited.delayLoop ?? 60;
  const defaultRetry = type === 'DNS_CHECK' ? 3 : type === 'MISC_CHECK' ? 0 : 1;
  const defaultDelayBeforeRetry = type === 'HTTP_GET' || type === 'SSL_GET' ? 3 : type === 'DNS_CHECK' ? delayLoop : 1;
  const base = {
    loc: locOf(node.keyword),
    connectIp: d.connectIp ?? rs.address,
    connectPort: d.connectPort ?? rs.port,
    connectTimeout: d.connectTimeout ?? inherited.connectTimeout ?? 5,
    retry: d.retry ?? inherited.retry ?? defaultRetry,
    delayBeforeRetry: d.delayBeforeRetry ?? inherited.delayBeforeRetry ?? defaultDelayBeforeRetry,
    delayLoop,
    warmup: d.warmup ?? inherited.warmup ?? delayLoop,
    alpha: d.alpha ?? inherited.alpha ?? false,
    logAllFailures: d.logAllFailures,
    ...(d.bindTo !== undefined ? { bindTo: d.bindTo } : {}),
    ...(d.bindPort !== undefined ? { bindPort: d.bindPort } : {}),
    ...(d.bindIf !== undefined ? { bindIf: d.bindIf } : {}),
    ...(d.fwmark !== undefined ? { fwmark: d.fwmark } : {}),
  };
  const needsPort = type !== 'MISC_CHECK' && type !== 'PING_CHECK' && type !== 'FILE_CHECK';
  if (needsPort && base.connectPort === 0) {
    ctx.sink.error(posOf(node.keyword), `${type}: no port to connect to (give the real_server a port or set connect_port)`);
  }
  switch (type) {
    case 'TCP_CHECK':
    case 'PING_CHECK':
      return { type, ...base };
    case 'HTTP_GET':
    case 'SSL_GET': {
      if (d.urls.length === 0) ctx.sink.error(posOf(node.keyword), `${type}: at least one url { path … } is needed`);
      const virtualhost = d.virtualhost ?? inherited.virtualhost;
      const http = {
        ...base, urls: d.urls, httpProtocol: d.httpProtocol, fastRecovery: d.fastRecovery,
        ...(virtualhost !== undefined ? { virtualhost } : {}),
      };
      return type === 'HTTP_GET' ? { type, ...http } : { type, ...http, enableSni: d.enableSni };
    }
    case 'MISC_CHECK': {
      if (d.script === undefined) {
        ctx.sink.error(posOf(node.keyword), "MISC_CHECK: no 'misc_path' given");
        return undefined;
      }
      const script: ScriptCommand = { ...d.script };
      if (d.user) {
        script.user = d.user.user;
        if (d.user.group !== undefined) script.group = d.user.group;
      }
      return { type, ...base, script, timeout: d.miscTimeout ?? delayLoop, dynamic: d.dynamic };
    }
    case 'FILE_CHECK': {
      if (d.trackFile === undefined) {
        ctx.sink.error(posOf(node.keyword), "FILE_CHECK: no 'track_file NAME' given");
        return undefined;
      }
      // The path, and the weight when not given here, come from the track_file (compile.ts cross-check).
      const check: FileCheck = { type, ...base, trackFile: d.trackFile, path: '', weight: d.fileWeight ?? 0, weightReverse: d.fileWeightReverse ?? false };
      if (d.fileWeight === undefined) FILE_CHECKS_WITH_TRACK_FILE_WEIGHT.add(check);
      return check;
    }
    case 'SMTP_CHECK':
      return { type, ...base, heloName: d.heloName ?? 'localhost' };
    case 'DNS_CHECK':
      return { type, ...base, queryType: d.queryType, name: d.queryName };
    case 'UDP_CHECK': {
      if (d.minReplyLength > d.maxReplyLength) {
        ctx.sink.error(posOf(node.keyword), 'UDP_CHECK: min_reply_length is greater than max_reply_length');
      }
      return {
        type, ...base, requireReply: d.requireReply, minReplyLength: d.minReplyLength, maxReplyLength: d.maxReplyLength,
        ...(d.payload !== undefined ? { payload: d.payload } : {}),
        ...(d.replyPattern !== undefined ? { replyPattern: d.replyPattern } : {}),
      };
    }
  }
}

export function isCheckerType(keyword: string): keyword is CheckerType {
  return (CHECKER_TYPES as readonly string[]).includes(keyword);
}

