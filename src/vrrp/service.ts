import { isIPv4 } from 'node:net';
import type { ConfigModel, ScriptCommand, VrrpInstance, VrrpScript } from '../config/model.js';
import type { NativeAddon } from '../net/nativeAddon.js';
import type { LinkEvent, LinkInfo, RtNetlink } from '../net/rtnetlink.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { logTransition, type Logger } from '../util/log.js';
import { AUTH_NONE, AUTH_PASS, encodeAdvert, passwordAuthData, type VrrpAdvert } from './codec/advertCodec.js';
import {
  ReceiveDispatcher,
  ReceiveValidator,
  type SocketReceiveCounters,
  type VrrpReceiveCounters,
} from './core/receiveValidator.js';
import {
  VrrpStateMachine,
  type VrrpInstanceSpec,
  type VrrpMachineCounters,
  type VrrpState,
  type VrrpTransition,
} from './core/vrrpStateMachine.js';
import { GratuitousArpSender, type GarpTarget } from './edge/gratuitousArp.js';
import type { TransportCounters, TransportOptions, VrrpTransport } from './edge/rawSocketTransport.js';
import type { ScriptInvocation, ScriptOutcome } from './edge/scriptRunner.js';
import { VipManager, type VipSpec } from './edge/vipManager.js';

/**
 * VrrpService: the VRRP runtime. From the config model it builds, per `vrrp_instance`, the core's state
 * machine and receive validator, and wires them to the edges: one raw socket per interface (shared by the
 * instances on it, routed by the core's ReceiveDispatcher), VIPs over rtnetlink, gratuitous ARP through
 * the native addon, track_interface from link events, vrrp_script trackers and notify scripts (argv, never
 * a shell). Everything here is I/O glue; the decisions are the core's.
 */

export interface VrrpServiceDeps {
  clock: Clock;
  logger: Logger;
  netlink: RtNetlink;
  frameSender: Pick<NativeAddon, 'sendFrame'>;
  openTransport: (options: TransportOptions) => VrrpTransport;
  runScript: (invocation: ScriptInvocation) => Promise<ScriptOutcome>;
}

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
  receive: VrrpReceiveCounters;
  machine: VrrpMachineCounters;
  garp: { garpSent: number; garpErrors: number };
  vipErrors: number;
}

export interface VrrpInterfaceStatus {
  interface: string;
  transport: TransportCounters;
  /** Packets on this interface's socket that reached no instance. */
  dispatcher: SocketReceiveCounters;
}

export interface VrrpScriptStatus {
  name: string;
  /** keepalived's GOOD / BAD after rise/fall. */
  good: boolean;
  runs: number;
  failures: number;
  timeouts: number;
}

export class VrrpConfigError extends Error {}

interface InstanceRuntime {
  model: VrrpInstance;
  link: LinkInfo;
  sourceIp: string;
  destinations: string[];
  vips: VipSpec[];
  advertAddresses: string[];
  authType: number;
  authData: Uint8Array;
  validator: ReceiveValidator;
  machine: VrrpStateMachine;
  transport: VrrpTransport;
  garp: GratuitousArpSender;
  /** VIP and GARP work in the order the core asked for it (advert → VIPs → GARP). */
  queue: Promise<void>;
  lastTransitionEpochMs: number;
  vipErrors: number;
  /** track_interface name → current priority contribution. */
  interfaceDeltas: Map<string, number>;
}

interface InterfaceRuntime {
  link: LinkInfo;
  transport: VrrpTransport;
  dispatcher: ReceiveDispatcher<InstanceRuntime>;
}

interface ScriptRuntime {
  model: VrrpScript;
  good: boolean;
  consecutiveGood: number;
  consecutiveBad: number;
  runs: number;
  failures: number;
  timeouts: number;
  timer: TimerHandle | undefined;
  running: boolean;
}

