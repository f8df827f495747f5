import { isIPv4 } from 'node:net';
import { vrrpInstanceKey } from '../config/keys.js';
import type { ConfigModel, VrrpInstance, VrrpSyncGroup as SyncGroupModel } from '../config/model.js';
import type { NativeAddon } from '../net/nativeAddon.js';
import { MACVLAN_MODE_PRIVATE, type LinkControl, type LinkEvent, type LinkInfo, type RtNetlink } from '../net/rtnetlink.js';
import type { Clock } from '../util/clock.js';
import { WarningThrottle } from '../util/warningThrottle.js';
import { logTransition, type Logger } from '../util/log.js';
import { encodeAdvert, type VrrpAdvert } from './codec/advertCodec.js';
import { planVrrpInstance, type VrrpInstancePlan } from './core/fromConfig.js';
import { mayAdoptLeftoverVips } from './core/leftoverVips.js';
import { instanceRefusal, instanceSetRefusal, planReconfigure, runningByKey, unmatchedRefusal } from './core/reconfigurePlan.js';
import { ReceiveValidator, type ReceiveVerdict, type VrrpReceiveCounters } from './core/receiveValidator.js';
import { VrrpSyncGroup } from './core/syncGroup.js';
import { InstanceTracking, type FileTracker, type InterfaceTracker, type ProcessTracker, type ScriptTracker } from './core/trackers.js';
import type { ProcessPattern } from '../trackProcess/match.js';
import type { TrackProcessWatch } from './edge/procScanner.js';
import type { TrackFileWatch } from './edge/trackFileWatcher.js';
import { VrrpStateMachine, type VrrpMachineCounters, type VrrpState, type VrrpTransition } from './core/vrrpStateMachine.js';
import { GratuitousArpSender } from './edge/gratuitousArp.js';
import { NeighbourAdvertSender } from './edge/neighbourAdvert.js';
import type { TransportOptions, VrrpTransport } from './edge/rawSocketTransport.js';
import type { ScriptInvocation, ScriptOutcome } from './edge/scriptRunner.js';
import { VipManager, type VipSpec } from './edge/vipManager.js';
import { addressVmacName, addressVmacPlan, addressVmacsOf, placeVip, vmacPlan } from './core/vmac.js';
import { VmacManager, type Sysctl } from './edge/vmacManager.js';
import { RouteManager, type RouteSpec, type RuleSpec } from '../net/routeManager.js';
import { describeRoute, describeRule, routeSpecOf, ruleSpecOf } from './routeSpecs.js';
import { VrrpInterfaces, VrrpVridInUseError, type SocketMember, type VrrpInterfaceStatus } from './runtime/interfaceRuntime.js';
import { TrackScripts, type VrrpScriptStatus } from './runtime/trackScriptRuntime.js';
import { InstanceTrackers } from './runtime/instanceTrackers.js';
import { MasterEffects } from './runtime/masterEffects.js';
import { NotifyRunner, type VrrpNotification } from './runtime/notifyRunner.js';

export type { VrrpInterfaceStatus } from './runtime/interfaceRuntime.js';
export type { VrrpScriptStatus } from './runtime/trackScriptRuntime.js';

/**
 * VrrpService: the VRRP runtime. From the config model it builds, per `vrrp_instance`, the core's state
 * machine and receive validator, and wires them to the edges: one set of raw sockets per interface (shared
 * by the instances on it, also those of other services given the same `shared` runtime:
 * runtime/interfaceRuntime.ts), a master's VIPs, routes and gratuitous ARP (runtime/masterEffects.ts),
 * track_interface from link events, the trackers (track_file, vrrp_track_process, vrrp_script:
 * runtime/instanceTrackers.ts; one script run per interval for everyone: runtime/trackScriptRuntime.ts) and
 * notify scripts (argv, never a shell). Everything here is I/O glue; the decisions are the core's.
 */

/** The sockets and scripts every unit's service shares (src/daemon.ts makes one for all units). */
export interface VrrpSharedRuntime {
  interfaces: VrrpInterfaces;
  trackScripts: TrackScripts;
}

export interface VrrpServiceDeps {
  clock: Clock;
  logger: Logger;
  netlink: RtNetlink;
  /** Creates and removes VMAC interfaces (use_vmac); absent = use_vmac is refused at start. */
  linkControl?: LinkControl;
  /** Sysctls for VMACs (default: /proc/sys). */
  sysctl?: Sysctl;
  frameSender: Pick<NativeAddon, 'sendFrame'>;
  openTransport: (options: TransportOptions) => VrrpTransport;
  runScript: (invocation: ScriptInvocation) => Promise<ScriptOutcome>;
  /** Watches a track_file (src/vrrp/edge/trackFileWatcher.ts); absent = every track file reads 0. */
  watchTrackFile?: (path: string, onValue: (value: number) => void) => TrackFileWatch;
  /** Counts a vrrp_track_process's processes (src/vrrp/edge/procScanner.ts); absent = every count is 0. */
  watchTrackProcess?: (pattern: ProcessPattern, onCount: (count: number) => void) => TrackProcessWatch;
  /** Every notification, in order, right after its notify scripts were started (the notify FIFOs). */
  onNotify?: (notification: VrrpNotification) => void;
  /** Every instance transition, after it is logged (the daemon adapts it, e.g. to the IPVS sync daemons). */
  onTransition?: (instance: string, from: VrrpState, to: VrrpState) => void;
  /** Sockets and vrrp_scripts shared with other services; absent = this service's own. */
  shared?: VrrpSharedRuntime;
}

