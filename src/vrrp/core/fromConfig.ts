/**
 * From the validated config model (src/config/model.ts) to the specs the VRRP cores take (pure).
 * The edge adds what only the running system knows: the interface's primary address of the instance's
 * family (IPv4: its first address that is not a VIP; IPv6: its link-local address, RFC 5798 §5.1.2.1).
 *
 * An IPv6 instance (the family the compiler derived: first VIP, or native_ipv6) is VRRPv3 to
 * vrrp_mcast_group6 (ff02::12) or its IPv6 unicast peers; it advertises its IPv6 VIPs, and VIPs of the
 * other family go in virtual_ipaddress_excluded (added and removed, never advertised), as keepalived.
 * Unsupported here (reported as problems, the instance is not built): IPSEC-AH authentication.
 * Coercions keepalived also makes are reported as warnings.
 */
import type { ConfigModel, VrrpInstance, VrrpScript } from '../../config/model.js';
import { AUTH_NONE, AUTH_PASS, passwordAuthData, type VrrpFamily } from '../codec/advertCodec.js';
import type { ReceiveSpec } from './receiveValidator.js';
import type { ProcessPattern } from '../../trackProcess/match.js';
import type { FileTrackerSpec, InterfaceTrackerSpec, ProcessTrackerSpec, ScriptTrackerSpec } from './trackers.js';
import type { VrrpInstanceSpec } from './vrrpStateMachine.js';

export interface VrrpInstancePlan {
  instance: VrrpInstanceSpec;
  receive: ReceiveSpec;
  /** Tracked scripts (instance's own, then its sync group's), weight and reverse resolved. */
  scripts: Array<ScriptTrackerSpec & { script: VrrpScript }>;
  interfaces: InterfaceTrackerSpec[];
  /** Tracked files (instance's own, then its sync group's), weight and reverse resolved. */
  files: Array<FileTrackerSpec & { path: string }>;
  /** Tracked process sets (instance's own, then its sync group's), weight and reverse resolved. */
  processes: Array<ProcessTrackerSpec & { pattern: ProcessPattern }>;
  /** Where adverts go: the multicast group, or each unicast peer. */
  destinations: string[];
  /** The address adverts are sent from (and the equal-priority tie-break). */
  sourceIp: string;
  /** IPv4 or IPv6 (VRRPv3 over IPv6): which socket the instance uses. */
  family: VrrpFamily;
  warnings: string[];
}

export type VrrpPlanResult = { ok: true; plan: VrrpInstancePlan } | { ok: false; problems: string[] };

const seconds = (s: number): number => Math.round(s * 1000);

/**
 * Builds one instance's specs. `interfacePrimaryIp` is keepalived's default source on the instance's
 * interface: its first IPv4 address, or for an IPv6 instance its link-local one; unicast_src_ip /
 * mcast_src_ip take precedence.
 */
