/** `global_defs { … }` → GlobalDefs. Keys tslvsd does not model are kept in `other` and reported. */
import type { GlobalDefs, LvsSyncDaemon } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { KEEPALIVED_KEYWORDS } from '../keepalivedKeywords.js';
import { applyKeywords, type CompileContext, type KeywordTable, locOf, posOf, singleArg } from './context.js';
import { compileNotifyFifos, NOTIFY_FIFO_KEYWORDS } from './notifyFifo.js';
import { addressFamily, boolArg, intArg, parseInteger, parseIp, parsePort, parseSeconds, secondsArg } from './values.js';
import { canonicalIp } from '../../util/ipAddress.js';

export function defaultGlobalDefs(file: string): GlobalDefs {
  return {
    loc: { file, line: 1 },
    notificationEmail: [],
    smtpConnectTimeout: 30,
    enableScriptSecurity: false,
    vrrpVersion: 2,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpGarpMasterDelay: 5,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefresh: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpInterval: 0,
    vrrpGnaInterval: 0,
    vrrpSkipCheckAdvAddr: false,
    vrrpCheckUnicastSrc: false,
    vrrpStrict: false,
    lvsTimeouts: {},
    lvsFlush: false,
    lvsFlushOnStop: false,
    announceRouteTable: DEFAULT_ANNOUNCE_ROUTE_TABLE,
    announceRouteDrain: 2,
    other: {},
  };
}

/** announce_route's table when global_defs names none (its own table, next to keepalived-free ids). */
export const DEFAULT_ANNOUNCE_ROUTE_TABLE = 248;

/** Tables announce_route may not use: unspec (0), default (253), main (254), local (255). */
const RESERVED_ROUTE_TABLES: ReadonlyMap<number, string> = new Map([[253, 'default'], [254, 'main'], [255, 'local']]);

