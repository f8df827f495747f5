/**
 * `virtual_routes` / `static_routes` and `virtual_rules` / `static_rules` lines → IpRoute / IpRule, with
 * keepalived's syntax (vrrp_iproute.c alloc_route, vrrp_iprule.c alloc_rule) and defaults: table main, scope
 * universe, type unicast, protocol keepalived (18) unless `no_track` with another `protocol`, rules without
 * a preference numbered down from 16384 per family (with keepalived's warning). Options keepalived has and
 * tslvsd does not program are warned about at their FILE:LINE and skipped; options that would send the
 * traffic elsewhere if ignored (`nexthop`, `encap`, `vrf`) are errors.
 */
import type { Token } from '../lexer.js';
import type { AddressFamily, IpPrefix, IpRoute, IpRule } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { type CompileContext, locOf, posOf, requireBlock } from './context.js';
import { formatIp, parseIp as parseIpBytes } from '../../util/ipAddress.js';
import { addressFamily, parseIp, parseIpPrefix } from './values.js';

/** keepalived's RTPROT_KEEPALIVED: the protocol of every tracked route and rule. */
export const KEEPALIVED_PROTOCOL = 18;

const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };
const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
/** /etc/iproute2/rt_protos as Debian ships it. */
const PROTOCOLS: Record<string, number> = {
  redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14,
  ntk: 15, dhcp: 16, keepalived: 18, babel: 42, openr: 99, bgp: 186, isis: 187, ospf: 188, rip: 189, eigrp: 192,
};
const ROUTE_TYPES = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'] as const;
/** Route options keepalived accepts that tslvsd does not program, with the number of values each takes. */
const UNSUPPORTED_ROUTE_OPTIONS: Record<string, number> = {
  expires: 1, mtu: 1, hoplimit: 1, advmss: 1, rtt: 1, rttvar: 1, reordering: 1, window: 1, cwnd: 1, ssthresh: 1, realms: 1,
  rto_min: 1, initcwnd: 1, initrwnd: 1, features: 1, quickack: 1, congctl: 1, pref: 1, 'ttl-propagate': 1,
  fastopen_no_cookie: 1, track_group: 1, as: 1, add: 0, prepend: 0, append: 0,
};
/** Route options that change where traffic goes: ignoring them would install another route. */
const REFUSED_ROUTE_OPTIONS = new Set(['encap', 'vrf']);
/**
 * Multipath (`nexthop …`, keepalived's deprecated `via A or B`): not programmed. The route is left out
 * with a warning rather than refusing the file (keepalived's own doc/samples use `or`), and never
 * installed with one path, which would be another route.
 */
const MULTIPATH_ROUTE_OPTIONS = new Set(['nexthop', 'or']);
const UNSUPPORTED_RULE_OPTIONS: Record<string, number> = {
  realms: 1, suppress_prefixlength: 1, sup_pl: 1, suppress_ifgroup: 1, sup_group: 1, 'tunnel-id': 1, uidrange: 1,
  ipproto: 1, sport: 1, dport: 1, track_group: 1,
};
const RULE_START_PRIORITY = 16384;

/** Per compilation, the next preference given to a rule without one (keepalived counts down per family). */
const nextRulePriority = new WeakMap<CompileContext, Record<AddressFamily, number>>();

export function compileRouteBlock(node: ConfigNode, ctx: CompileContext): IpRoute[] {
  const out: IpRoute[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const route = compileRoute([item.keyword, ...item.args], ctx);
    if (route) out.push(route);
  }
  return out;
}

export function compileRuleBlock(node: ConfigNode, ctx: CompileContext): IpRule[] {
  const out: IpRule[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const rule = compileRule([item.keyword, ...item.args], ctx);
    if (rule) out.push(rule);
  }
  return out;
}

/**
 * What reading one `ip route` or `ip rule` line keeps: the family its addresses fixed, whether it was refused
 * (an error: `ok` false) or left out with a warning (`skipped`).
 */
class LineReading {
  family: AddressFamily | undefined;
  ok = true;
  skipped = false;

  constructor(private readonly ctx: CompileContext, private readonly mixedFamilies: (token: Token) => string) {}

  fail(token: Token, message: string): undefined {
    this.ctx.sink.error(posOf(token), message);
    this.ok = false;
    return undefined;
  }

