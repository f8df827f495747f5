/**
 * `virtual_server`, `real_server` and `virtual_server_group` → the LVS part of the model. keepalived's
 * defaults and quirks: lb_algo wlc (with a warning when unset), lb_kind NAT, bare `persistence_timeout` =
 * 360 s and `persistence_timeout 0` = no persistence, legacy `nat_mask` accepted and ignored, weight 1,
 * real_server port defaulting to the virtual server's, timers inherited down to the checkers.
 */
import type { Token } from '../lexer.js';
import {
  type AddressFamily, LbAlgo, type LbKind, type RealServer, type ScriptCommand, type TunnelOptions,
  type VirtualServer, type VirtualServerGroup, type VirtualServerGroupEntry,
} from '../model.js';
import type { SourcePosition } from '../diagnostics.js';
import type { ConfigNode } from '../parser.js';
import { CHECKER_TYPES, compileChecker, type InheritedTimers, isCheckerType, ownTimers, timerHandlers } from './checkers.js';
import {
  applyKeywords, type CompileContext, type KeywordHandler, type KeywordTable, locOf, posOf, requireBlock, singleArg,
} from './context.js';
import { addressFamily, boolArg, intArg, notifyScriptArg, parseInteger, parseIp, parsePort } from './values.js';
import { canonicalIp } from '../../util/ipAddress.js';

type SchedulerFlag = VirtualServer['schedulerFlags'][number];

/** `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (also `lb_kind`). */
function parseLbKind(n: ConfigNode, ctx: CompileContext): { kind: LbKind; tunnel?: TunnelOptions } | undefined {
  const t = n.args[0];
  if (t === undefined) {
    ctx.sink.error(posOf(n.keyword), `'${n.keyword.text}' needs NAT, DR or TUN`);
    return undefined;
  }
  const kind = t.text.toUpperCase();
  if (kind !== 'NAT' && kind !== 'DR' && kind !== 'TUN') {
    ctx.sink.error(posOf(t), `${n.keyword.text}: '${t.text}' is not NAT, DR or TUN`);
    return undefined;
  }
  if (kind !== 'TUN') {
    if (n.args.length > 1) ctx.sink.warning(posOf(n.args[1]), `${n.keyword.text}: extra arguments ignored`);
    return { kind };
  }
  const tunnel: TunnelOptions = { type: 'ipip' };
  const a = n.args;
  for (let i = 1; i < a.length; i++) {
    const w = a[i].text;
    const next = a[i + 1]?.text;
    if (w === 'type' && (next === 'ipip' || next === 'gue' || next === 'gre')) {
      tunnel.type = next;
      i++;
    } else if (w === 'port' && a[i + 1] !== undefined) {
      tunnel.port = parsePort(a[i + 1], 'tunnel port', ctx);
      i++;
    } else if (w === 'nocsum' || w === 'csum' || w === 'remcsum') tunnel.checksum = w;
    else ctx.sink.error(posOf(a[i]), `${n.keyword.text} TUN: unexpected '${w}'`);
  }
  if (tunnel.type === 'gue' && tunnel.port === undefined) ctx.sink.error(posOf(t), 'TUN type gue needs a port');
  return tunnel.type === 'ipip' && tunnel.checksum === undefined ? { kind } : { kind, tunnel };
}

// ---------------------------------------------------------------------------------------- real_server

interface RealServerDraft extends InheritedTimers {
  weight: number;
  lbKind?: { kind: LbKind; tunnel?: TunnelOptions };
  inhibitOnFailure?: boolean;
  notifyUp?: ScriptCommand;
  notifyDown?: ScriptCommand;
  uthreshold: number;
  lthreshold: number;
  checkerNodes: ConfigNode[];
}