export type { VrrpNotification } from './runtime/notifyRunner.js';

/** Everything an operator (status, metrics) wants to know about one instance. */
export interface VrrpInstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  state: VrrpState;
  basePriority: number;
  effectivePriority: number;
  /** Our source address (primary IP or unicast_src_ip). */
  sourceIp: string;
  masterIp: string | undefined;
  lastTransition: VrrpTransition | undefined;
  /** Wall-clock ms since the epoch of the last transition (0 = none). */
  lastTransitionEpochMs: number;
  faultReasons: string[];
  vips: string[];
  /** Each VIP with its device; `excluded` for virtual_ipaddress_excluded (rt.vips lists those last). */
  vipEntries: Array<{ address: string; prefixLength: number; dev: string; excluded: boolean }>;
  /** virtual_routes / virtual_rules this instance holds now (a MASTER's), as `ip route` / `ip rule` words. */
  routes: string[];
  rules: string[];
  /** Route or rule changes the kernel refused. */
  routeErrors: number;
  receive: VrrpReceiveCounters;
  machine: VrrpMachineCounters;
  garp: { garpSent: number; garpErrors: number };
  /** Unsolicited neighbour advertisements for the IPv6 VIPs. */
  na: { naSent: number; naErrors: number };
  vipErrors: number;
  send: VrrpSendCounters;
  /** Preemption held by the daemon (IPVS connection sync catching up). */
  preemptionHeld: boolean;
}

/**
 * Adverts as the kernel took them (the core's machine counters count the adverts it asked for). An advert
 * counts as sent when the kernel accepted its copy to every destination; each refused copy is a send error.
 */
export interface VrrpSendCounters {
  advertisementsSent: number;
  priorityZeroSent: number;
  sendErrors: number;
}

export class VrrpConfigError extends Error {}

/**
 * At stop, how long notify scripts (notify_stop, started by the stop itself) get before their process
 * groups are ended. keepalived gives none (its scripts get SIGTERM when it exits); 2 s lets a short
 * notify_stop finish, and a stop stays bounded (≈ 3.5 s at most with a script that never ends).
 */
export const NOTIFY_STOP_GRACE_MS = 2_000;
/** A master late on every advert says so once per this, with the count it held back; the counter counts each. */
export const LATE_ADVERT_WARNING_INTERVAL_MS = 10_000;

/** What reconfigure() did: applied to the running instances, or refused (the caller restarts instead). */
export type VrrpReconfigureResult =
  | { inPlace: true; vipsAdded: string[]; vipsRemoved: string[] }
  | { inPlace: false; reason: string };

interface InstanceRuntime {
  model: VrrpInstance;
  plan: VrrpInstancePlan;
  link: LinkInfo;
  /** Where adverts go out and are read: the VMAC (use_vmac without vmac_xmit_base) or `link`. */
  xmitLink: LinkInfo;
  sourceIp: string;
  vips: VipSpec[];
  routes: RouteSpec[];
  rules: RuleSpec[];
  /** The routes and rules are in the kernel (added on becoming MASTER, removed on leaving it). */
  holdsRoutes: boolean;
  /** vrrp_advert_late at most once per LATE_ADVERT_WARNING_INTERVAL_MS (a starved master is late every advert). */
  lateAdvertWarnings: WarningThrottle;
  routeErrors: number;
  validator: ReceiveValidator;
  tracking: InstanceTracking;
  scriptTrackers: Map<string, ScriptTracker>;
  interfaceTrackers: Map<string, InterfaceTracker>;
  fileTrackers: Map<string, FileTracker>;
  processTrackers: Map<string, ProcessTracker>;
  machine: VrrpStateMachine;
  /** This instance as its socket set sees it. */
  member: SocketMember;
  transport: VrrpTransport;
  garp: GratuitousArpSender;
  na: NeighbourAdvertSender;
  /** VIP and GARP work in the order the core asked for it (advert → VIPs → GARP). */
  queue: Promise<void>;
  lastTransitionEpochMs: number;
  vipErrors: number;
  /** VIPs a previous run left that this instance keeps while its start-up leads to MASTER (core/leftoverVips.ts). */
  leftoverVips: VipSpec[];
  send: VrrpSendCounters;
  /** The master this BACKUP follows, as the receive filter's priority lane knows it. */
  followedMaster: string | undefined;
}

/** An instance planned from the config against the live interfaces, before it is built or reconfigured. */
type PlannedRuntime = Awaited<ReturnType<VrrpService['plan']>>;