  /** Fixes the line's family on its first address; a later one of the other family refuses the line. */
  sameFamily(token: Token, f: AddressFamily): boolean {
    if (this.family === undefined) this.family = f;
    else if (this.family !== f) {
      this.fail(token, this.mixedFamilies(token));
      return false;
    }
    return true;
  }
}

/** keepalived tracks only protocol-18 routes and rules: another protocol is reset to 18 (with a warning) unless no_track. */
function trackedProtocol(what: 'route' | 'rule', protocol: number | undefined, protocolToken: Token | undefined, noTrack: boolean, ctx: CompileContext): number | undefined {
  if (noTrack) return protocol;
  if (protocol !== undefined && protocol !== KEEPALIVED_PROTOCOL && protocolToken) {
    ctx.sink.warning(posOf(protocolToken), `${what} cannot be tracked if protocol is not keepalived (18); protocol reset to 18 (use no_track to keep ${protocol})`);
  }
  return KEEPALIVED_PROTOCOL;
}

// ---------------------------------------------------------------------------------------------- routes

export function compileRoute(words: readonly Token[], ctx: CompileContext): IpRoute | undefined {
  const first = words[0]!;
  // skipped: multipath (left out with a warning).
  const line = new LineReading(ctx, (token) => `route: cannot mix IPv4 and IPv6 addresses ('${token.text}')`);
  let destination: IpPrefix | undefined;
  let destinationToken: Token | undefined;
  let type: IpRoute['type'] = 'unicast';
  let table = TABLES.main!;
  let protocol: number | undefined;
  let protocolToken: Token | undefined;
  let scope: number | undefined;
  let from: IpPrefix | undefined;
  let via: string | undefined;
  let src: string | undefined;
  let dev: string | undefined;
  let metric: number | undefined;
  let tos: number | undefined;
  let onlink = false;
  let noTrack = false;

  for (let i = 0; i < words.length && line.ok; i++) {
    const word = words[i]!;
    const w = word.text;
    const value = (): Token | undefined => {
      const v = words[i + 1];
      if (v === undefined) return line.fail(word, `route option '${w}' needs a value`);
      i++;
      return v;
    };
    if (w === 'inet' || w === 'inet6') {
      line.sameFamily(word, w);
    } else if (w === 'src') {
      const v = value();
      const ip = v && parseIp(v, 'route src', ctx);
      if (v && !ip) line.ok = false;
      if (v && ip && line.sameFamily(v, ip.family)) src = ip.address;
    } else if (w === 'via' || w === 'gw') {
      if (w === 'gw') ctx.sink.warning(posOf(word), "route: 'gw' is deprecated, use 'via' (as keepalived says)");
      let v = value();
      if (v && (v.text === 'inet' || v.text === 'inet6')) {
        line.sameFamily(v, v.text);
        v = value();
      }
      const ip = v && parseIp(v, 'route via', ctx);
      if (v && !ip) line.ok = false;
      if (v && ip && line.sameFamily(v, ip.family)) via = ip.address;
    } else if (w === 'from') {
      const v = value();
      const p = v && prefix(v, 'route from', ctx);
      if (v && !p) line.ok = false;
      else if (v && p && p.family !== 'inet6') line.fail(v, `route: 'from' is only supported with IPv6 ('${v.text}')`);
      else if (v && p && line.sameFamily(v, p.family)) from = { address: p.address, prefixLength: p.prefixLength };
    } else if (w === 'tos' || w === 'dsfield') {
      const v = value();
      if (v) tos = numberOrName(v, {}, 255, 'route tos', ctx) ?? (line.ok = false, undefined);
    } else if (w === 'table') {
      const v = value();
      if (v) table = tableNumber(v, 'route', ctx) ?? (line.ok = false, table);
    } else if (w === 'protocol' || w === 'proto') {
      const v = value();
      if (v) {
        protocol = numberOrName(v, PROTOCOLS, 255, 'route protocol', ctx) ?? (line.ok = false, undefined);
        protocolToken = v;
      }
    } else if (w === 'scope') {
      const v = value();
      if (v) scope = numberOrName(v, SCOPES, 255, 'route scope', ctx) ?? (line.ok = false, undefined);
    } else if (w === 'metric' || w === 'priority' || w === 'preference') {
      const v = value();
      if (v) metric = numberOrName(v, {}, 0xffff_ffff, `route ${w}`, ctx) ?? (line.ok = false, undefined);
    } else if (w === 'dev' || w === 'oif') {
      const v = value();
      if (v) dev = v.text;
    } else if (w === 'onlink') {
      onlink = true;
    } else if (w === 'no_track') {
      noTrack = true;
    } else if (MULTIPATH_ROUTE_OPTIONS.has(w)) {
      ctx.sink.warning(posOf(word), `route: multipath ('${w}') is parsed but not acted on: this route is not installed`);
      line.skipped = true;
      break;
    } else if (REFUSED_ROUTE_OPTIONS.has(w)) {
      line.fail(word, `route option '${w}' is not supported by tslvsd (ignoring it would install another route)`);
    } else if (Object.prototype.hasOwnProperty.call(UNSUPPORTED_ROUTE_OPTIONS, w)) {
      ctx.sink.warning(posOf(word), `route option '${w}' is not supported by tslvsd; ignored`);
      const values = UNSUPPORTED_ROUTE_OPTIONS[w]!;
      if (values > 0 && words[i + 1]?.text === 'lock') i++;
      i += values;
    } else {
      // [to] [TYPE] DESTINATION, as keepalived reads the remaining words.
      let at = i;
      if (words[at]!.text === 'to') at++;
      const typeWord = words[at];
      if (typeWord && (ROUTE_TYPES as readonly string[]).includes(typeWord.text)) {
        type = typeWord.text as IpRoute['type'];
        at++;
      }
      const dstToken = words[at];
      if (dstToken === undefined) {
        line.fail(words[at - 1]!, 'route: no destination after \'' + words[at - 1]!.text + "'");
        break;
      }
      i = at;
      const previous = destinationToken;
      const replaces = (): void => {
        if (previous) ctx.sink.warning(posOf(dstToken), `route: second destination '${dstToken.text}' replaces '${previous.text}'`);
      };
      destinationToken = dstToken;
      if (dstToken.text === 'default') {
        replaces();
        destination = { address: '', prefixLength: 0 };
        continue;
      }
      if (addressFamily(dstToken.text.split('/')[0]!) === undefined) {
        line.fail(dstToken, `unknown route keyword '${dstToken.text}'`);
        break;
      }
      const p = prefix(dstToken, 'route destination', ctx);
      if (!p) {
        line.ok = false;
        break;
      }
      replaces();
      if (line.sameFamily(dstToken, p.family)) destination = { address: p.address, prefixLength: p.prefixLength };
    }
  }
  if (!line.ok || line.skipped) return undefined;
  if (destination === undefined) {
    ctx.sink.error(posOf(first), 'route must have a destination');
    return undefined;
  }
  const fam: AddressFamily = line.family ?? 'inet';
  if (destination.address === '') destination.address = fam === 'inet' ? '0.0.0.0' : '::';
  protocol = trackedProtocol('route', protocol, protocolToken, noTrack, ctx);
  const route: IpRoute = {
    loc: locOf(first), family: fam, destination, type, table, protocol: protocol ?? KEEPALIVED_PROTOCOL, onlink, noTrack,
  };
  if (scope !== undefined) route.scope = scope;
  if (from) route.from = from;
  if (via !== undefined) route.via = via;
  if (src !== undefined) route.src = src;
  if (dev !== undefined) route.dev = dev;
  if (metric !== undefined) route.metric = metric;
  if (tos !== undefined) route.tos = tos;
  return route;
}