const GLOBAL_KEYWORDS: KeywordTable<GlobalDefs> = {
  announce_route_table: (n, g, ctx) => {
    const table = intArg(n, 1, 0xffffffff, ctx);
    if (table === undefined) return;
    const reserved = RESERVED_ROUTE_TABLES.get(table);
    if (reserved !== undefined) {
      ctx.sink.error(posOf(n.args[0]), `announce_route_table: ${table} is the kernel's ${reserved} table; use a table of its own (default ${DEFAULT_ANNOUNCE_ROUTE_TABLE})`);
      return;
    }
    g.announceRouteTable = table;
  },
  announce_route_drain: (n, g, ctx) => {
    g.announceRouteDrain = secondsArg(n, ctx) ?? g.announceRouteDrain;
  },
  router_id: (n, g, ctx) => {
    const t = singleArg(n, ctx);
    if (t) g.routerId = t.text;
  },
  lvs_id: (n, g, ctx) => {
    const t = singleArg(n, ctx);
    if (t) g.routerId = t.text;
  },
  notification_email: (n, g) => {
    for (const item of n.block ?? []) g.notificationEmail.push(item.keyword.text, ...item.args.map((a) => a.text));
    g.notificationEmail.push(...n.args.map((a) => a.text));
  },
  notification_email_from: (n, g, ctx) => {
    const t = singleArg(n, ctx);
    if (t) g.notificationEmailFrom = t.text;
  },
  smtp_server: (n, g, ctx) => {
    const host = n.args[0];
    if (!host) {
      ctx.sink.error(posOf(n.keyword), "'smtp_server' needs a host");
      return;
    }
    const port = n.args[1] ? parsePort(n.args[1], 'smtp_server port', ctx) : 25;
    g.smtpServer = { host: host.text, port: port ?? 25 };
  },
  smtp_connect_timeout: (n, g, ctx) => {
    g.smtpConnectTimeout = secondsArg(n, ctx) ?? g.smtpConnectTimeout;
  },
  script_user: (n, g, ctx) => {
    if (n.args.length === 0) {
      ctx.sink.error(posOf(n.keyword), "'script_user' needs a user name");
      return;
    }
    g.scriptUser = n.args[1] ? { user: n.args[0].text, group: n.args[1].text } : { user: n.args[0].text };
  },
  enable_script_security: (n, g, ctx) => {
    g.enableScriptSecurity = boolArg(n, ctx);
  },
  vrrp_version: (n, g, ctx) => {
    const v = intArg(n, 2, 3, ctx);
    if (v === 2 || v === 3) g.vrrpVersion = v;
  },
  vrrp_mcast_group4: (n, g, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    if (addressFamily(t.text) !== 'inet' || !/^2(2[4-9]|3[0-9])\./.test(t.text)) {
      ctx.sink.error(posOf(t), `vrrp_mcast_group4: '${t.text}' is not an IPv4 multicast address`);
      return;
    }
    g.vrrpMcastGroup4 = t.text;
  },
  vrrp_mcast_group6: (n, g, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    if (addressFamily(t.text) !== 'inet6' || !/^ff/i.test(t.text)) {
      ctx.sink.error(posOf(t), `vrrp_mcast_group6: '${t.text}' is not an IPv6 multicast address`);
      return;
    }
    g.vrrpMcastGroup6 = canonicalIp(t.text);
  },
  // keepalived sets these on its VRRP and checker child processes when it starts them.
  vrrp_priority: (n, g, ctx) => {
    const v = intArg(n, -20, 19, ctx);
    if (v !== undefined) g.vrrpPriority = v;
  },
  checker_priority: (n, g, ctx) => {
    const v = intArg(n, -20, 19, ctx);
    if (v !== undefined) g.checkerPriority = v;
  },
  vrrp_garp_master_delay: (n, g, ctx) => {
    g.vrrpGarpMasterDelay = secondsArg(n, ctx) ?? g.vrrpGarpMasterDelay;
  },
  vrrp_garp_master_repeat: (n, g, ctx) => {
    g.vrrpGarpMasterRepeat = intArg(n, 0, 10_000, ctx) ?? g.vrrpGarpMasterRepeat;
  },
  vrrp_garp_master_refresh: (n, g, ctx) => {
    g.vrrpGarpMasterRefresh = secondsArg(n, ctx) ?? g.vrrpGarpMasterRefresh;
  },
  vrrp_garp_master_refresh_repeat: (n, g, ctx) => {
    g.vrrpGarpMasterRefreshRepeat = intArg(n, 0, 10_000, ctx) ?? g.vrrpGarpMasterRefreshRepeat;
  },
  vrrp_garp_lower_prio_delay: (n, g, ctx) => {
    const v = secondsArg(n, ctx);
    if (v !== undefined) g.vrrpGarpLowerPrioDelay = v;
  },
  vrrp_garp_lower_prio_repeat: (n, g, ctx) => {
    const v = intArg(n, 0, 10_000, ctx);
    if (v !== undefined) g.vrrpGarpLowerPrioRepeat = v;
  },
  vrrp_garp_interval: (n, g, ctx) => {
    g.vrrpGarpInterval = secondsArg(n, ctx) ?? g.vrrpGarpInterval;
  },
  vrrp_gna_interval: (n, g, ctx) => {
    g.vrrpGnaInterval = secondsArg(n, ctx) ?? g.vrrpGnaInterval;
  },
  vrrp_check_unicast_src: (n, g, ctx) => {
    g.vrrpCheckUnicastSrc = boolArg(n, ctx);
  },
  vrrp_skip_check_adv_addr: (n, g, ctx) => {
    g.vrrpSkipCheckAdvAddr = boolArg(n, ctx);
  },
  vrrp_strict: (n, g, ctx) => {
    g.vrrpStrict = boolArg(n, ctx);
  },
  lvs_timeouts: (n, g, ctx) => {
    // lvs_timeouts [tcp N] [tcpfin N] [udp N]
    for (let i = 0; i < n.args.length; i += 2) {
      const key = n.args[i];
      const value = n.args[i + 1];
      if (value === undefined) {
        ctx.sink.error(posOf(key), `lvs_timeouts: '${key.text}' needs a value`);
        break;
      }
      const seconds = parseSeconds(value, 0, 86_400 * 365, `lvs_timeouts ${key.text}`, ctx);
      if (seconds === undefined) continue;
      if (key.text === 'tcp') g.lvsTimeouts.tcp = seconds;
      else if (key.text === 'tcpfin') g.lvsTimeouts.tcpFin = seconds;
      else if (key.text === 'udp') g.lvsTimeouts.udp = seconds;
      else ctx.sink.error(posOf(key), `lvs_timeouts: unknown protocol '${key.text}' (tcp, tcpfin, udp)`);
    }
  },
  lvs_flush: (n, g, ctx) => {
    g.lvsFlush = boolArg(n, ctx);
  },
  lvs_flush_on_stop: (n, g, ctx) => {
    g.lvsFlushOnStop = flushOnStopArg(n, ctx);
  },
  lvs_flush_onstop: (n, g, ctx) => {
    g.lvsFlushOnStop = flushOnStopArg(n, ctx);
  },
  lvs_sync_daemon: (n, g, ctx) => {
    const daemon = compileLvsSyncDaemon(n, g, ctx);
    if (daemon) g.lvsSyncDaemon = daemon;
  },
};

/** Sync daemons whose `id` was written: the others take the instance's VRID (or 0) in the cross-check. */
export const SYNC_ID_GIVEN = new WeakSet<LvsSyncDaemon>();

/** IP_VS_IFNAME_MAXLEN (16) with the NUL. */
const IFNAME_MAX = 15;

/**
 * `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [id SYNCID] [maxlen N] [port N] [ttl N] [group ADDR]`, parsed
 * as keepalived's lvs_syncd_handler (global_parser.c): `inst NAME` is accepted too, and the 1.x positional
 * `IF INSTANCE SYNCID` with a warning. keepalived ignores a bad value with an error message; tslvsd reports
 * the error (the configuration is refused), as for every other bad value.
 */