export class VrrpService {
  private readonly instances: InstanceRuntime[] = [];
  private readonly preemptionHolds = new Set<string>();
  private readonly interfaces: VrrpInterfaces;
  /** track_interface, track_file, vrrp_track_process and vrrp_script for every instance of this service. */
  private readonly trackers: InstanceTrackers;
  private readonly vipManager: VipManager;
  /** The VMACs this service created or took over, with their instance's name (removed at stop). */
  private readonly vmacs: { instance: string; name: string; manager: VmacManager }[] = [];
  /** use_vmac_addr: each instance's address VMACs (interface, family → VMAC name). */
  private readonly addressVmacs = new Map<string, { base: string; ipv6: boolean; name: string }[]>();
  /** A master's VIPs, routes, rules and ARP bursts, queued per instance. */
  private readonly effects: MasterEffects;
  private unsubscribeLinks: (() => void) | undefined;
  private started = false;
  private stopping = false;
  private readonly notifications: NotifyRunner;

  constructor(
    private model: ConfigModel,
    private readonly deps: VrrpServiceDeps,
  ) {
    this.vipManager = new VipManager(deps.netlink);
    this.effects = new MasterEffects({
      logger: deps.logger,
      netlink: deps.netlink,
      vipManager: this.vipManager,
      routeManager: new RouteManager(deps.netlink),
      model: () => this.model,
      clock: deps.clock,
      stopping: () => this.stopping,
    });
    this.notifications = new NotifyRunner(deps.runScript, deps.logger, () => this.model.global.scriptUser, deps.onNotify);
    this.interfaces = deps.shared?.interfaces ?? new VrrpInterfaces(deps.openTransport, deps.logger, deps.clock);
    this.trackers = new InstanceTrackers({
      clock: deps.clock,
      logger: deps.logger,
      trackScripts: deps.shared?.trackScripts ?? new TrackScripts(deps.clock, deps.logger, deps.runScript),
      ...(deps.watchTrackFile ? { watchTrackFile: deps.watchTrackFile } : {}),
      ...(deps.watchTrackProcess ? { watchTrackProcess: deps.watchTrackProcess } : {}),
      instances: () => this.instances,
      model: () => this.model,
      stopping: () => this.stopping,
    });
  }

  /** Builds everything, clears VIPs a previous run left, and starts every instance. */
  async start(): Promise<void> {
    if (this.started) return;
    for (const instance of this.model.vrrpInstances) if (instance.useVmac) await this.createVmac(instance);
    for (const instance of this.model.vrrpInstances) if (instance.useVmacAddr) await this.createAddressVmacs(instance);
    const links = new Map((await this.deps.netlink.links()).map((l) => [l.name, l]));
    const plans = [];
    for (const instance of this.model.vrrpInstances) plans.push(await this.plan(instance, links));

    // A previous run (crashed, or killed -9) may have left our VIPs behind: a backup must not hold them.
    // An instance whose start-up leads to MASTER keeps its own until it hears a master (core/leftoverVips.ts).
    const adopting = plans.filter((p) => mayAdoptLeftoverVips(p.plan.instance));
    const leftovers = await this.vipManager.removeAll(plans.filter((p) => !adopting.includes(p)).flatMap((p) => p.vips));
    if (leftovers.changed > 0) this.deps.logger.warn({ event: 'vips_cleared', count: leftovers.changed }, 'removed VIPs left by a previous run');
    const held = await Promise.all(adopting.map((p) => this.vipManager.present(p.vips)));

    for (const plan of plans) this.build(plan);
    adopting.forEach((p, i) => {
      const rt = this.instances.find((r) => r.plan === p.plan)!;
      rt.leftoverVips = held[i]!;
      if (rt.leftoverVips.length > 0) {
        this.deps.logger.info({ event: 'vips_kept', instance: rt.model.name, vips: rt.leftoverVips.map((v) => v.address) }, 'keeping VIPs left by a previous run while starting towards MASTER');
      }
    });
    this.refreshReceiveFilters();
    this.buildSyncGroups();
    this.unsubscribeLinks = this.deps.netlink.onLinkChange((event) => this.onLink(event));
    for (const rt of this.instances) {
      if (!rt.model.dontTrackPrimary && !rt.link.up) rt.machine.interfaceDown();
      this.trackers.build(rt, links);
    }
    this.trackers.startScripts();
    this.started = true;
    for (const rt of this.instances) rt.machine.start();
  }