// ----------------------------------------------------------------------------------------------- rules

export function compileRule(words: readonly Token[], ctx: CompileContext): IpRule | undefined {
  const first = words[0]!;
  // skipped: an address keepalived cannot parse either (left out with a warning).
  const line = new LineReading(ctx, (token) => `rule: mixed IPv4 and IPv6 ('${token.text}')`);
  let from: IpPrefix | undefined;
  let to: IpPrefix | undefined;
  let action: IpRule['action'] | undefined;
  let actionToken: Token | undefined;
  let table: number | undefined;
  let gotoTarget: number | undefined;
  let priority: number | undefined;
  let fwmark: number | undefined;
  let fwmask: number | undefined;
  let iif: string | undefined;
  let oif: string | undefined;
  let tos: number | undefined;
  let protocol: number | undefined;
  let protocolToken: Token | undefined;
  let noTrack = false;
  const setAction = (token: Token, a: IpRule['action']): void => {
    if (action !== undefined) line.fail(token, 'rule: cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable');
    action = a;
    actionToken = token;
  };

  for (let i = 0; i < words.length && line.ok; i++) {
    const word = words[i]!;
    const w = word.text;
    const value = (): Token | undefined => {
      const v = words[i + 1];
      if (v === undefined) return line.fail(word, `rule option '${w}' needs a value`);
      i++;
      return v;
    };
    if (w === 'inet' || w === 'inet6') {
      line.sameFamily(word, w);
    } else if (w === 'from' || w === 'to') {
      const v = value();
      if (v && v.text !== 'all' && addressFamily(v.text.split('/')[0]!) === undefined) {
        // keepalived 2.2.7 logs "Invalid rule to address" and goes on without the rule (its doc/samples have
        // `to 192.168.100./24`): the same here, with the location.
        ctx.sink.warning(posOf(v), `rule ${w}: '${v.text}' is not an IPv4 or IPv6 address: the rule is not acted on (skipped, as keepalived skips it)`);
        line.skipped = true;
      } else if (v && v.text !== 'all') {
        const p = prefix(v, `rule ${w}`, ctx);
        if (!p) line.ok = false;
        else if (line.sameFamily(v, p.family)) {
          if (w === 'from') from = { address: p.address, prefixLength: p.prefixLength };
          else to = { address: p.address, prefixLength: p.prefixLength };
        }
      }
    } else if (w === 'table' || w === 'lookup') {
      const v = value();
      if (v) {
        table = tableNumber(v, 'rule', ctx) ?? (line.ok = false, undefined);
        setAction(word, 'table');
      }
    } else if (w === 'preference' || w === 'order' || w === 'priority') {
      const v = value();
      if (v) priority = numberOrName(v, {}, 0xffff_ffff, `rule ${w}`, ctx) ?? (line.ok = false, undefined);
    } else if (w === 'tos' || w === 'dsfield') {
      const v = value();
      if (v) tos = numberOrName(v, {}, 255, 'rule tos', ctx) ?? (line.ok = false, undefined);
    } else if (w === 'fwmark') {
      const v = value();
      if (v) {
        const m = /^(0x[0-9a-f]+|[0-9]+)(?:\/(0x[0-9a-f]+|[0-9]+))?$/i.exec(v.text);
        const mark = m ? Number(m[1]) : NaN;
        const mask = m?.[2] !== undefined ? Number(m[2]) : undefined;
        if (!m || mark > 0xffff_ffff || (mask !== undefined && mask > 0xffff_ffff)) line.fail(v, `rule: invalid fwmark '${v.text}' (MARK[/MASK])`);
        else {
          fwmark = mark;
          if (mask !== undefined) fwmask = mask;
        }
      }
    } else if (w === 'dev' || w === 'iif') {
      const v = value();
      if (v) iif = v.text;
    } else if (w === 'oif') {
      const v = value();
      if (v) oif = v.text;
    } else if (w === 'protocol') {
      const v = value();
      if (v) {
        protocol = numberOrName(v, PROTOCOLS, 255, 'rule protocol', ctx) ?? (line.ok = false, undefined);
        protocolToken = v;
      }
    } else if (w === 'no_track') {
      noTrack = true;
    } else if (w === 'l3mdev') {
      line.fail(word, "rule option 'l3mdev' is not supported by tslvsd (no VRF support)");
    } else if (Object.prototype.hasOwnProperty.call(UNSUPPORTED_RULE_OPTIONS, w)) {
      ctx.sink.warning(posOf(word), `rule option '${w}' is not supported by tslvsd; ignored`);
      i += UNSUPPORTED_RULE_OPTIONS[w]!;
    } else {
      let at = i;
      if (w === 'type') at++;
      const t = words[at];
      if (t === undefined) {
        line.fail(word, "rule: 'type' needs an action");
        break;
      }
      i = at;
      if (t.text === 'goto') {
        const v = value();
        if (v) {
          gotoTarget = numberOrName(v, {}, 0xffff_ffff, 'rule goto', ctx) ?? (line.ok = false, undefined);
          setAction(t, 'goto');
        }
      } else if (t.text === 'nop' || t.text === 'blackhole' || t.text === 'unreachable' || t.text === 'prohibit') {
        setAction(t, t.text);
      } else {
        line.fail(t, `unknown rule option '${t.text}'`);
      }
    }
  }
  if (!line.ok || line.skipped) return undefined;
  if (action === undefined) {
    ctx.sink.error(posOf(first), 'rule: no action (table, goto, nop, blackhole, prohibit or unreachable)');
    return undefined;
  }
  if (action === 'goto') {
    // tslvsd does not program FRA_GOTO: refused rather than installed as another action.
    ctx.sink.error(posOf(actionToken ?? first), `rule action 'goto ${gotoTarget ?? ''}' is not supported by tslvsd`);
    return undefined;
  }
  const fam: AddressFamily = line.family ?? 'inet';
  protocol = trackedProtocol('rule', protocol, protocolToken, noTrack, ctx);
  if (priority === undefined) {
    const counters = nextRulePriority.get(ctx) ?? { inet: RULE_START_PRIORITY, inet6: RULE_START_PRIORITY };
    nextRulePriority.set(ctx, counters);
    priority = counters[fam]--;
    ctx.sink.warning(posOf(first), `rule has no preference specified - setting to ${priority} (as keepalived does); this is probably not what you want`);
  }
  const rule: IpRule = { loc: locOf(first), family: fam, action, priority, protocol: protocol ?? KEEPALIVED_PROTOCOL, noTrack };
  if (from) rule.from = from;
  if (to) rule.to = to;
  if (table !== undefined) rule.table = table;
  if (fwmark !== undefined) rule.fwmark = fwmark;
  if (fwmask !== undefined) rule.fwmask = fwmask;
  if (iif !== undefined) rule.iif = iif;
  if (oif !== undefined) rule.oif = oif;
  if (tos !== undefined) rule.tos = tos;
  return rule;
}