export class VrrpService {
  private readonly instances: InstanceRuntime[] = [];
  private readonly interfaces = new Map<string, InterfaceRuntime>();
  private readonly scripts = new Map<string, ScriptRuntime>();
  private readonly vipManager: VipManager;
  private unsubscribeLinks: (() => void) | undefined;
  private started = false;
  private stopping = false;
  /** notify scripts still running: stop() waits for them (bounded) so notify_stop is not cut off. */
  private readonly pendingNotifies = new Set<Promise<unknown>>();

  constructor(
    private readonly model: ConfigModel,
    private readonly deps: VrrpServiceDeps,
  ) {
    this.vipManager = new VipManager(deps.netlink);
  }

  /** Builds everything, clears VIPs a previous run left, and starts every instance. */
  async start(): Promise<void> {
    if (this.started) return;
    const links = new Map((await this.deps.netlink.links()).map((l) => [l.name, l]));
    const plans = [];
    for (const instance of this.model.vrrpInstances) plans.push(await this.plan(instance, links));

    // A previous run (crashed, or killed -9) may have left our VIPs behind: a backup must not hold them.
    const leftovers = await this.vipManager.removeAll(plans.flatMap((p) => p.vips));
    if (leftovers.changed > 0) this.deps.logger.warn({ event: 'vips_cleared', count: leftovers.changed }, 'removed VIPs left by a previous run');

    for (const plan of plans) this.build(plan);
    this.unsubscribeLinks = this.deps.netlink.onLinkChange((event) => this.onLink(event));
    for (const rt of this.instances) {
      if (!rt.model.dontTrackPrimary && !rt.link.up) rt.machine.interfaceDown();
      for (const tracked of rt.model.trackInterfaces) {
        const link = links.get(tracked.name);
        this.applyTrackedInterface(rt, tracked.name, link?.up ?? false);
      }
    }
    this.startScripts();
    this.started = true;
    for (const rt of this.instances) rt.machine.start();
  }