  /** Graceful stop: masters send priority 0 and release their VIPs; sockets close once that is sent. */
  async stop(): Promise<void> {
    // Also after a start that failed half-way: whatever was opened gets closed.
    if (this.stopping) return;
    this.stopping = true;
    this.trackers.close();
    for (const rt of this.instances) rt.machine.shutdown();
    // A burst of ARPs and NAs under way sends nothing more: its pending gap must not hold the stop.
    this.effects.endBursts();
    await Promise.all(this.instances.map((rt) => rt.queue));
    // Whatever state we were in, nothing of ours stays on the interfaces: rules, routes, then VIPs.
    for (const rt of this.instances) if (rt.holdsRoutes) await this.effects.changeRoutes(rt, rt.routes, rt.rules, 'remove');
    await this.vipManager.removeAll(this.instances.flatMap((rt) => rt.vips));
    // Sockets no other instance uses close once the priority-0 adverts have gone out.
    await this.interfaces.leave(this.instances.map((rt) => rt.member));
    for (const { instance, manager } of this.vmacs.splice(0)) {
      for (const problem of await manager.remove()) this.deps.logger.warn({ event: 'vmac_error', instance }, problem);
    }
    this.addressVmacs.clear();
    this.unsubscribeLinks?.();
    // notify_stop (and any notify still running) gets a grace, then SIGTERM to its group, SIGKILL 1 s later.
    await this.notifications.settle(NOTIFY_STOP_GRACE_MS, 1500);
    this.started = false;
  }

  /**
   * SIGHUP reload in place: the same instances (matched by interface, VRID and family: src/config/keys.ts) take the new settings without
   * leaving their state — no priority-0 advert, no transition; the core then reacts by the normal protocol
   * (a lower priority loses to a higher peer by its adverts). A master's VIPs change as a diff on the live
   * interface: unchanged VIPs are never removed. Refused (nothing changed, the caller restarts the unit)
   * when the instance set, the sync groups or a multicast socket's groups differ, since those are other
   * instances or need another socket. The decision is core/reconfigurePlan.ts; this plans the instances
   * against the live interfaces and applies it.
   */
  async reconfigure(next: ConfigModel): Promise<VrrpReconfigureResult> {
    if (!this.started || this.stopping) return { inPlace: false, reason: 'not running' };
    const links = new Map((await this.deps.netlink.links()).map((l) => [l.name, l]));
    const byKey = runningByKey(this.instances);
    const setRefusal = instanceSetRefusal(this.instances, next);
    if (setRefusal !== undefined) return { inPlace: false, reason: setRefusal };
    // Each instance is checked as soon as it is planned: a refused reload plans (and warns about) no further one.
    const planned: PlannedRuntime[] = [];
    for (const instance of next.vrrpInstances) {
      const unmatched = unmatchedRefusal(byKey, instance);
      if (unmatched !== undefined) return { inPlace: false, reason: unmatched };
      const rt = byKey.get(vrrpInstanceKey(instance))!;
      const plan = await this.plan(instance, links, next);
      const refusal = instanceRefusal(rt, plan);
      if (refusal !== undefined) return { inPlace: false, reason: refusal };
      planned.push(plan);
    }
    const decision = planReconfigure({ current: this.model, next, running: this.instances, planned });
    if (!decision.inPlace) return { inPlace: false, reason: decision.reason };

    this.model = next;
    // New or changed vrrp_scripts run once before the trackers change, so an instance never drops into
    // FAULT ("script not reported yet") just because a reload added a script to it.
    await Promise.all(this.trackers.restartChangedScripts(decision.scriptsTracked));
    const vipsAdded: string[] = [];
    const vipsRemoved: string[] = [];
    for (const { running: rt, planned, change } of decision.instances) {
      const { vipsAdded: added, vipsRemoved: removed, routesAdded: newRoutes, routesRemoved: goneRoutes, rulesAdded: newRules, rulesRemoved: goneRules } = change;
      rt.model = planned.instance;
      rt.plan = planned.plan;
      rt.sourceIp = planned.plan.sourceIp;
      rt.vips = planned.vips;
      rt.routes = planned.routes;
      rt.rules = planned.rules;
      if (rt.holdsRoutes && goneRoutes.length + newRoutes.length + goneRules.length + newRules.length > 0) {
        // Only what changed is touched: an unchanged route never leaves the kernel.
        this.effects.enqueue(rt, () => this.effects.changeRoutes(rt, goneRoutes, goneRules, 'remove'));
        this.effects.enqueue(rt, () => this.effects.changeRoutes(rt, newRoutes, newRules, 'add'));
      }
      rt.validator.reconfigure(planned.plan.receive);
      this.trackers.retrack(rt, links);
      rt.machine.reconfigure(planned.plan.instance);
      if (rt.machine.state === 'MASTER' && (added.length > 0 || removed.length > 0)) {
        this.effects.enqueue(rt, () => this.effects.changeVipList(rt, removed, 'remove'));
        this.effects.enqueue(rt, () => this.effects.changeVipList(rt, added, 'add'));
        this.effects.enqueue(rt, () => this.effects.garpBurst(rt, rt.plan.instance.garpMasterRepeat, added));
      }
      vipsAdded.push(...added.map((v) => v.address));
      vipsRemoved.push(...removed.map((v) => v.address));
    }
    // A changed unicast_src_ip is another address to accept adverts at.
    this.refreshReceiveFilters();
    this.trackers.closeUnusedFileWatches();
    await Promise.all(this.instances.map((rt) => rt.queue));
    return { inPlace: true, vipsAdded, vipsRemoved };
  }