const REAL_SERVER_KEYWORDS: KeywordTable<RealServerDraft> = {
  ...timerHandlers<RealServerDraft>(),
  weight: (n, d, ctx) => { d.weight = intArg(n, 0, 65535, ctx) ?? d.weight; },
  lvs_method: (n, d, ctx) => { const v = parseLbKind(n, ctx); if (v !== undefined) d.lbKind = v; },
  inhibit_on_failure: (n, d, ctx) => { d.inhibitOnFailure = boolArg(n, ctx); },
  notify_up: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notifyUp = v; },
  notify_down: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notifyDown = v; },
  uthreshold: (n, d, ctx) => { d.uthreshold = intArg(n, 0, 0xffffffff, ctx) ?? d.uthreshold; },
  lthreshold: (n, d, ctx) => { d.lthreshold = intArg(n, 0, 0xffffffff, ctx) ?? d.lthreshold; },
  smtp_alert: (n, _d, ctx) => { boolArg(n, ctx); },
  virtualhost: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.virtualhost = t.text;
  },
  // Checker blocks are collected and compiled after the real server's own timers are known.
  ...Object.fromEntries(CHECKER_TYPES.map((type): [string, KeywordHandler<RealServerDraft>] => [type, (n, d) => { d.checkerNodes.push(n); }])),
};

function compileRealServer(node: ConfigNode, vs: VirtualServerDraft, ctx: CompileContext): RealServer | undefined {
  const addrToken = node.args[0];
  if (addrToken === undefined) {
    ctx.sink.error(posOf(node.keyword), "'real_server' needs an address");
    return undefined;
  }
  const ip = parseIp(addrToken, 'real_server', ctx);
  if (ip === undefined) return undefined;
  let port = vs.port ?? 0;
  if (node.args[1] !== undefined) port = parsePort(node.args[1], 'real_server port', ctx) ?? port;
  if (node.args.length > 2) ctx.sink.warning(posOf(node.args[2]), 'real_server: extra arguments ignored');
  const d: RealServerDraft = { weight: 1, uthreshold: 0, lthreshold: 0, checkerNodes: [] };
  applyKeywords(node.block, REAL_SERVER_KEYWORDS, d, 'real_server', ctx);
  const inherited: InheritedTimers = { ...ownTimers(vs), ...ownTimers(d) };
  const checkers = [];
  for (const cn of d.checkerNodes) {
    const type = cn.keyword.text;
    if (!isCheckerType(type)) continue;
    const c = compileChecker(cn, type, { address: ip.address, port }, inherited, ctx);
    if (c) checkers.push(c);
  }
  const lb = d.lbKind ?? vs.lbKind;
  const rs: RealServer = {
    loc: locOf(node.keyword),
    address: ip.address,
    family: ip.family,
    port,
    weight: d.weight,
    lbKind: lb.kind,
    inhibitOnFailure: d.inhibitOnFailure ?? vs.inhibitOnFailure,
    upperConnectionThreshold: d.uthreshold,
    lowerConnectionThreshold: d.lthreshold,
    delayLoop: inherited.delayLoop ?? 60,
    connectTimeout: inherited.connectTimeout ?? 5,
    alpha: inherited.alpha ?? false,
    checkers,
  };
  if (lb.tunnel !== undefined) rs.tunnel = lb.tunnel;
  if (d.notifyUp) rs.notifyUp = d.notifyUp;
  if (d.notifyDown) rs.notifyDown = d.notifyDown;
  if (inherited.virtualhost !== undefined) rs.virtualhost = inherited.virtualhost;
  return rs;
}

// ------------------------------------------------------------------------------------- virtual_server

interface VirtualServerDraft extends InheritedTimers {
  port?: number;
  /** Undefined until `protocol` is given: keepalived's default depends on the kind of service. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  lbAlgo?: LbAlgo;
  lbKind: { kind: LbKind; tunnel?: TunnelOptions };
  schedulerFlags: SchedulerFlag[];
  ops: boolean;
  persistenceTimeout?: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptCommand;
  quorumDown?: ScriptCommand;
  sorry?: { token: Token; address: string; port?: number };
  sorryLbKind?: LbKind;
  sorryInhibit: boolean;
  omega: boolean;
  inhibitOnFailure: boolean;
  haSuspend: boolean;
  ipFamily?: AddressFamily;
  /** `announce_route` (tslvsd extension), with its keyword for the located errors about it. */
  announceRoute?: Token;
  realServerNodes: ConfigNode[];
}

const flag = (f: SchedulerFlag) => (_n: ConfigNode, d: VirtualServerDraft): void => {
  if (!d.schedulerFlags.includes(f)) d.schedulerFlags.push(f);
};

