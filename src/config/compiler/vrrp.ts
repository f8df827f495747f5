/**
 * `vrrp_script`, `vrrp_instance` and `vrrp_sync_group` blocks → the VRRP part of the model, with
 * keepalived's defaults resolved (priority 100, or 255 for `state MASTER` without priority; advert_int 1;
 * garp timers from global_defs; accept unless vrrp_strict).
 */
import type { Token } from '../lexer.js';
import type {
  GlobalDefs, IpRoute, IpRule, ScriptCommand, TrackedFile, TrackedInterface, TrackedProcess, TrackedScript, UnicastPeer, VirtualIpAddress, VrrpInstance, VrrpScript,
  VrrpSyncGroup,
} from '../model.js';
import type { ConfigNode } from '../parser.js';
import { compileTrackedFiles } from './trackFile.js';
import { compileRouteBlock, compileRuleBlock } from './routes.js';
import { compileTrackedProcesses } from './trackProcess.js';
import { applyKeywords, type CompileContext, type KeywordTable, locOf, noBlock, posOf, requireBlock, singleArg } from './context.js';
import {
  boolArg, commandLineArg, intArg, notifyScriptArg, parseInteger, parseIp, parseIpPrefix, secondsArg,
} from './values.js';

// ------------------------------------------------------------------------------------------ vrrp_script

interface VrrpScriptDraft {
  script?: ScriptCommand;
  interval: number;
  timeout?: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  user?: { user: string; group?: string };
}

const SCRIPT_KEYWORDS: KeywordTable<VrrpScriptDraft> = {
  script: (n, d, ctx) => {
    const v = commandLineArg(n, ctx);
    if (v !== undefined) d.script = v;
  },
  interval: (n, d, ctx) => {
    d.interval = secondsArg(n, ctx, 0.000001) ?? d.interval;
  },
  timeout: (n, d, ctx) => {
    const v = secondsArg(n, ctx, 0.000001);
    if (v !== undefined) d.timeout = v;
  },
  weight: (n, d, ctx) => {
    if (n.args.length === 0) {
      ctx.sink.error(posOf(n.keyword), "'weight' needs a value");
      return;
    }
    d.weight = parseInteger(n.args[0], -254, 254, 'weight', ctx) ?? d.weight;
    if (n.args[1]?.text === 'reverse') d.weightReverse = true;
    else if (n.args[1] !== undefined) ctx.sink.error(posOf(n.args[1]), `weight: expected 'reverse', got '${n.args[1].text}'`);
  },
  rise: (n, d, ctx) => {
    d.rise = intArg(n, 1, 1_000_000, ctx) ?? d.rise;
  },
  fall: (n, d, ctx) => {
    d.fall = intArg(n, 1, 1_000_000, ctx) ?? d.fall;
  },
  init_fail: (n, d, ctx) => {
    d.initFail = boolArg(n, ctx);
  },
  user: (n, d, ctx) => {
    if (n.args.length === 0) {
      ctx.sink.error(posOf(n.keyword), "'user' needs a user name");
      return;
    }
    d.user = n.args[1] ? { user: n.args[0].text, group: n.args[1].text } : { user: n.args[0].text };
  },
};

export function compileVrrpScript(node: ConfigNode, ctx: CompileContext): VrrpScript | undefined {
  const name = node.args[0];
  if (name === undefined) {
    ctx.sink.error(posOf(node.keyword), "'vrrp_script' needs a name");
    return undefined;
  }
  const d: VrrpScriptDraft = { interval: 1, weight: 0, weightReverse: false, rise: 1, fall: 1, initFail: false };
  applyKeywords(requireBlock(node, ctx), SCRIPT_KEYWORDS, d, 'vrrp_script', ctx);
  if (d.script === undefined) {
    // keepalived drops such a script with a warning (e.g. when every `script` line is `@id`-conditional).
    ctx.sink.warning(posOf(node.keyword), `vrrp_script ${name.text}: no 'script' given; ignored`);
    return undefined;
  }
  const script: ScriptCommand = { ...d.script };
  if (d.user) {
    script.user = d.user.user;
    if (d.user.group !== undefined) script.group = d.user.group;
  }
  return {
    loc: locOf(node.keyword), name: name.text, script, interval: d.interval, timeout: d.timeout ?? d.interval,
    weight: d.weight, weightReverse: d.weightReverse, rise: d.rise, fall: d.fall, initFail: d.initFail,
  };
}