  status(): VrrpInstanceStatus[] {
    return this.instances.map((rt) => ({
      name: rt.model.name,
      interface: rt.link.name,
      vrid: rt.model.virtualRouterId,
      version: rt.model.version,
      state: rt.machine.state,
      basePriority: rt.model.priority,
      effectivePriority: rt.machine.effectivePriority,
      sourceIp: rt.sourceIp,
      masterIp: rt.machine.masterIp,
      lastTransition: rt.machine.lastTransition,
      lastTransitionEpochMs: rt.lastTransitionEpochMs,
      faultReasons: rt.machine.faultReasons,
      vips: rt.vips.map((v) => `${v.address}/${v.prefixLength}`),
      vipEntries: rt.vips.map((v, i) => ({ address: v.address, prefixLength: v.prefixLength, dev: v.dev, excluded: i >= rt.model.virtualIpAddresses.length })),
      routes: rt.holdsRoutes ? rt.routes.map(describeRoute) : [],
      rules: rt.holdsRoutes ? rt.rules.map(describeRule) : [],
      routeErrors: rt.routeErrors,
      receive: { ...rt.validator.counters },
      machine: { ...rt.machine.counters },
      garp: { ...rt.garp.counters },
      na: { ...rt.na.counters },
      vipErrors: rt.vipErrors,
      send: { ...rt.send },
      preemptionHeld: rt.machine.preemptionIsHeld,
    }));
  }

  /** The sockets this service's instances are on (shared ones count every instance's packets). */
  interfaceStatus(): VrrpInterfaceStatus[] {
    return this.interfaces.status(this.instances.map((rt) => rt.member));
  }

  /** The vrrp_scripts this service's instances track (shared ones count every run, once). */
  scriptStatus(): VrrpScriptStatus[] {
    return this.trackers.scriptStatus();
  }

  // ---- building --------------------------------------------------------------------------------------

  private async plan(instance: VrrpInstance, links: Map<string, LinkInfo>, model: ConfigModel = this.model) {
    const where = `vrrp_instance ${instance.name} (${instance.loc.file}:${instance.loc.line})`;
    const fail = (what: string): never => {
      throw new VrrpConfigError(`${where}: ${what}`);
    };
    if (!instance.interface) fail('no interface');
    const link = links.get(instance.interface!) ?? fail(`interface ${instance.interface} does not exist`);
    // use_vmac: the VIPs of the instance's family that name no other interface go on the VMAC (keepalived
    // 2.2.7), adverts too unless vmac_xmit_base; the other family's stay on the parent, or with
    // use_vmac_addr go on an address VMAC, as the VIPs naming other interfaces do (core/vmac.ts).
    const vmacName = instance.useVmac ? vmacPlan(instance, link.name).name : undefined;
    const vmacLink = vmacName !== undefined ? (links.get(vmacName) ?? fail(`VMAC ${vmacName} does not exist`)) : undefined;
    const xmitLink = vmacLink && !instance.vmacXmitBase ? vmacLink : link;

    const vips: VipSpec[] = [...instance.virtualIpAddresses, ...instance.virtualIpAddressesExcluded].map((v) => {
      const placement = placeVip(instance, v, link.name);
      const dev = placement.on === 'instanceVmac' ? vmacName!
        : placement.on === 'interface' ? placement.dev
        : (this.addressVmacs.get(instance.name)?.find((a) => a.base === placement.base && a.ipv6 === placement.ipv6)?.name
          ?? fail(`VIP ${v.address}: use_vmac_addr: no VMAC on ${placement.base}`));
      const spec: VipSpec = { address: v.address, prefixLength: v.prefixLength, dev };
      if (v.broadcast !== undefined) spec.broadcast = v.broadcast;
      if (v.scope !== undefined) spec.scope = v.scope;
      if (v.label !== undefined) spec.label = v.label;
      if (v.noPrefixRoute) spec.noPrefixRoute = true;
      return spec;
    });
    for (const vip of vips) if (!links.has(vip.dev)) fail(`VIP ${vip.address}: interface ${vip.dev} does not exist`);

    // keepalived's default source: the interface's first IPv4 address that is not one of our VIPs; for an
    // IPv6 instance its link-local address (RFC 5798 §5.1.2.1: the source MUST be link-local).
    const vipSet = new Set(vips.map((v) => v.address));
    const isSource = instance.family === 'inet6' ? (a: string) => /^fe[89ab][0-9a-f]?:/i.test(a) : (a: string) => isIPv4(a);
    const primary = (await this.deps.netlink.addresses(link.index)).find((a) => isSource(a.address) && !vipSet.has(a.address));
    const planned = planVrrpInstance(model, instance, primary?.address);
    if (!planned.ok) throw new VrrpConfigError(planned.problems.join('; '));
    for (const warning of planned.plan.warnings) this.deps.logger.warn({ event: 'config_warning', instance: instance.name }, warning);
    const routes = instance.virtualRoutes.map(routeSpecOf);
    const rules = instance.virtualRules.map(ruleSpecOf);
    return { instance, link, xmitLink, vips, routes, rules, plan: planned.plan };
  }