const VIRTUAL_SERVER_KEYWORDS: KeywordTable<VirtualServerDraft> = {
  ...timerHandlers<VirtualServerDraft>(),
  lb_algo: (n, d, ctx) => { const v = schedulerArg(n, ctx); if (v !== undefined) d.lbAlgo = v; },
  lvs_sched: (n, d, ctx) => { const v = schedulerArg(n, ctx); if (v !== undefined) d.lbAlgo = v; },
  lb_kind: (n, d, ctx) => { d.lbKind = parseLbKind(n, ctx) ?? d.lbKind; },
  lvs_method: (n, d, ctx) => { d.lbKind = parseLbKind(n, ctx) ?? d.lbKind; },
  protocol: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    const p = t.text.toUpperCase();
    if (p === 'TCP' || p === 'UDP' || p === 'SCTP') d.protocol = p;
    else ctx.sink.error(posOf(t), `protocol: '${t.text}' is not TCP, UDP or SCTP`);
  },
  persistence_timeout: (n, d, ctx) => {
    if (n.args.length === 0) {
      d.persistenceTimeout = 360;
      return;
    }
    const v = parseInteger(n.args[0], 0, 0xffffffff, 'persistence_timeout', ctx);
    if (v === undefined) return;
    if (v === 0) {
      ctx.sink.warning(posOf(n.args[0]), 'persistence_timeout 0 means no persistence (as in keepalived); omit it instead');
      delete d.persistenceTimeout;
    } else d.persistenceTimeout = v;
  },
  persistence_granularity: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    if (addressFamily(t.text) === 'inet' || /^[0-9]{1,3}$/.test(t.text)) d.persistenceGranularity = t.text;
    else ctx.sink.error(posOf(t), `persistence_granularity: '${t.text}' is not a netmask or prefix length`);
  },
  persistence_engine: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.persistenceEngine = t.text;
  },
  nat_mask: (n, _d, ctx) => {
    const t = singleArg(n, ctx);
    if (t && addressFamily(t.text) !== 'inet') ctx.sink.error(posOf(t), `nat_mask: '${t.text}' is not a netmask`);
    ctx.sink.warning(posOf(n.keyword), "'nat_mask' is obsolete (keepalived ignores it too)");
  },
  quorum: (n, d, ctx) => { d.quorum = intArg(n, 1, 0xffffffff, ctx) ?? d.quorum; },
  hysteresis: (n, d, ctx) => { d.hysteresis = intArg(n, 0, 0xffffffff, ctx) ?? d.hysteresis; },
  quorum_up: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.quorumUp = v; },
  quorum_down: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.quorumDown = v; },
  sorry_server: (n, d, ctx) => {
    const t = n.args[0];
    if (t === undefined) {
      ctx.sink.error(posOf(n.keyword), "'sorry_server' needs an address");
      return;
    }
    const ip = parseIp(t, 'sorry_server', ctx);
    if (ip === undefined) return;
    const port = n.args[1] !== undefined ? parsePort(n.args[1], 'sorry_server port', ctx) : undefined;
    d.sorry = port === undefined ? { token: t, address: ip.address } : { token: t, address: ip.address, port };
  },
  sorry_server_inhibit: (n, d, ctx) => { d.sorryInhibit = boolArg(n, ctx); },
  sorry_server_lvs_method: (n, d, ctx) => { const v = parseLbKind(n, ctx); if (v !== undefined) d.sorryLbKind = v.kind; },
  omega: (n, d, ctx) => { d.omega = boolArg(n, ctx); },
  inhibit_on_failure: (n, d, ctx) => { d.inhibitOnFailure = boolArg(n, ctx); },
  ha_suspend: (n, d, ctx) => { d.haSuspend = boolArg(n, ctx); },
  smtp_alert: (n, _d, ctx) => { boolArg(n, ctx); },
  virtualhost: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.virtualhost = t.text;
  },
  ip_family: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t?.text === 'inet' || t?.text === 'inet6') d.ipFamily = t.text;
    else if (t) ctx.sink.error(posOf(t), `ip_family: '${t.text}' is not inet or inet6`);
  },
  ops: (_n, d) => { d.ops = true; },
  announce_route: (n, d, ctx) => {
    if (boolArg(n, ctx)) d.announceRoute = n.keyword;
    else delete d.announceRoute;
  },
  'flag-1': flag('flag-1'),
  'flag-2': flag('flag-2'),
  'flag-3': flag('flag-3'),
  'sh-port': flag('sh-port'),
  'sh-fallback': flag('sh-fallback'),
  'mh-port': flag('mh-port'),
  'mh-fallback': flag('mh-fallback'),
  real_server: (n, d) => { d.realServerNodes.push(n); },
};