// ------------------------------------------------------------------------------------ shared list blocks

/** A VIP line: `ADDR[/LEN] [brd B] [dev D] [scope S] [label L] [no_prefixroute] …`. */
function compileVip(item: ConfigNode, ctx: CompileContext): VirtualIpAddress | undefined {
  const head = parseIpPrefix(item.keyword, 'virtual address', ctx);
  if (head === undefined) return undefined;
  const vip: VirtualIpAddress = { loc: locOf(item.keyword), ...head, noPrefixRoute: false };
  const args = item.args;
  for (let i = 0; i < args.length; i++) {
    const opt = args[i].text;
    const value = (): Token | undefined => {
      const v = args[i + 1];
      if (v === undefined) ctx.sink.error(posOf(args[i]), `virtual address option '${opt}' needs a value`);
      i++;
      return v;
    };
    switch (opt) {
      case 'brd': case 'broadcast': { const v = value(); if (v) vip.broadcast = v.text; break; }
      case 'dev': { const v = value(); if (v) vip.dev = v.text; break; }
      case 'scope': { const v = value(); if (v) vip.scope = v.text; break; }
      case 'label': { const v = value(); if (v) vip.label = v.text; break; }
      case 'no_prefixroute': vip.noPrefixRoute = true; break;
      case 'home': case 'nodad': case 'mngtmpaddr': case 'autojoin':
        ctx.sink.warning(posOf(args[i]), `virtual address option '${opt}' is parsed but not acted on at runtime`);
        break;
      case 'track_group': case 'preferred_lft': {
        ctx.sink.warning(posOf(args[i]), `virtual address option '${opt}' is parsed but not acted on at runtime`);
        i++;
        break;
      }
      default:
        // Unknown words are warnings, as unknown keywords are (keepalived does the same).
        ctx.sink.warning(posOf(args[i]), `unknown virtual address option '${opt}' ignored`);
    }
  }
  return vip;
}

export function compileVipBlock(node: ConfigNode, ctx: CompileContext): VirtualIpAddress[] {
  const out: VirtualIpAddress[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const vip = compileVip(item, ctx);
    if (vip) out.push(vip);
  }
  return out;
}

function compileTrackInterfaces(node: ConfigNode, ctx: CompileContext): TrackedInterface[] {
  const out: TrackedInterface[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const t: TrackedInterface = { loc: locOf(item.keyword), name: item.keyword.text, weightReverse: false };
    parseTrackWeight(item, t, ctx);
    out.push(t);
  }
  return out;
}

function compileTrackScripts(node: ConfigNode, ctx: CompileContext): TrackedScript[] {
  const out: TrackedScript[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const t: TrackedScript = { loc: locOf(item.keyword), name: item.keyword.text, weightReverse: false };
    parseTrackWeight(item, t, ctx);
    out.push(t);
  }
  return out;
}

/** `NAME [weight N [reverse]]` inside track_interface / track_script. */
function parseTrackWeight(item: ConfigNode, t: Pick<TrackedScript, 'weight' | 'weightReverse'>, ctx: CompileContext): void {
  const a = item.args;
  if (a.length === 0) return;
  if (a[0].text !== 'weight' || a[1] === undefined) {
    ctx.sink.error(posOf(a[0]), `expected 'weight N [reverse]' after '${item.keyword.text}'`);
    return;
  }
  const w = parseInteger(a[1], -254, 254, 'weight', ctx);
  if (w !== undefined) t.weight = w;
  if (a[2]?.text === 'reverse') t.weightReverse = true;
  else if (a[2] !== undefined) ctx.sink.error(posOf(a[2]), `expected 'reverse', got '${a[2].text}'`);
}