function compileLvsSyncDaemon(n: ConfigNode, g: GlobalDefs, ctx: CompileContext): LvsSyncDaemon | undefined {
  if (g.lvsSyncDaemon) {
    const first = g.lvsSyncDaemon;
    ctx.sink.error(posOf(n.keyword), `lvs_sync_daemon has already been specified as ${first.interface}${first.vrrpInstance ? ` ${first.vrrpInstance}` : ''} at ${first.loc.file}:${first.loc.line}`);
    return undefined;
  }
  const ifname = n.args[0];
  if (ifname === undefined) {
    ctx.sink.error(posOf(n.keyword), 'lvs_sync_daemon requires an interface');
    return undefined;
  }
  if (ifname.text.length > IFNAME_MAX) {
    ctx.sink.error(posOf(ifname), `lvs_sync_daemon: interface name '${ifname.text}' is longer than ${IFNAME_MAX} characters`);
    return undefined;
  }
  const daemon: LvsSyncDaemon = { loc: locOf(n.keyword), interface: ifname.text, syncId: 0 };
  let ok = true;
  const args = n.args;
  for (let i = 1; i < args.length; i++) {
    const key = args[i];
    const value = args[i + 1];
    const option = key.text;
    if (option === 'inst' || option === 'id' || option === 'maxlen' || option === 'port' || option === 'ttl' || option === 'group') {
      i++;
      if (value === undefined) {
        ctx.sink.error(posOf(key), `lvs_sync_daemon: '${option}' needs a value`);
        ok = false;
        break;
      }
      if (option === 'inst') {
        if (daemon.vrrpInstance !== undefined) {
          ctx.sink.error(posOf(value), `lvs_sync_daemon: the vrrp instance is already given as ${daemon.vrrpInstance}`);
          ok = false;
        } else daemon.vrrpInstance = value.text;
      } else if (option === 'group') {
        const ip = parseIp(value, 'lvs_sync_daemon group', ctx);
        if (ip === undefined) ok = false;
        else if (!(ip.family === 'inet' ? /^2(2[4-9]|3[0-9])\./.test(ip.address) : /^ff/i.test(ip.address))) {
          ctx.sink.error(posOf(value), `lvs_sync_daemon: group address ${value.text} is not multicast`);
          ok = false;
        } else daemon.group = ip.address;
      } else {
        const range = { id: [0, 255], maxlen: [1, 65_535 - 20 - 8], port: [1, 65535], ttl: [1, 255] }[option];
        const v = parseInteger(value, range[0], range[1], `lvs_sync_daemon ${option}`, ctx);
        if (v === undefined) ok = false;
        else if (option === 'id') {
          daemon.syncId = v;
          SYNC_ID_GIVEN.add(daemon);
        } else if (option === 'maxlen') daemon.maxLen = v;
        else if (option === 'port') daemon.port = v;
        else daemon.ttl = v;
      }
      continue;
    }
    // keepalived 1.x: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID]
    if (i === 1 && daemon.vrrpInstance === undefined) {
      daemon.vrrpInstance = option;
      continue;
    }
    if (i === 2 && !SYNC_ID_GIVEN.has(daemon)) {
      const v = parseInteger(key, 0, 255, 'lvs_sync_daemon sync id', ctx);
      if (v === undefined) ok = false;
      else {
        ctx.sink.warning(posOf(key), 'lvs_sync_daemon: write "id" before the sync id (keepalived asks the same)');
        daemon.syncId = v;
        SYNC_ID_GIVEN.add(daemon);
      }
      continue;
    }
    ctx.sink.error(posOf(key), `lvs_sync_daemon: unknown option '${option}' (inst, id, maxlen, port, ttl, group)`);
    ok = false;
  }
  return ok ? daemon : undefined;
}

/** `lvs_flush_on_stop [VS]`: keepalived's `VS` variant (delete each of its services) also means "clean up at stop". */
function flushOnStopArg(n: ConfigNode, ctx: CompileContext): boolean {
  return n.args[0]?.text === 'VS' ? true : boolArg(n, ctx);
}

export function compileGlobalDefs(node: ConfigNode, g: GlobalDefs, ctx: CompileContext): void {
  g.loc = locOf(node.keyword);
  compileNotifyFifos(node.block ?? [], g, ctx);
  for (const item of node.block ?? []) {
    const keyword = item.keyword.text;
    if (NOTIFY_FIFO_KEYWORDS.has(keyword)) continue;
    if (Object.prototype.hasOwnProperty.call(GLOBAL_KEYWORDS, keyword)) {
      applyKeywords([item], GLOBAL_KEYWORDS, g, 'global_defs', ctx);
      continue;
    }
    // Kept as written so --dump-config shows it, and reported so it is never silently ignored.
    g.other[keyword] = item.args.map((a) => a.text);
    const what = KEEPALIVED_KEYWORDS.has(keyword) || keyword.startsWith('vrrp_') || keyword.startsWith('lvs_')
      ? `keepalived keyword '${keyword}' in global_defs is parsed but not acted on by tslvsd`
      : `unknown keyword '${keyword}' in global_defs`;
    ctx.sink.warning(posOf(item.keyword), what);
  }
}