export function planVrrpInstance(
  config: ConfigModel,
  inst: VrrpInstance,
  interfacePrimaryIp: string | undefined,
): VrrpPlanResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const where = `vrrp_instance ${inst.name} (${inst.loc.file}:${inst.loc.line})`;

  const family: VrrpFamily = inst.family;
  const ofFamily = (address: string): boolean => address.includes(':') === (family === 'inet6');
  if (family === 'inet6' && inst.version !== 3) problems.push(`${where}: IPv6 VRRP is version 3 only`);
  if (inst.authentication?.type === 'AH') problems.push(`${where}: auth_type AH is not supported (use PASS or none)`);
  const sourceIp = inst.unicastSrcIp ?? inst.mcastSrcIp ?? interfacePrimaryIp;
  if (!sourceIp) {
    problems.push(family === 'inet6'
      ? `${where}: no IPv6 source address (interface has no link-local address; set unicast_src_ip)`
      : `${where}: no IPv4 source address (interface has none; set unicast_src_ip)`);
  } else if (!ofFamily(sourceIp)) {
    problems.push(`${where}: source address ${sourceIp} is not ${family === 'inet6' ? 'IPv6' : 'IPv4'}, as the instance is`);
  }
  if (problems.length > 0 || !sourceIp) return { ok: false, problems };

  // advert_int: v2 carries whole seconds (keepalived rounds), v3 centiseconds up to 40.95 s.
  let advertIntervalMs: number;
  if (inst.version === 2) {
    const whole = Math.min(255, Math.max(1, Math.round(inst.advertInt)));
    if (whole !== inst.advertInt) warnings.push(`${where}: VRRPv2 advert_int ${inst.advertInt} s rounded to ${whole} s`);
    advertIntervalMs = whole * 1000;
  } else {
    const cs = Math.min(4095, Math.max(1, Math.round(inst.advertInt * 100)));
    if (cs / 100 !== inst.advertInt) warnings.push(`${where}: VRRPv3 advert_int ${inst.advertInt} s taken as ${cs / 100} s`);
    advertIntervalMs = cs * 10;
  }

  // keepalived: nopreempt and preempt_delay do not apply to an owner / to initial state MASTER.
  let preempt = !inst.nopreempt;
  let preemptDelayMs = seconds(inst.preemptDelay);
  if (!preempt && (inst.priority === 255 || inst.state === 'MASTER')) {
    warnings.push(`${where}: nopreempt ignored with ${inst.priority === 255 ? 'priority 255' : 'state MASTER'} (as keepalived)`);
    preempt = true;
  }
  if (preemptDelayMs > 0 && (inst.state === 'MASTER' || !preempt)) {
    warnings.push(`${where}: preempt_delay ignored with ${inst.state === 'MASTER' ? 'state MASTER' : 'nopreempt'} (as keepalived)`);
    preemptDelayMs = 0;
  }

  const vips = advertisedAddresses(inst, Infinity);
  // keepalived: only 255 VIPs fit the count field (it moves the rest to the excluded list).
  const advertised = vips.slice(0, 255);
  if (vips.length > 255) warnings.push(`${where}: only the first 255 virtual addresses are advertised`);

  const sync = inst.syncGroup ? config.vrrpSyncGroups.find((g) => g.name === inst.syncGroup) : undefined;
  const scriptByName = new Map(config.vrrpScripts.map((s) => [s.name, s]));
  // keepalived: an address owner (255) ignores tracking weights — a tracked failure means FAULT instead.
  const owner = inst.priority === 255;
  let ownerWeightsDropped = false;
  const ownerWeight = (weight: number): number => {
    if (owner && weight !== 0) ownerWeightsDropped = true;
    return owner ? 0 : weight;
  };
  const scripts: VrrpInstancePlan['scripts'] = [];
  for (const tracked of [...inst.trackScripts, ...(sync?.trackScripts ?? [])]) {
    const script = scriptByName.get(tracked.name);
    if (!script) {
      warnings.push(`${where}: track_script ${tracked.name} has no vrrp_script; ignored (as keepalived)`);
      continue;
    }
    if (scripts.some((s) => s.name === tracked.name)) continue; // instance's own entry wins over the group's
    scripts.push({
      name: script.name,
      weight: ownerWeight(tracked.weight ?? script.weight),
      weightReverse: tracked.weight !== undefined ? tracked.weightReverse : script.weightReverse,
      rise: script.rise,
      fall: script.fall,
      initFail: script.initFail,
      script,
    });
  }
  const interfaces: InterfaceTrackerSpec[] = [];
  for (const tracked of [...inst.trackInterfaces, ...(sync?.trackInterfaces ?? [])]) {
    if (interfaces.some((i) => i.name === tracked.name)) continue;
    interfaces.push({ name: tracked.name, weight: ownerWeight(tracked.weight ?? 0), weightReverse: tracked.weightReverse });
  }
  const fileByName = new Map(config.trackFiles.map((f) => [f.name, f]));
  const files: VrrpInstancePlan['files'] = [];
  for (const tracked of [...inst.trackFiles, ...(sync?.trackFiles ?? [])]) {
    const file = fileByName.get(tracked.name);
    if (!file || files.some((f) => f.name === tracked.name)) continue;
    files.push({
      name: file.name,
      path: file.path,
      // keepalived: the instance's `weight N [reverse]` wins over the track_file's own.
      weight: ownerWeight(tracked.weight ?? file.weight),
      weightReverse: tracked.weight !== undefined ? tracked.weightReverse : file.weightReverse,
    });
  }
  const processByName = new Map(config.trackProcesses.map((t) => [t.name, t]));
  const processes: VrrpInstancePlan['processes'] = [];
  for (const tracked of [...inst.trackProcesses, ...(sync?.trackProcesses ?? [])]) {
    const proc = processByName.get(tracked.name);
    if (!proc || processes.some((p) => p.name === tracked.name)) continue;
    processes.push({
      name: proc.name,
      // keepalived: the instance's `weight N [reverse]` wins over the block's own.
      weight: ownerWeight(tracked.weight ?? proc.weight),
      weightReverse: tracked.weight !== undefined ? tracked.weightReverse : proc.weightReverse,
      quorum: proc.quorum,
      quorumMax: proc.quorumMax,
      forkDelayMs: seconds(proc.forkDelay),
      terminateDelayMs: seconds(proc.terminateDelay),
      pattern: { process: proc.process, params: proc.params, paramMatch: proc.paramMatch, fullCommand: proc.fullCommand },
    });
  }
  if (ownerWeightsDropped) {
    warnings.push(`${where}: tracking weights ignored with priority 255; a tracked failure means FAULT (as keepalived)`);
  }

  const unicastPeers = inst.unicastPeers.filter((p) => ofFamily(p.address)).map((p) => p.address);
  const otherPeers = inst.unicastPeers.filter((p) => !ofFamily(p.address));
  if (otherPeers.length > 0) {
    warnings.push(`${where}: unicast_peer ${otherPeers.map((p) => p.address).join(', ')} not of the instance's family; ignored`);
  }
  const group = family === 'inet6' ? config.global.vrrpMcastGroup6 : config.global.vrrpMcastGroup4;
  const destinations = unicastPeers.length > 0 ? unicastPeers : [group];
  const pass = inst.version === 2 && inst.authentication?.type === 'PASS';
  if (inst.version === 3 && inst.authentication) warnings.push(`${where}: VRRPv3 has no authentication; ignored (as keepalived)`);

  const instance: VrrpInstanceSpec = {
    name: inst.name,
    vrid: inst.virtualRouterId,
    version: inst.version,
    priority: inst.priority,
    advertIntervalMs,
    primaryIp: sourceIp,
    initialState: inst.state,
    preempt,
    preemptDelayMs,
    garpMasterRepeat: inst.garpMasterRepeat,
    garpMasterDelayMs: seconds(inst.garpMasterDelay),
    garpMasterRefreshMs: seconds(inst.garpMasterRefresh),
    garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat,
    garpLowerPrioRepeat: inst.garpLowerPrioRepeat,
    garpLowerPrioDelayMs: seconds(inst.garpLowerPrioDelay),
    lowerPriorityNoAdvert: inst.strictMode,
    higherPrioritySendAdvert: false,
  };
  const receive: ReceiveSpec = {
    vrid: inst.virtualRouterId,
    version: inst.version,
    advertIntervalMs,
    authType: pass ? AUTH_PASS : AUTH_NONE,
    authData: pass ? passwordAuthData(inst.authentication!.password) : new Uint8Array(8),
    virtualAddresses: advertised,
    unicastPeers,
    ownAddresses: [sourceIp],
    checkUnicastSource: inst.checkUnicastSrc,
    unicastPeerTtl: Object.fromEntries(inst.unicastPeers
      .filter((p) => p.minTtl !== undefined || p.maxTtl !== undefined)
      .map((p) => [p.address, [p.minTtl ?? 0, p.maxTtl ?? 255] as const])),
  };
  return { ok: true, plan: { instance, receive, scripts, interfaces, files, processes, destinations, sourceIp, family, warnings } };
}

/** The addresses an instance advertises: its VIPs of its family (the count field holds at most 255). */
export function advertisedAddresses(inst: VrrpInstance, limit = 255): string[] {
  return inst.virtualIpAddresses.filter((v) => v.family === inst.family).map((v) => v.address).slice(0, limit);
}