  /** use_vmac: the instance's macvlan, created (or taken over from a crashed run) before anything is planned. */
  private async createVmac(instance: VrrpInstance): Promise<void> {
    const where = `vrrp_instance ${instance.name} (${instance.loc.file}:${instance.loc.line})`;
    if (instance.unicastPeers.length > 0 && !instance.vmacXmitBase) throw new VrrpConfigError(`${where}: use_vmac with unicast_peer needs vmac_xmit_base (as keepalived)`);
    if (!this.deps.linkControl) throw new VrrpConfigError(`${where}: use_vmac: no link control available`);
    const parent = instance.interface ? await this.deps.netlink.linkByName(instance.interface) : undefined;
    if (!parent) throw new VrrpConfigError(`${where}: interface ${instance.interface ?? '(none)'} does not exist`);
    const manager = new VmacManager(bindLinkControl(this.deps.netlink, this.deps.linkControl), this.deps.sysctl);
    const plan = vmacPlan(instance, parent.name);
    try {
      const { link, reused } = await manager.ensure(plan, parent);
      this.vmacs.push({ instance: instance.name, name: link.name, manager });
      this.deps.logger.info({ event: 'vmac_up', instance: instance.name, vmac: link.name, parent: parent.name, reused }, `VMAC ${link.name} ${reused ? 'taken over from a previous run' : 'created'} on ${parent.name}`);
    } catch (error) {
      await manager.remove();
      throw new VrrpConfigError(`${where}: use_vmac ${plan.name}: ${(error as Error).message}`);
    }
  }

  /**
   * use_vmac_addr: a VMAC (macvlan, private) on each interface that one of the instance's VIPs goes to other
   * than the instance's own, with the MAC of the VIP's family. As keepalived's if_get_by_vmac, a private
   * macvlan already on that interface with that MAC is used: ours (this run's) as it is, one a crashed run
   * left is taken over; otherwise one is created under keepalived's next free name (core/vmac.ts).
   */
  private async createAddressVmacs(instance: VrrpInstance): Promise<void> {
    const where = `vrrp_instance ${instance.name} (${instance.loc.file}:${instance.loc.line})`;
    if (!this.deps.linkControl) throw new VrrpConfigError(`${where}: use_vmac_addr: no link control available`);
    if (!instance.interface) throw new VrrpConfigError(`${where}: no interface`);
    const made: { base: string; ipv6: boolean; name: string }[] = [];
    this.addressVmacs.set(instance.name, made);
    for (const { base, ipv6 } of addressVmacsOf(instance, instance.interface)) {
      const links = await this.deps.netlink.links();
      const parent = links.find((l) => l.name === base);
      if (!parent) throw new VrrpConfigError(`${where}: use_vmac_addr: interface ${base} does not exist`);
      const mac = addressVmacPlan(instance, base, ipv6, '').mac;
      const existing = links.find((l) => l.kind === 'macvlan' && l.macvlanMode === MACVLAN_MODE_PRIVATE && l.parentIndex === parent.index && l.mac.equals(mac));
      if (existing && this.vmacs.some((v) => v.name === existing.name)) {
        made.push({ base, ipv6, name: existing.name });
        continue;
      }
      const name = existing?.name ?? addressVmacName(instance.virtualRouterId, ipv6, (n) => links.some((l) => l.name === n) || this.vmacs.some((v) => v.name === n));
      const plan = addressVmacPlan(instance, base, ipv6, name);
      const manager = new VmacManager(bindLinkControl(this.deps.netlink, this.deps.linkControl), this.deps.sysctl);
      try {
        const { link, reused } = await manager.ensure(plan, parent);
        this.vmacs.push({ instance: instance.name, name: link.name, manager });
        made.push({ base, ipv6, name: link.name });
        this.deps.logger.info({ event: 'vmac_up', instance: instance.name, vmac: link.name, parent: base, reused }, `use_vmac_addr: VMAC ${link.name} ${reused ? 'taken over from a previous run' : 'created'} on ${base}`);
      } catch (error) {
        await manager.remove();
        throw new VrrpConfigError(`${where}: use_vmac_addr ${name} on ${base}: ${(error as Error).message}`);
      }
    }
  }