function schedulerArg(n: ConfigNode, ctx: CompileContext): LbAlgo | undefined {
  const t = singleArg(n, ctx);
  if (t === undefined) return undefined;
  const r = LbAlgo.safeParse(t.text.toLowerCase());
  if (!r.success) {
    ctx.sink.error(posOf(t), `${n.keyword.text}: '${t.text}' is not a scheduler (${LbAlgo.options.join(' ')})`);
    return undefined;
  }
  return r.data;
}

/**
 * @param groups the file's virtual_server_groups by name: a group of fwmarks only takes no protocol, one with
 *   addresses does (keepalived's rule for the UDP default).
 */
export function compileVirtualServer(node: ConfigNode, groups: ReadonlyMap<string, VirtualServerGroup>, ctx: CompileContext): VirtualServer | undefined {
  const a = node.args;
  if (a.length === 0) {
    ctx.sink.error(posOf(node.keyword), "'virtual_server' needs 'ADDRESS PORT', 'fwmark N' or 'group NAME'");
    return undefined;
  }
  let address: string | undefined;
  let family: AddressFamily | undefined;
  let fwmark: number | undefined;
  let group: string | undefined;
  let port: number | undefined;
  if (a[0].text === 'fwmark') {
    if (a[1] === undefined) ctx.sink.error(posOf(a[0]), "'fwmark' needs a number");
    else fwmark = parseInteger(a[1], 1, 0xffffffff, 'fwmark', ctx);
    if (fwmark === undefined) return undefined;
  } else if (a[0].text === 'group') {
    if (a[1] === undefined) {
      ctx.sink.error(posOf(a[0]), "'group' needs a virtual_server_group name");
      return undefined;
    }
    group = a[1].text;
  } else {
    const ip = parseIp(a[0], 'virtual_server', ctx);
    if (ip === undefined) return undefined;
    address = ip.address;
    family = ip.family;
    if (a[1] !== undefined) port = parsePort(a[1], 'virtual_server port', ctx);
    else port = 0;
    if (port === undefined) return undefined;
  }
  const d: VirtualServerDraft = {
    lbKind: { kind: 'NAT' }, schedulerFlags: [], ops: false, quorum: 1, hysteresis: 0,
    sorryInhibit: false, omega: false, inhibitOnFailure: false, haSuspend: false, realServerNodes: [],
  };
  if (port !== undefined) d.port = port;
  applyKeywords(requireBlock(node, ctx), VIRTUAL_SERVER_KEYWORDS, d, 'virtual_server', ctx);
  if (d.lbAlgo === undefined) {
    ctx.sink.warning(posOf(node.keyword), 'no lb_algo/lvs_sched given: using wlc, keepalived\'s default');
  }
  const realServers: RealServer[] = [];
  for (const rn of d.realServerNodes) {
    const rs = compileRealServer(rn, d, ctx);
    if (rs === undefined) continue;
    if (family !== undefined && rs.family !== family && rs.lbKind !== 'TUN') {
      ctx.sink.error(posOf(rn.keyword), `real_server ${rs.address}: address family differs from the virtual server's`);
    }
    realServers.push(rs);
  }
  const resolvedFamily = family ?? d.ipFamily ?? realServers[0]?.family ?? 'inet';
  const vs: VirtualServer = {
    loc: locOf(node.keyword),
    family: resolvedFamily,
    protocol: d.protocol ?? 'TCP',
    lbAlgo: d.lbAlgo ?? 'wlc',
    lbKind: d.lbKind.kind,
    schedulerFlags: d.schedulerFlags,
    ops: d.ops,
    delayLoop: d.delayLoop ?? 60,
    connectTimeout: d.connectTimeout ?? 5,
    quorum: d.quorum,
    hysteresis: d.hysteresis,
    alpha: d.alpha ?? false,
    omega: d.omega,
    inhibitOnFailure: d.inhibitOnFailure,
    haSuspend: d.haSuspend,
    realServers,
  };
  if (address !== undefined) vs.address = address;
  if (port !== undefined) vs.port = port;
  if (fwmark !== undefined) vs.fwmark = fwmark;
  if (group !== undefined) vs.group = group;
  if (d.lbKind.tunnel !== undefined) vs.tunnel = d.lbKind.tunnel;
  if (d.persistenceTimeout !== undefined) vs.persistenceTimeout = d.persistenceTimeout;
  if (d.persistenceGranularity !== undefined) vs.persistenceGranularity = d.persistenceGranularity;
  if (d.persistenceEngine !== undefined) vs.persistenceEngine = d.persistenceEngine;
  if (d.quorumUp) vs.quorumUp = d.quorumUp;
  if (d.quorumDown) vs.quorumDown = d.quorumDown;
  if (d.virtualhost !== undefined) vs.virtualhost = d.virtualhost;
  if (d.sorry !== undefined) {
    vs.sorryServer = {
      loc: locOf(d.sorry.token), address: d.sorry.address, port: d.sorry.port ?? port ?? 0,
      lbKind: d.sorryLbKind ?? d.lbKind.kind, inhibit: d.sorryInhibit,
    };
  }
  if (vs.realServers.length === 0) {
    // keepalived: "Virtual server … has no real servers - ignoring" (a sorry server alone does not count).
    ctx.sink.warning(posOf(node.keyword), 'virtual_server has no real servers - ignored, as keepalived does');
    return undefined;
  }
  const groupEntries = vs.group !== undefined ? groups.get(vs.group)?.entries : undefined;
  const byAddress = groupEntries !== undefined ? groupEntries.some((e) => e.kind === 'address') : vs.fwmark === undefined;
  if (d.announceRoute !== undefined) {
    // A route needs an address: a fwmark names packets, not a destination a router could send here.
    if (vs.fwmark !== undefined) ctx.sink.error(posOf(d.announceRoute), `announce_route: virtual_server fwmark ${vs.fwmark} has no address to announce`);
    else if (groupEntries !== undefined && !byAddress) ctx.sink.error(posOf(d.announceRoute), `announce_route: virtual_server_group ${vs.group} has only fwmarks, no address to announce`);
    else vs.announceRoute = true;
  }
  applyKeepalivedChecks(vs, byAddress, d.protocol !== undefined, posOf(node.keyword), ctx);
  return vs;
}