// --------------------------------------------------------------------------------------- vrrp_instance

interface InstanceDraft {
  interface?: string;
  state: 'MASTER' | 'BACKUP';
  virtualRouterId?: number;
  priority?: number;
  advertInt: number;
  version?: 2 | 3;
  authentication?: { type: 'PASS' | 'AH'; password: string };
  virtualIpAddresses: VirtualIpAddress[];
  virtualIpAddressesExcluded: VirtualIpAddress[];
  virtualRoutes: IpRoute[];
  virtualRules: IpRule[];
  unicastSrcIp?: string;
  unicastPeers: UnicastPeer[];
  mcastSrcIp?: string;
  nopreempt: boolean;
  /** `native_ipv6`: an IPv6 instance (VRRPv3) whatever its addresses say. */
  nativeIpv6?: boolean;
  preemptDelay: number;
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpMasterRefresh?: number;
  garpMasterRefreshRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles: TrackedFile[];
  trackProcesses: TrackedProcess[];
  notifyMaster?: ScriptCommand;
  notifyBackup?: ScriptCommand;
  notifyFault?: ScriptCommand;
  notifyStop?: ScriptCommand;
  notify?: ScriptCommand;
  smtpAlert: boolean;
  accept?: boolean;
  dontTrackPrimary: boolean;
  skipCheckAdvAddr?: boolean;
  checkUnicastSrc?: boolean;
  strictMode?: boolean;
  useVmac: boolean;
  vmacName?: string;
  vmacMac?: string;
  vmacXmitBase: boolean;
  useVmacAddr: boolean;
  /** Legacy `lvs_sync_daemon_interface IF` (becomes global_defs' lvs_sync_daemon IF THIS_INSTANCE). */
  lvsSyncDaemonInterface?: Token;
}

type Notifiable = Pick<InstanceDraft, 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify'>;

function notifyHandlers<T extends Notifiable>(): KeywordTable<T> {
  return {
    notify_master: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notifyMaster = v; },
    notify_backup: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notifyBackup = v; },
    notify_fault: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notifyFault = v; },
    notify_stop: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notifyStop = v; },
    notify: (n, d, ctx) => { const v = notifyScriptArg(n, ctx); if (v !== undefined) d.notify = v; },
  };
}