// --------------------------------------------------------------------------------------------- values

/** A network: `ADDR[/LEN]` with no host bits set (the kernel refuses those for routes). */
function prefix(token: Token, what: string, ctx: CompileContext): { address: string; family: AddressFamily; prefixLength: number } | undefined {
  const p = parseIpPrefix(token, what, ctx);
  if (!p) return undefined;
  const network = networkOf(p.address, p.family, p.prefixLength);
  if (network !== p.address) {
    ctx.sink.error(posOf(token), `${what}: '${token.text}' has host bits set (the network is ${network}/${p.prefixLength})`);
    return undefined;
  }
  return p;
}

/** The prefix's network address: the address with its host bits cleared (parsed and printed by src/util/ipAddress.ts). */
function networkOf(address: string, _family: AddressFamily, length: number): string {
  const bytes = parseIpBytes(address);
  if (!bytes) return address;
  return formatIp(bytes.map((b, i) => b & maskByte(length - i * 8)));
}

function maskByte(bits: number): number {
  if (bits >= 8) return 0xff;
  if (bits <= 0) return 0;
  return (0xff << (8 - bits)) & 0xff;
}

/** `main`, `local`, `default` or a number 1..2^32-1 (tslvsd does not read /etc/iproute2/rt_tables). */
function tableNumber(token: Token, what: string, ctx: CompileContext): number | undefined {
  const named = TABLES[token.text];
  if (named !== undefined) return named;
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(token.text)) {
    ctx.sink.error(posOf(token), `${what}: routing table '${token.text}' not found (use a number, main, local or default; /etc/iproute2/rt_tables is not read)`);
    return undefined;
  }
  const n = Number(token.text);
  if (n < 1 || n > 0xffff_ffff) {
    ctx.sink.error(posOf(token), `${what}: table ${token.text} is out of range 1..4294967295`);
    return undefined;
  }
  return n;
}

function numberOrName(token: Token, names: Record<string, number>, max: number, what: string, ctx: CompileContext): number | undefined {
  const named = Object.prototype.hasOwnProperty.call(names, token.text) ? names[token.text] : undefined;
  if (named !== undefined) return named;
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(token.text)) {
    ctx.sink.error(posOf(token), `${what}: '${token.text}' is not a number${Object.keys(names).length > 0 ? ' or a known name' : ''}`);
    return undefined;
  }
  const n = Number(token.text);
  if (n > max) {
    ctx.sink.error(posOf(token), `${what}: ${token.text} is out of range 0..${max}`);
    return undefined;
  }
  return n;
}