  private build({ instance, link, xmitLink, vips, routes, rules, plan }: PlannedRuntime): void {
    if (this.instances.some((o) => o.link.index === link.index && o.model.virtualRouterId === instance.virtualRouterId && o.plan.family === plan.family)) {
      throw new VrrpConfigError(`vrrp_instance ${instance.name}: VRID ${instance.virtualRouterId} already used on ${link.name}`);
    }
    const multicast = plan.receive.unicastPeers.length === 0;
    const rt = {
      model: instance,
      plan,
      link,
      xmitLink,
      sourceIp: plan.sourceIp,
      vips,
      routes,
      rules,
      holdsRoutes: false,
      routeErrors: 0,
      validator: new ReceiveValidator(plan.receive),
      tracking: new InstanceTracking(),
      scriptTrackers: new Map<string, ScriptTracker>(),
      interfaceTrackers: new Map<string, InterfaceTracker>(),
      fileTrackers: new Map<string, FileTracker>(),
      processTrackers: new Map<string, ProcessTracker>(),
      garp: new GratuitousArpSender(this.deps.frameSender, (error, target) =>
        this.deps.logger.warn({ event: 'garp_error', instance: instance.name, vip: target.vip, err: error.message }, 'gratuitous ARP failed'),
      ),
      na: new NeighbourAdvertSender(this.deps.frameSender, (error, target) =>
        this.deps.logger.warn({ event: 'na_error', instance: instance.name, vip: target.vip, err: error.message }, 'unsolicited neighbour advertisement failed'),
      ),
      queue: Promise.resolve(),
      lastTransitionEpochMs: 0,
      vipErrors: 0,
      leftoverVips: [],
      send: { advertisementsSent: 0, priorityZeroSent: 0, sendErrors: 0 },
      followedMaster: undefined,
      lateAdvertWarnings: new WarningThrottle(this.deps.clock, LATE_ADVERT_WARNING_INTERVAL_MS),
    } as Omit<InstanceRuntime, 'machine' | 'member' | 'transport'> as InstanceRuntime;
    rt.machine = new VrrpStateMachine(plan.instance, this.deps.clock, {
      sendAdvert: (priority) => this.sendAdvert(rt, priority),
      addVips: () => this.effects.enqueue(rt, () => this.effects.changeVips(rt, 'add')),
      removeVips: () => this.effects.enqueue(rt, () => this.effects.changeVips(rt, 'remove')),
      sendGratuitousArp: (repeat) => this.effects.enqueue(rt, () => this.effects.garpBurst(rt, repeat)),
      onTransition: (from, to, reason) => this.onTransition(rt, from, to, reason),
      advertLate: (latenessMs) => {
        const heldBack = rt.lateAdvertWarnings.admit();
        if (heldBack === undefined) return;
        this.deps.logger.warn({
          event: 'vrrp_advert_late', instance: rt.model.name, latenessMs: Math.round(latenessMs),
          advertIntervalMs: rt.plan.instance.advertIntervalMs, advertsLate: rt.machine.counters.advertsLate,
          ...(heldBack > 0 ? { lateWarningsHeldBack: heldBack } : {}),
        }, 'advert sent late: the process was held; the backups take over after 3 × advert_int + skew without one');
      },
      masterDownLate: (lateMs, listenMs) => this.deps.logger.warn({
        event: 'vrrp_master_down_late', instance: rt.model.name, lateMs: Math.round(lateMs), listenMs: Math.round(listenMs),
      }, 'master-down timer fired late (the process was held): listening once more before taking over'),
    });
    rt.member = {
      vrid: instance.virtualRouterId,
      validator: rt.validator,
      filter: () => ({ vrid: rt.model.virtualRouterId, plan: rt.plan, sourceIp: rt.sourceIp, followedMaster: rt.followedMaster }),
      receive: (verdict) => this.receive(rt, verdict),
    };
    try {
      rt.transport = this.interfaces.join(xmitLink, plan.family, multicast ? plan.destinations : [], rt.member).transport;
    } catch (error) {
      if (error instanceof VrrpVridInUseError) throw new VrrpConfigError(`vrrp_instance ${instance.name}: ${error.message}`);
      throw error;
    }
    rt.machine.holdPreemption(this.preemptionHolds.has(instance.name));
    this.instances.push(rt);
  }

  /**
   * Holds (or releases) preemption by the named instance: while held, as BACKUP it follows a lower-priority
   * master instead of taking over (the daemon holds it while the IPVS connection sync catches up).
   * Remembered for an instance not built yet.
   */
  holdPreemption(instance: string, held: boolean): void {
    if (held) this.preemptionHolds.add(instance);
    else this.preemptionHolds.delete(instance);
    for (const rt of this.instances) if (rt.model.name === instance) rt.machine.holdPreemption(held);
  }

  private buildSyncGroups(): void {
    for (const group of this.model.vrrpSyncGroups) {
      const members = this.instances.filter((rt) => group.group.includes(rt.model.name)).map((rt) => rt.machine);
      if (members.length === 0) continue;
      new VrrpSyncGroup(group.name, members, {
        onGroupTransition: (from, to, reason) => this.onGroupTransition(group, from, to, reason),
      });
    }
  }

  /** Each socket's kernel filter: the destinations and VRIDs of the instances on its interface. */
  private refreshReceiveFilters(): void {
    this.interfaces.refreshFilters();
  }

  /** A BACKUP that follows another master (or none now): that master's adverts get the priority lane. */
  private followMaster(rt: InstanceRuntime): void {
    const master = rt.machine.state === 'BACKUP' ? rt.machine.masterIp : undefined;
    if (master === rt.followedMaster) return;
    rt.followedMaster = master;
    this.refreshReceiveFilters();
  }

  // ---- the core's effects ----------------------------------------------------------------------------