const INSTANCE_KEYWORDS: KeywordTable<InstanceDraft> = {
  ...notifyHandlers<InstanceDraft>(),
  interface: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.interface = t.text;
  },
  state: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    if (t.text === 'MASTER' || t.text === 'BACKUP') d.state = t.text;
    else if (t.text === 'EQUAL') ctx.sink.warning(posOf(t), "state EQUAL is treated as BACKUP");
    else ctx.sink.error(posOf(t), `state: '${t.text}' is not MASTER or BACKUP`);
  },
  virtual_router_id: (n, d, ctx) => {
    const v = intArg(n, 1, 255, ctx);
    if (v !== undefined) d.virtualRouterId = v;
  },
  priority: (n, d, ctx) => {
    const v = intArg(n, 1, 255, ctx);
    if (v !== undefined) d.priority = v;
  },
  advert_int: (n, d, ctx) => {
    d.advertInt = secondsArg(n, ctx, 0.01, 255) ?? d.advertInt;
  },
  version: (n, d, ctx) => {
    const v = intArg(n, 2, 3, ctx);
    if (v === 2 || v === 3) d.version = v;
  },
  authentication: (n, d, ctx) => {
    let type: 'PASS' | 'AH' | undefined;
    let password: string | undefined;
    for (const item of requireBlock(n, ctx) ?? []) {
      const k = item.keyword.text;
      if (k === 'auth_type') {
        const t = singleArg(item, ctx);
        if (t && (t.text === 'PASS' || t.text === 'AH')) type = t.text;
        else if (t) ctx.sink.error(posOf(t), `auth_type: '${t.text}' is not PASS or AH`);
      } else if (k === 'auth_pass') {
        const t = singleArg(item, ctx);
        if (t === undefined) continue;
        password = t.text;
        if (password.length > 8) {
          ctx.sink.warning(posOf(t), 'auth_pass longer than 8 characters: truncated to 8, as keepalived does');
          password = password.slice(0, 8);
        }
      } else ctx.sink.warning(posOf(item.keyword), `unknown keyword '${k}' in authentication`);
    }
    if (type === undefined && password !== undefined) type = 'PASS';
    if (type !== undefined) d.authentication = { type, password: password ?? '' };
  },
  virtual_ipaddress: (n, d, ctx) => {
    d.virtualIpAddresses.push(...compileVipBlock(n, ctx));
  },
  virtual_ipaddress_excluded: (n, d, ctx) => {
    d.virtualIpAddressesExcluded.push(...compileVipBlock(n, ctx));
  },
  virtual_routes: (n, d, ctx) => {
    d.virtualRoutes.push(...compileRouteBlock(n, ctx));
  },
  virtual_rules: (n, d, ctx) => {
    d.virtualRules.push(...compileRuleBlock(n, ctx));
  },
  unicast_src_ip: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    const ip = t && parseIp(t, 'unicast_src_ip', ctx);
    if (ip) d.unicastSrcIp = ip.address;
  },
  unicast_peer: (n, d, ctx) => {
    for (const item of requireBlock(n, ctx) ?? []) {
      const ip = parseIp(item.keyword, 'unicast_peer', ctx);
      if (ip === undefined) continue;
      const peer: UnicastPeer = { loc: locOf(item.keyword), address: ip.address };
      for (let i = 0; i < item.args.length; i += 2) {
        const key = item.args[i];
        const v = item.args[i + 1];
        if ((key.text !== 'min_ttl' && key.text !== 'max_ttl') || v === undefined) {
          ctx.sink.error(posOf(key), `unicast_peer: unexpected '${key.text}' (min_ttl N, max_ttl N)`);
          break;
        }
        const ttl = parseInteger(v, 0, 255, key.text, ctx);
        if (ttl === undefined) continue;
        if (key.text === 'min_ttl') peer.minTtl = ttl;
        else peer.maxTtl = ttl;
      }
      d.unicastPeers.push(peer);
    }
  },
  mcast_src_ip: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    const ip = t && parseIp(t, 'mcast_src_ip', ctx);
    if (ip) d.mcastSrcIp = ip.address;
  },
  nopreempt: (n, d, ctx) => { noBlock(n, ctx); d.nopreempt = true; },
  native_ipv6: (n, d, ctx) => { noBlock(n, ctx); d.nativeIpv6 = true; },
  preempt: (n, d, ctx) => { noBlock(n, ctx); d.nopreempt = false; },
  preempt_delay: (n, d, ctx) => { d.preemptDelay = secondsArg(n, ctx, 0, 1000) ?? d.preemptDelay; },
  garp_master_delay: (n, d, ctx) => { const v = secondsArg(n, ctx); if (v !== undefined) d.garpMasterDelay = v; },
  garp_master_repeat: (n, d, ctx) => { const v = intArg(n, 0, 10_000, ctx); if (v !== undefined) d.garpMasterRepeat = v; },
  garp_master_refresh: (n, d, ctx) => { const v = secondsArg(n, ctx); if (v !== undefined) d.garpMasterRefresh = v; },
  garp_master_refresh_repeat: (n, d, ctx) => {
    const v = intArg(n, 0, 10_000, ctx);
    if (v !== undefined) d.garpMasterRefreshRepeat = v;
  },
  garp_lower_prio_delay: (n, d, ctx) => { const v = secondsArg(n, ctx); if (v !== undefined) d.garpLowerPrioDelay = v; },
  garp_lower_prio_repeat: (n, d, ctx) => { const v = intArg(n, 0, 10_000, ctx); if (v !== undefined) d.garpLowerPrioRepeat = v; },
  track_interface: (n, d, ctx) => { d.trackInterfaces.push(...compileTrackInterfaces(n, ctx)); },
  track_script: (n, d, ctx) => { d.trackScripts.push(...compileTrackScripts(n, ctx)); },
  track_file: (n, d, ctx) => { d.trackFiles.push(...compileTrackedFiles(n, ctx)); },
  track_process: (n, d, ctx) => { d.trackProcesses.push(...compileTrackedProcesses(n, ctx)); },
  smtp_alert: (n, d, ctx) => { d.smtpAlert = boolArg(n, ctx); },
  accept: (n, d, ctx) => { noBlock(n, ctx); d.accept = true; },
  no_accept: (n, d, ctx) => { noBlock(n, ctx); d.accept = false; },
  dont_track_primary: (n, d, ctx) => { noBlock(n, ctx); d.dontTrackPrimary = true; },
  skip_check_adv_addr: (n, d, ctx) => { d.skipCheckAdvAddr = boolArg(n, ctx); },
  check_unicast_src: (n, d, ctx) => { d.checkUnicastSrc = boolArg(n, ctx); },
  strict_mode: (n, d, ctx) => { d.strictMode = boolArg(n, ctx); },
  // keepalived: use_vmac [[name] NAME] [MAC] [netlink_notify_msg] [group GROUP]; a MAC of 5 octets gets the VRID.
  use_vmac: (n, d, ctx) => {
    d.useVmac = true;
    const args = n.args;
    for (let i = 0; i < args.length; i++) {
      const word = args[i]!.text;
      if (word === 'name' && args[i + 1]) d.vmacName = args[++i]!.text;
      else if (/^([0-9a-fA-F]{1,2}:){4,5}[0-9a-fA-F]{1,2}$/.test(word)) d.vmacMac = word.toLowerCase();
      else if (word === 'netlink_notify_msg') continue;
      else if (word === 'group' && args[i + 1]) {
        ctx.sink.warning(posOf(args[i]!), `use_vmac: 'group' is parsed but not acted on at runtime (not a keepalived 2.2.7 option; the VMAC gets the default link group)`);
        i++;
      } else if (d.vmacName === undefined && /^[^\s/]{1,15}$/.test(word)) d.vmacName = word;
      else ctx.sink.error(posOf(args[i]!), `use_vmac: unexpected '${word}' (expected [name] NAME, a MAC address, netlink_notify_msg or group GROUP)`);
    }
  },
  vmac_xmit_base: (n, d, ctx) => { noBlock(n, ctx); d.vmacXmitBase = true; },
  use_vmac_addr: (n, d, ctx) => { noBlock(n, ctx); d.useVmacAddr = true; },
  lvs_sync_daemon_interface: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t) d.lvsSyncDaemonInterface = t;
  },
};