/**
 * keepalived's validate_check_config(), whose corrections operators' configs rely on: an address service
 * without `protocol` is UDP (the kernel's default for protocol 0); `ops` needs UDP; port 0 without
 * persistence becomes persistent; a fwmark service ignores `protocol`; a repeated real server is dropped;
 * quorum is capped at the total weight and hysteresis below quorum; DR/TUN real and sorry servers take
 * the virtual server's port (or none for fwmark). Each correction is a warning at the virtual_server.
 */
function applyKeepalivedChecks(vs: VirtualServer, byAddress: boolean, protocolGiven: boolean, at: SourcePosition,
  ctx: CompileContext): void {
  const name = vs.group !== undefined ? `group ${vs.group}` : vs.fwmark !== undefined ? `fwmark ${vs.fwmark}` : `${vs.address} ${vs.port}`;
  if (byAddress && !protocolGiven) {
    ctx.sink.warning(at, `virtual_server ${name}: no protocol set - defaulting to UDP, as keepalived does (write 'protocol TCP' for TCP)`);
    vs.protocol = 'UDP';
  }
  if (!byAddress && protocolGiven) {
    ctx.sink.warning(at, `virtual_server ${name}: protocol specified for fwmark - protocol will be ignored`);
  }
  if (vs.ops && byAddress && vs.protocol !== 'UDP') {
    ctx.sink.warning(at, `virtual_server ${name}: one packet scheduling (ops) requires UDP - resetting`);
    vs.ops = false;
  }
  if (byAddress && vs.group === undefined && vs.port === 0 && vs.persistenceTimeout === undefined) {
    ctx.sink.warning(at, `virtual_server ${name}: zero port only valid for persistent services - setting persistence_timeout 360`);
    vs.persistenceTimeout = 360;
  }
  const seen = new Set<string>();
  vs.realServers = vs.realServers.filter((rs) => {
    const key = `${rs.address} ${rs.port}`;
    if (!seen.has(key)) {
      seen.add(key);
      return true;
    }
    ctx.sink.warning({ file: rs.loc.file, line: rs.loc.line }, `virtual_server ${name}: real server ${key} is duplicated - removing the second`);
    return false;
  });
  if (vs.group === undefined) {
    for (const rs of vs.realServers) {
      if (rs.lbKind === 'NAT') continue;
      const wanted = vs.fwmark !== undefined ? 0 : vs.port ?? 0;
      if (rs.port !== wanted) {
        ctx.sink.warning({ file: rs.loc.file, line: rs.loc.line },
          `virtual_server ${name}: ${rs.lbKind} real server ${rs.address} port ${rs.port} ignored - ${wanted === 0 ? 'no port' : `port ${wanted}`}, as the kernel forwards`);
        rs.port = wanted;
        for (const c of rs.checkers) if (c.connectPort === 0) c.connectPort = wanted;
      }
    }
  }
  const weightSum = vs.realServers.reduce((sum, rs) => sum + rs.weight, 0);
  if (vs.quorum > weightSum) {
    ctx.sink.warning(at, `virtual_server ${name}: quorum ${vs.quorum} exceeds the total weight of the real servers ${weightSum}, reducing quorum to ${weightSum}`);
    vs.quorum = weightSum;
  }
  if (vs.hysteresis > 0 && vs.hysteresis >= vs.quorum) {
    const h = Math.max(0, vs.quorum - 1);
    ctx.sink.warning(at, `virtual_server ${name}: hysteresis ${vs.hysteresis} >= quorum ${vs.quorum}; setting hysteresis to ${h}`);
    vs.hysteresis = h;
  }
}