  /** A packet for the instance's VRID, as its validator judged it (the socket set catches what this throws). */
  private receive(instance: InstanceRuntime, verdict: ReceiveVerdict): void {
    if (verdict.verdict === 'accept') {
      instance.machine.receiveAdvert(verdict.advert, verdict.srcIp);
      if (instance.leftoverVips.length > 0) this.effects.reviewLeftoverVips(instance);
      this.followMaster(instance);
    } else if (verdict.verdict === 'drop') {
      this.deps.logger.debug({ event: 'vrrp_drop', instance: instance.model.name, reason: verdict.reason, detail: verdict.detail }, 'VRRP packet dropped');
    }
  }

  private sendAdvert(rt: InstanceRuntime, priority: number): void {
    const intervalMs = rt.plan.instance.advertIntervalMs;
    const advert: VrrpAdvert = {
      version: rt.plan.instance.version,
      vrid: rt.plan.instance.vrid,
      priority,
      addresses: [...rt.plan.receive.virtualAddresses],
      advertInt: Math.max(1, Math.round(intervalMs / 1000)),
      maxAdvertIntCs: Math.max(1, Math.round(intervalMs / 10)),
      authType: rt.plan.receive.authType,
      authData: rt.plan.receive.authData,
    };
    let refused = 0;
    for (const dst of rt.plan.destinations) {
      try {
        // Encoded per destination: the v3 checksum covers the destination address.
        if (!rt.transport.send(encodeAdvert(advert, { srcIp: rt.sourceIp, dstIp: dst }), rt.sourceIp, dst)) refused++;
      } catch (error) {
        refused++;
        this.deps.logger.error({ event: 'vrrp_encode_error', instance: rt.model.name, err: (error as Error).message }, 'cannot encode advert');
      }
    }
    rt.send.sendErrors += refused;
    if (refused === 0 && rt.plan.destinations.length > 0) {
      rt.send.advertisementsSent++;
      if (priority === 0) rt.send.priorityZeroSent++;
    }
  }

  private onTransition(rt: InstanceRuntime, from: VrrpState, to: VrrpState, reason: string): void {
    // A master's burst under way ends now, not after its gap: the VIP removal queued behind it goes at once.
    if (from === 'MASTER' && to !== 'MASTER') this.effects.endBursts(rt);
    if (rt.leftoverVips.length > 0) this.effects.reviewLeftoverVips(rt);
    rt.lastTransitionEpochMs = Date.now();
    this.followMaster(rt);
    const priority = rt.machine.effectivePriority;
    logTransition(this.deps.logger, {
      kind: 'vrrp',
      instance: rt.model.name,
      from,
      to,
      reason,
      detail: { priority, vrid: rt.model.virtualRouterId, interface: rt.link.name },
    });
    this.notifications.run(rt.model, 'INSTANCE', to, priority);
    this.deps.onTransition?.(rt.model.name, from, to);
  }

  private onGroupTransition(built: SyncGroupModel, from: string, to: string, reason: string): void {
    // The group's current settings (a reload may have changed its notify scripts).
    const group = this.model.vrrpSyncGroups.find((g) => g.name === built.name) ?? built;
    this.deps.logger.info({ event: 'sync_group_transition', group: group.name, from, to, reason }, `sync group ${group.name}: ${from} -> ${to} (${reason})`);
    this.notifications.run(group, 'GROUP', to, 0);
  }

  // ---- tracking --------------------------------------------------------------------------------------

  private onLink(event: LinkEvent): void {
    if (this.stopping) return;
    for (const rt of this.instances) {
      if (event.link.index === rt.link.index && !rt.model.dontTrackPrimary) {
        if (event.link.up) rt.machine.interfaceUp();
        else rt.machine.interfaceDown();
      }
      const tracker = rt.interfaceTrackers.get(event.link.name);
      if (tracker?.setLink(event.link.up)) rt.tracking.applyTo(rt.machine);
    }
  }
}

/** The netlink object's own methods, bound (spreading a class instance copies no prototype methods). */
function bindLinkControl(netlink: RtNetlink, control: LinkControl): RtNetlink & LinkControl {
  return {
    links: () => netlink.links(),
    linkByName: (name) => netlink.linkByName(name),
    linkByIndex: (index) => netlink.linkByIndex(index),
    addresses: (ifindex) => netlink.addresses(ifindex),
    addAddress: (addr) => netlink.addAddress(addr),
    removeAddress: (addr) => netlink.removeAddress(addr),
    onLinkChange: (listener) => netlink.onLinkChange(listener),
    routes: () => netlink.routes(),
    addRoute: (route) => netlink.addRoute(route),
    removeRoute: (route) => netlink.removeRoute(route),
    rules: () => netlink.rules(),
    addRule: (rule) => netlink.addRule(rule),
    removeRule: (rule) => netlink.removeRule(rule),
    close: () => netlink.close(),
    addMacvlan: (spec) => control.addMacvlan(spec),
    setLinkUp: (index) => control.setLinkUp(index),
    deleteLink: (index) => control.deleteLink(index),
  };
}