export function compileVrrpInstance(node: ConfigNode, global: GlobalDefs, ctx: CompileContext): VrrpInstance | undefined {
  const name = node.args[0];
  if (name === undefined) {
    ctx.sink.error(posOf(node.keyword), "'vrrp_instance' needs a name");
    return undefined;
  }
  const d: InstanceDraft = {
    state: 'BACKUP', advertInt: 1, virtualIpAddresses: [], virtualIpAddressesExcluded: [], virtualRoutes: [], virtualRules: [], unicastPeers: [],
    nopreempt: false, preemptDelay: 0, trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], smtpAlert: false,
    dontTrackPrimary: false, useVmac: false, vmacXmitBase: false, useVmacAddr: false,
  };
  applyKeywords(requireBlock(node, ctx), INSTANCE_KEYWORDS, d, 'vrrp_instance', ctx);
  if (d.virtualRouterId === undefined) {
    ctx.sink.error(posOf(node.keyword), `vrrp_instance ${name.text}: no virtual_router_id (1..255)`);
    return undefined;
  }
  if (d.virtualIpAddresses.length === 0) {
    ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: no virtual_ipaddress; at least one is sensible (keepalived warns too)`);
  }
  if (d.interface === undefined) {
    ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: no interface given; the runtime needs one`);
  }
  // keepalived: the first VIP decides the family; native_ipv6 makes the instance IPv6 (refused beside IPv4 VIPs).
  const family = d.nativeIpv6 ? 'inet6' : (d.virtualIpAddresses[0]?.family ?? (d.unicastPeers[0]?.address.includes(':') ? 'inet6' : 'inet'));
  if (d.nativeIpv6 && d.virtualIpAddresses.some((v) => v.family === 'inet')) {
    ctx.sink.error(posOf(node.keyword), `vrrp_instance ${name.text}: native_ipv6 with IPv4 virtual_ipaddress (put them in virtual_ipaddress_excluded)`);
  }
  const mixed = d.nativeIpv6 ? undefined : d.virtualIpAddresses.find((v) => v.family !== family);
  if (mixed) {
    ctx.sink.error({ ...mixed.loc }, `vrrp_instance ${name.text}: virtual_ipaddress mixes IPv4 and IPv6 (use virtual_ipaddress_excluded for the other family)`);
  }
  let version = d.version ?? global.vrrpVersion;
  if (family === 'inet6' && version === 2) {
    if (d.version === 2) ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: IPv6 needs VRRP version 3; using 3`);
    version = 3;
  }
  if (version === 2 && !Number.isInteger(d.advertInt)) {
    ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: VRRPv2 advert_int must be whole seconds; rounded up`);
    d.advertInt = Math.max(1, Math.ceil(d.advertInt));
  }
  if (version === 3 && d.advertInt > 40.95) {
    // The v3 header carries centiseconds in 12 bits: clamp (with a warning) rather than refuse to start.
    ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: VRRPv3 advert_int ${d.advertInt} exceeds 40.95 seconds; using 40.95`);
    d.advertInt = 40.95;
  } else if (version === 3 && Math.abs(d.advertInt * 100 - Math.round(d.advertInt * 100)) > 1e-6) {
    ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: VRRPv3 advert_int is in centiseconds; ${d.advertInt} rounded to ${Math.round(d.advertInt * 100) / 100}`);
    d.advertInt = Math.max(0.01, Math.round(d.advertInt * 100) / 100);
  }
  if (d.authentication !== undefined && version === 3) {
    ctx.sink.warning(posOf(node.keyword), `vrrp_instance ${name.text}: authentication is not part of VRRPv3; ignored`);
    delete d.authentication;
  }
  const priority = d.priority ?? (d.state === 'MASTER' ? 255 : 100);
  const instance: VrrpInstance = {
    loc: locOf(node.keyword),
    name: name.text,
    state: d.state,
    virtualRouterId: d.virtualRouterId,
    priority,
    advertInt: d.advertInt,
    version,
    family,
    virtualIpAddresses: d.virtualIpAddresses,
    virtualIpAddressesExcluded: d.virtualIpAddressesExcluded,
    virtualRoutes: d.virtualRoutes,
    virtualRules: d.virtualRules,
    unicastPeers: d.unicastPeers,
    nopreempt: d.nopreempt,
    preemptDelay: d.preemptDelay,
    garpMasterDelay: d.garpMasterDelay ?? global.vrrpGarpMasterDelay,
    garpMasterRepeat: d.garpMasterRepeat ?? global.vrrpGarpMasterRepeat,
    garpMasterRefresh: d.garpMasterRefresh ?? global.vrrpGarpMasterRefresh,
    garpMasterRefreshRepeat: d.garpMasterRefreshRepeat ?? global.vrrpGarpMasterRefreshRepeat,
    garpLowerPrioDelay: d.garpLowerPrioDelay ?? global.vrrpGarpLowerPrioDelay ?? d.garpMasterDelay ?? global.vrrpGarpMasterDelay,
    garpLowerPrioRepeat: d.garpLowerPrioRepeat ?? global.vrrpGarpLowerPrioRepeat ?? d.garpMasterRepeat ?? global.vrrpGarpMasterRepeat,
    trackInterfaces: d.trackInterfaces,
    trackScripts: d.trackScripts,
    trackFiles: d.trackFiles,
    trackProcesses: d.trackProcesses,
    smtpAlert: d.smtpAlert,
    accept: d.accept ?? !global.vrrpStrict,
    dontTrackPrimary: d.dontTrackPrimary,
    skipCheckAdvAddr: d.skipCheckAdvAddr ?? global.vrrpSkipCheckAdvAddr,
    checkUnicastSrc: (d.checkUnicastSrc ?? false) || global.vrrpCheckUnicastSrc,
    strictMode: d.strictMode ?? global.vrrpStrict,
    useVmac: d.useVmac,
    vmacXmitBase: d.vmacXmitBase,
    useVmacAddr: d.useVmacAddr,
  };
  for (const peer of instance.unicastPeers) {
    if (peer.minTtl === undefined && peer.maxTtl === undefined) continue;
    const at = { file: peer.loc.file, line: peer.loc.line };
    if ((peer.minTtl ?? 0) > (peer.maxTtl ?? 255)) {
      ctx.sink.warning(at, `unicast_peer ${peer.address}: min_ttl ${peer.minTtl} > max_ttl ${peer.maxTtl ?? 255}: all its adverts will be discarded`);
    }
    // keepalived 2.2.7 (vrrp_check_packet) checks the range only inside the check_unicast_src test.
    if (!instance.checkUnicastSrc) ctx.sink.warning(at, `unicast_peer ${peer.address}: min_ttl/max_ttl are checked only with check_unicast_src (as keepalived)`);
  }
  if (d.vmacName !== undefined) instance.vmacName = d.vmacName;
  if (d.vmacMac !== undefined) instance.vmacMac = d.vmacMac;
  if (d.interface !== undefined) instance.interface = d.interface;
  if (d.authentication !== undefined) instance.authentication = d.authentication;
  if (d.unicastSrcIp !== undefined) instance.unicastSrcIp = d.unicastSrcIp;
  if (d.mcastSrcIp !== undefined) instance.mcastSrcIp = d.mcastSrcIp;
  for (const k of ['notifyMaster', 'notifyBackup', 'notifyFault', 'notifyStop', 'notify'] as const) {
    const s = d[k];
    if (s !== undefined) instance[k] = s;
  }
  if (d.lvsSyncDaemonInterface) legacySyncDaemon(d.lvsSyncDaemonInterface, instance, global, ctx);
  return instance;
}