  /** Graceful stop: masters send priority 0 and release their VIPs; sockets close once that is sent. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    for (const script of this.scripts.values()) this.deps.clock.clearTimer(script.timer);
    for (const rt of this.instances) rt.machine.shutdown();
    await Promise.all(this.instances.map((rt) => rt.queue));
    // Whatever state we were in, nothing of ours stays on the interfaces.
    await this.vipManager.removeAll(this.instances.flatMap((rt) => rt.vips));
    await Promise.all(
      [...this.interfaces.values()].map((i) => Promise.race([i.transport.flush(), delay(1000)])),
    );
    for (const i of this.interfaces.values()) i.transport.close();
    this.unsubscribeLinks?.();
    await Promise.race([Promise.all([...this.pendingNotifies]), delay(5000)]);
    this.started = false;
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
      receive: { ...rt.validator.counters },
      machine: { ...rt.machine.counters },
      garp: { ...rt.garp.counters },
      vipErrors: rt.vipErrors,
    }));
  }

  interfaceStatus(): VrrpInterfaceStatus[] {
    return [...this.interfaces.values()].map((i) => ({
      interface: i.link.name,
      transport: { ...i.transport.counters },
      dispatcher: { ...i.dispatcher.counters },
    }));
  }

  scriptStatus(): VrrpScriptStatus[] {
    return [...this.scripts.values()].map((s) => ({
      name: s.model.name,
      good: s.good,
      runs: s.runs,
      failures: s.failures,
      timeouts: s.timeouts,
    }));
  }

  // ---- building --------------------------------------------------------------------------------------

  private async plan(instance: VrrpInstance, links: Map<string, LinkInfo>) {
    const fail = (what: string): never => {
      throw new VrrpConfigError(`vrrp_instance ${instance.name} (${instance.loc.file}:${instance.loc.line}): ${what}`);
    };
    if (instance.family !== 'inet') fail('IPv6 VRRP instances are not supported yet');
    if (!instance.interface) fail('no interface');
    const link = links.get(instance.interface!) ?? fail(`interface ${instance.interface} does not exist`);
    if (instance.authentication?.type === 'AH') fail('auth_type AH is not supported (use PASS or none)');
    if (instance.useVmac) fail('use_vmac is not supported');

    const vips: VipSpec[] = [...instance.virtualIpAddresses, ...instance.virtualIpAddressesExcluded].map((v) => {
      const spec: VipSpec = { address: v.address, prefixLength: v.prefixLength, dev: v.dev ?? link.name };
      if (v.broadcast !== undefined) spec.broadcast = v.broadcast;
      if (v.scope !== undefined) spec.scope = v.scope;
      if (v.label !== undefined) spec.label = v.label;
      if (v.noPrefixRoute) spec.noPrefixRoute = true;
      return spec;
    });
    for (const vip of vips) if (!links.has(vip.dev)) fail(`VIP ${vip.address}: interface ${vip.dev} does not exist`);

    const unicast = instance.unicastPeers.map((p) => p.address);
    let sourceIp = unicast.length > 0 ? instance.unicastSrcIp : instance.mcastSrcIp;
    if (!sourceIp) {
      const vipSet = new Set(vips.map((v) => v.address));
      const primary = (await this.deps.netlink.addresses(link.index)).find((a) => isIPv4(a.address) && !vipSet.has(a.address));
      sourceIp = primary?.address ?? fail(`interface ${link.name} has no IPv4 address to send from`);
    }
    return { instance, link, sourceIp: sourceIp!, vips, unicast };
  }

  private build(plan: Awaited<ReturnType<VrrpService['plan']>>): void {
    const { instance, link, sourceIp, vips, unicast } = plan;
    const iface = this.interfaceFor(link, unicast.length === 0);
    const authType = instance.authentication?.type === 'PASS' ? AUTH_PASS : AUTH_NONE;
    const authData = instance.authentication ? passwordAuthData(instance.authentication.password) : new Uint8Array(8);
    const advertAddresses = instance.virtualIpAddresses.filter((v) => isIPv4(v.address)).map((v) => v.address);
    const spec = machineSpec(instance, sourceIp);
    const validator = new ReceiveValidator({
      vrid: instance.virtualRouterId,
      version: instance.version,
      advertIntervalMs: spec.advertIntervalMs,
      authType,
      authData,
      virtualAddresses: advertAddresses,
      unicastPeers: unicast,
      ownAddresses: [sourceIp],
    });
    const rt = {
      model: instance,
      link,
      sourceIp,
      destinations: unicast.length > 0 ? unicast : [this.model.global.vrrpMcastGroup4],
      vips,
      advertAddresses,
      authType,
      authData,
      validator,
      transport: iface.transport,
      garp: new GratuitousArpSender(this.deps.frameSender, (error, target) =>
        this.deps.logger.warn({ event: 'garp_error', instance: instance.name, vip: target.vip, err: error.message }, 'gratuitous ARP failed'),
      ),
      queue: Promise.resolve(),
      lastTransitionEpochMs: 0,
      vipErrors: 0,
      interfaceDeltas: new Map<string, number>(),
    } as Omit<InstanceRuntime, 'machine'> as InstanceRuntime;
    rt.machine = new VrrpStateMachine(spec, this.deps.clock, {
      sendAdvert: (priority) => this.sendAdvert(rt, priority),
      addVips: () => this.enqueue(rt, () => this.changeVips(rt, 'add')),
      removeVips: () => this.enqueue(rt, () => this.changeVips(rt, 'remove')),
      sendGratuitousArp: (repeat) => this.enqueue(rt, () => this.garpBurst(rt, repeat)),
      onTransition: (from, to, reason) => this.onTransition(rt, from, to, reason),
    });
    if (this.instances.some((o) => o.link.index === link.index && o.model.virtualRouterId === instance.virtualRouterId)) {
      throw new VrrpConfigError(`vrrp_instance ${instance.name}: VRID ${instance.virtualRouterId} already used on ${link.name}`);
    }
    iface.dispatcher.set(instance.virtualRouterId, rt);
    this.instances.push(rt);
  }

  private interfaceFor(link: LinkInfo, multicast: boolean): InterfaceRuntime {
    let iface = this.interfaces.get(link.name);
    if (!iface) {
      const groups = multicast ? [this.model.global.vrrpMcastGroup4] : [];
      const transport = this.deps.openTransport({ ifname: link.name, ifindex: link.index, multicastGroups: groups });
      const dispatcher = new ReceiveDispatcher<InstanceRuntime>();
      transport.onPacket((packet) => this.receive(dispatcher, packet));
      transport.onError((error) => this.deps.logger.warn({ event: 'vrrp_socket_error', interface: link.name, err: error.message }, 'VRRP socket error'));
      iface = { link, transport, dispatcher };
      this.interfaces.set(link.name, iface);
    }
    // (An interface shared by a unicast instance and a multicast one keeps the group membership it was opened with.)
    return iface;
  }

  // ---- the core's effects ----------------------------------------------------------------------------

  private receive(dispatcher: ReceiveDispatcher<InstanceRuntime>, packet: Buffer): void {
    // Never throws: a packet that breaks something is logged and dropped, the daemon goes on.
    try {
      const result = dispatcher.dispatch(packet);
      if (!result.delivered) return;
      const { verdict, instance } = result;
      if (verdict.verdict === 'accept') instance.machine.receiveAdvert(verdict.advert, verdict.srcIp);
      else if (verdict.verdict === 'drop') {
        this.deps.logger.debug({ event: 'vrrp_drop', instance: instance.model.name, reason: verdict.reason, detail: verdict.detail }, 'VRRP packet dropped');
      }
    } catch (error) {
      this.deps.logger.error({ event: 'vrrp_receive_error', err: (error as Error).message }, 'VRRP receive failed');
    }
  }

  private sendAdvert(rt: InstanceRuntime, priority: number): void {
    const intervalMs = machineSpec(rt.model, rt.sourceIp).advertIntervalMs;
    const advert: VrrpAdvert = {
      version: rt.model.version,
      vrid: rt.model.virtualRouterId,
      priority,
      addresses: rt.advertAddresses,
      advertInt: Math.max(1, Math.round(intervalMs / 1000)),
      maxAdvertIntCs: Math.max(1, Math.round(intervalMs / 10)),
      authType: rt.authType,
      authData: rt.authData,
    };
    for (const dst of rt.destinations) {
      try {
        // Encoded per destination: the v3 checksum covers the destination address.
        rt.transport.send(encodeAdvert(advert, { srcIp: rt.sourceIp, dstIp: dst }), rt.sourceIp, dst);
      } catch (error) {
        this.deps.logger.error({ event: 'vrrp_encode_error', instance: rt.model.name, err: (error as Error).message }, 'cannot encode advert');
      }
    }
  }

  private enqueue(rt: InstanceRuntime, work: () => Promise<void>): void {
    rt.queue = rt.queue.then(work).catch((error: unknown) => {
      this.deps.logger.error({ event: 'vrrp_effect_error', instance: rt.model.name, err: (error as Error).message }, 'VRRP effect failed');
    });
  }

  private async changeVips(rt: InstanceRuntime, op: 'add' | 'remove'): Promise<void> {
    const report = op === 'add' ? await this.vipManager.addAll(rt.vips) : await this.vipManager.removeAll(rt.vips);
    for (const failure of report.failed) {
      rt.vipErrors++;
      this.deps.logger.error({ event: 'vip_error', instance: rt.model.name, op, vip: failure.vip.address, err: failure.error }, `cannot ${op} VIP`);
    }
  }

  private async garpBurst(rt: InstanceRuntime, repeat: number): Promise<void> {
    const links = new Map((await this.deps.netlink.links().catch(() => [])).map((l) => [l.name, l]));
    const targets: GarpTarget[] = [];
    for (const vip of rt.vips) {
      const link = links.get(vip.dev);
      if (link && isIPv4(vip.address)) targets.push({ ifindex: link.index, mac: link.mac, vip: vip.address });
    }
    const gapMs = this.model.global.vrrpGarpInterval * 1000;
    for (let i = 0; i < repeat; i++) {
      if (rt.machine.state !== 'MASTER' && !this.stopping) return;
      rt.garp.send(targets);
      if (gapMs > 0 && i < repeat - 1) await delay(gapMs);
    }
  }

  private onTransition(rt: InstanceRuntime, from: VrrpState, to: VrrpState, reason: string): void {
    rt.lastTransitionEpochMs = Date.now();
    const priority = rt.machine.effectivePriority;
    logTransition(this.deps.logger, {
      kind: 'vrrp',
      instance: rt.model.name,
      from,
      to,
      reason,
      detail: { priority, vrid: rt.model.virtualRouterId, interface: rt.link.name },
    });
    const state = to === 'INIT' ? 'STOP' : to;
    const specific: Record<string, ScriptCommand | undefined> = {
      MASTER: rt.model.notifyMaster,
      BACKUP: rt.model.notifyBackup,
      FAULT: rt.model.notifyFault,
      STOP: rt.model.notifyStop,
    };
    const hook = specific[state];
    if (hook) this.notify(rt, hook, []);
    if (rt.model.notify) this.notify(rt, rt.model.notify, ['INSTANCE', rt.model.name, state, String(priority)]);
  }

  private notify(rt: InstanceRuntime, command: ScriptCommand, extraArgs: string[]): void {
    const invocation = this.invocation(command, 0);
    invocation.argv = [...command.argv, ...extraArgs];
    const running = this.deps.runScript(invocation).then((outcome) => {
      this.pendingNotifies.delete(running);
      if (outcome.exitCode !== 0) {
        this.deps.logger.warn({ event: 'notify_failed', instance: rt.model.name, argv: invocation.argv, ...outcome }, 'notify script failed');
      }
    });
    this.pendingNotifies.add(running);
  }

  private invocation(command: ScriptCommand, timeoutMs: number): ScriptInvocation {
    const invocation: ScriptInvocation = { argv: command.argv, timeoutMs };
    const user = command.user ?? this.model.global.scriptUser?.user;
    const group = command.user ? command.group : this.model.global.scriptUser?.group;
    if (user !== undefined) invocation.user = user;
    if (group !== undefined) invocation.group = group;
    return invocation;
  }

  // ---- tracking --------------------------------------------------------------------------------------

  private onLink(event: LinkEvent): void {
    if (this.stopping) return;
    for (const rt of this.instances) {
      if (event.link.index === rt.link.index && !rt.model.dontTrackPrimary) {
        if (event.link.up) rt.machine.interfaceUp();
        else rt.machine.interfaceDown();
      }
      for (const tracked of rt.model.trackInterfaces) {
        if (tracked.name === event.link.name) this.applyTrackedInterface(rt, tracked.name, event.link.up);
      }
    }
  }

  private applyTrackedInterface(rt: InstanceRuntime, name: string, up: boolean): void {
    const tracked = rt.model.trackInterfaces.find((t) => t.name === name);
    if (!tracked) return;
    if (tracked.weight === undefined || tracked.weight === 0) {
      // No weight: a tracked interface down puts the instance in FAULT (keepalived).
      rt.machine.setFault(`track_interface ${name}`, !up);
      return;
    }
    // keepalived: a positive weight is added while up, a negative one while down; `reverse` swaps them.
    const healthy = tracked.weightReverse ? !up : up;
    const delta = tracked.weight > 0 ? (healthy ? tracked.weight : 0) : healthy ? 0 : tracked.weight;
    rt.interfaceDeltas.set(name, delta);
    this.applyDeltas(rt);
  }

  private applyDeltas(rt: InstanceRuntime): void {
    let delta = 0;
    for (const d of rt.interfaceDeltas.values()) delta += d;
    for (const tracked of rt.model.trackScripts) {
      const script = this.scripts.get(tracked.name);
      if (!script) continue;
      const weight = tracked.weight ?? script.model.weight;
      const reverse = tracked.weight !== undefined ? tracked.weightReverse : script.model.weightReverse;
      if (weight === 0) {
        rt.machine.setFault(`track_script ${tracked.name}`, !script.good);
        continue;
      }
      const healthy = reverse ? !script.good : script.good;
      delta += weight > 0 ? (healthy ? weight : 0) : healthy ? 0 : weight;
    }
    rt.machine.setTrackedPriorityDelta(delta);
  }

  private startScripts(): void {
    const used = new Set(this.model.vrrpInstances.flatMap((i) => i.trackScripts.map((t) => t.name)));
    for (const model of this.model.vrrpScripts) {
      if (!used.has(model.name)) continue;
      const script: ScriptRuntime = {
        model,
        good: !model.initFail,
        consecutiveGood: 0,
        consecutiveBad: 0,
        runs: 0,
        failures: 0,
        timeouts: 0,
        timer: undefined,
        running: false,
      };
      this.scripts.set(model.name, script);
      this.runTrackScript(script);
    }
    for (const rt of this.instances) this.applyDeltas(rt);
  }

  private runTrackScript(script: ScriptRuntime): void {
    if (this.stopping) return;
    script.timer = this.deps.clock.setTimer(script.model.interval * 1000, () => this.runTrackScript(script));
    if (script.running) return; // still running from last time: keepalived skips, so do we
    script.running = true;
    const timeoutMs = (script.model.timeout || script.model.interval) * 1000;
    void this.deps.runScript(this.invocation(script.model.script, timeoutMs)).then((outcome) => {
      script.running = false;
      script.runs++;
      const ok = outcome.exitCode === 0;
      if (outcome.timedOut) script.timeouts++;
      if (!ok) script.failures++;
      if (ok) {
        script.consecutiveGood++;
        script.consecutiveBad = 0;
      } else {
        script.consecutiveBad++;
        script.consecutiveGood = 0;
      }
      const before = script.good;
      if (!script.good && script.consecutiveGood >= script.model.rise) script.good = true;
      if (script.good && script.consecutiveBad >= script.model.fall) script.good = false;
      if (before !== script.good && !this.stopping) {
        this.deps.logger.info({ event: 'track_script', script: script.model.name, good: script.good, ...outcome }, `track script ${script.model.name} ${script.good ? 'GOOD' : 'BAD'}`);
        for (const rt of this.instances) {
          if (rt.model.trackScripts.some((t) => t.name === script.model.name)) this.applyDeltas(rt);
        }
      }
    });
  }
}

/** The core's instance spec from the config model. */
export function machineSpec(instance: VrrpInstance, primaryIp: string): VrrpInstanceSpec {
  // v2 carries whole seconds; v3 centiseconds. keepalived rounds the configured value the same way.
  const advertIntervalMs =
    instance.version === 2 ? Math.max(1, Math.round(instance.advertInt)) * 1000 : Math.max(1, Math.round(instance.advertInt * 100)) * 10;
  return {
    name: instance.name,
    vrid: instance.virtualRouterId,
    version: instance.version,
    priority: instance.priority,
    advertIntervalMs,
    primaryIp,
    initialState: instance.state,
    preempt: !instance.nopreempt,
    preemptDelayMs: instance.preemptDelay * 1000,
    garpMasterRepeat: instance.garpMasterRepeat,
    garpMasterDelayMs: instance.garpMasterDelay * 1000,
    garpMasterRefreshMs: instance.garpMasterRefresh * 1000,
    garpMasterRefreshRepeat: instance.garpMasterRefreshRepeat,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