// ------------------------------------------------------------------------------ virtual_server_group

/** `ADDR[-LAST] PORT` (LAST replaces the last IPv4 octet / IPv6 group) or `fwmark N`. */
export function compileVirtualServerGroup(node: ConfigNode, ctx: CompileContext): VirtualServerGroup | undefined {
  const name = node.args[0];
  if (name === undefined) {
    ctx.sink.error(posOf(node.keyword), "'virtual_server_group' needs a name");
    return undefined;
  }
  const entries: VirtualServerGroupEntry[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const k = item.keyword;
    if (k.text === 'fwmark') {
      const v = item.args[0] ? parseInteger(item.args[0], 1, 0xffffffff, 'fwmark', ctx) : undefined;
      if (item.args[0] === undefined) ctx.sink.error(posOf(k), "'fwmark' needs a number");
      const fam = item.args[1]?.text === 'inet6' ? 'inet6' : 'inet';
      if (v !== undefined) entries.push({ kind: 'fwmark', loc: locOf(k), fwmark: v, family: fam });
      continue;
    }
    const entry = parseRangeEntry(k, item.args[0], ctx);
    if (entry) entries.push(entry);
  }
  return { loc: locOf(node.keyword), name: name.text, entries };
}

function parseRangeEntry(head: Token, portToken: Token | undefined, ctx: CompileContext): VirtualServerGroupEntry | undefined {
  const m = /^(.*?)(?:-([0-9a-fA-F]+))?$/.exec(head.text);
  const first = m?.[1] ?? head.text;
  const family = addressFamily(first);
  if (family === undefined) {
    ctx.sink.error(posOf(head), `virtual_server_group: '${head.text}' is not ADDRESS[-LAST]`);
    return undefined;
  }
  let lastAddress = first;
  if (m?.[2] !== undefined) {
    if (family === 'inet') {
      const octets = first.split('.');
      const end = Number(m[2]);
      if (!/^[0-9]+$/.test(m[2]) || end > 255 || end < Number(octets[3])) {
        ctx.sink.error(posOf(head), `virtual_server_group: range end '${m[2]}' must be ${octets[3]}..255`);
        return undefined;
      }
      lastAddress = [...octets.slice(0, 3), String(end)].join('.');
    } else {
      const cut = first.lastIndexOf(':');
      lastAddress = first.slice(0, cut + 1) + m[2].toLowerCase();
      if (addressFamily(lastAddress) !== 'inet6') {
        ctx.sink.error(posOf(head), `virtual_server_group: bad IPv6 range end '${m[2]}'`);
        return undefined;
      }
    }
  }
  const port = portToken !== undefined ? parsePort(portToken, 'virtual_server_group port', ctx) : 0;
  if (port === undefined) return undefined;
  return { kind: 'address', loc: locOf(head), address: canonicalIp(first), lastAddress: canonicalIp(lastAddress), family, port };
}