/** keepalived's vrrp_lvs_syncd_handler: deprecated, sets the global sync daemon unless one is given already. */
function legacySyncDaemon(ifname: Token, instance: VrrpInstance, global: GlobalDefs, ctx: CompileContext): void {
  ctx.sink.warning(posOf(ifname), `vrrp_instance ${instance.name}: lvs_sync_daemon_interface is deprecated; use global_defs' lvs_sync_daemon ${ifname.text} ${instance.name}`);
  if (global.lvsSyncDaemon) {
    ctx.sink.error(posOf(ifname), `vrrp_instance ${instance.name}: lvs_sync_daemon_interface: the sync daemon is already given as ${global.lvsSyncDaemon.interface} at ${global.lvsSyncDaemon.loc.file}:${global.lvsSyncDaemon.loc.line}`);
    return;
  }
  if (ifname.text.length > 15) {
    ctx.sink.error(posOf(ifname), `lvs_sync_daemon_interface: interface name '${ifname.text}' is longer than 15 characters`);
    return;
  }
  global.lvsSyncDaemon = { loc: locOf(ifname), interface: ifname.text, vrrpInstance: instance.name, syncId: instance.virtualRouterId };
}

// ------------------------------------------------------------------------------------- vrrp_sync_group

interface SyncGroupDraft extends Notifiable {
  group: string[];
  groupLocs: Token[];
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles: TrackedFile[];
  trackProcesses: TrackedProcess[];
  smtpAlert: boolean;
  globalTracking: boolean;
}

const SYNC_GROUP_KEYWORDS: KeywordTable<SyncGroupDraft> = {
  ...notifyHandlers<SyncGroupDraft>(),
  group: (n, d, ctx) => {
    for (const item of requireBlock(n, ctx) ?? []) {
      for (const t of [item.keyword, ...item.args]) {
        d.group.push(t.text);
        d.groupLocs.push(t);
      }
    }
  },
  track_interface: (n, d, ctx) => { d.trackInterfaces.push(...compileTrackInterfaces(n, ctx)); },
  track_script: (n, d, ctx) => { d.trackScripts.push(...compileTrackScripts(n, ctx)); },
  track_file: (n, d, ctx) => { d.trackFiles.push(...compileTrackedFiles(n, ctx)); },
  track_process: (n, d, ctx) => { d.trackProcesses.push(...compileTrackedProcesses(n, ctx)); },
  smtp_alert: (n, d, ctx) => { d.smtpAlert = boolArg(n, ctx); },
  global_tracking: (n, d, ctx) => { d.globalTracking = boolArg(n, ctx); },
};

export interface CompiledSyncGroup {
  readonly group: VrrpSyncGroup;
  /** Member name tokens, to locate "no such instance" diagnostics. */
  readonly memberTokens: Token[];
}

export function compileVrrpSyncGroup(node: ConfigNode, ctx: CompileContext): CompiledSyncGroup | undefined {
  const name = node.args[0];
  if (name === undefined) {
    ctx.sink.error(posOf(node.keyword), "'vrrp_sync_group' needs a name");
    return undefined;
  }
  const d: SyncGroupDraft = {
    group: [], groupLocs: [], trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], smtpAlert: false, globalTracking: false,
  };
  const statements: ConfigNode[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const k = item.keyword.text;
    if (!Object.prototype.hasOwnProperty.call(SYNC_GROUP_KEYWORDS, k) && item.args.length === 0 && item.block === undefined) {
      // keepalived 1.x syntax (doc/samples/keepalived.conf.vrrp.lvs_syncd): members listed without `group { }`.
      ctx.sink.warning(posOf(item.keyword), `vrrp_sync_group ${name.text}: '${k}' taken as a member; list members inside 'group { … }'`);
      d.group.push(k);
      d.groupLocs.push(item.keyword);
      continue;
    }
    statements.push(item);
  }
  applyKeywords(statements, SYNC_GROUP_KEYWORDS, d, 'vrrp_sync_group', ctx);
  const group: VrrpSyncGroup = {
    loc: locOf(node.keyword), name: name.text, group: d.group, trackInterfaces: d.trackInterfaces,
    trackScripts: d.trackScripts, trackFiles: d.trackFiles, trackProcesses: d.trackProcesses, smtpAlert: d.smtpAlert, globalTracking: d.globalTracking,
  };
  for (const k of ['notifyMaster', 'notifyBackup', 'notifyFault', 'notifyStop', 'notify'] as const) {
    const s = d[k];
    if (s !== undefined) group[k] = s;
  }
  return { group, memberTokens: d.groupLocs };
}
