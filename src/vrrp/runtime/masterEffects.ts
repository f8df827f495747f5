import { isIPv4 } from 'node:net';
import type { ConfigModel, VrrpInstance } from '../../config/model.js';
import type { RtNetlink } from '../../net/rtnetlink.js';
import type { RouteManager, RouteSpec, RuleSpec } from '../../net/routeManager.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { judgeLeftoverVips, type AdoptionView } from '../core/leftoverVips.js';
import type { VrrpState } from '../core/vrrpStateMachine.js';
import type { GarpTarget, GratuitousArpSender } from '../edge/gratuitousArp.js';
import type { NeighbourAdvertSender, NeighbourAdvertTarget } from '../edge/neighbourAdvert.js';
import type { VipManager, VipSpec } from '../edge/vipManager.js';
import { describeRoute, describeRule } from '../routeSpecs.js';

/**
 * What a VRRP master does to the kernel and the LAN, as the core asks for it: its VIPs, virtual_routes and
 * virtual_rules in and out (keepalived's order), a reload's VIP diff, the bursts of gratuitous ARPs and
 * unsolicited neighbour advertisements, and the VIPs a previous run left behind. Each instance's work runs
 * in one queue, in the order the core asked for it (advert → VIPs → ARP: the advert goes out at once from
 * the service, VIP and ARP work waits its turn here). A burst's gaps are timers on the service's Clock.
 */

/** An instance as its effects see it (the service's instance runtime is one). */
export interface EffectsInstance {
  readonly model: Pick<VrrpInstance, 'name'>;
  readonly machine: AdoptionView & { readonly state: VrrpState; readonly masterIp: string | undefined };
  readonly vips: VipSpec[];
  readonly routes: RouteSpec[];
  readonly rules: RuleSpec[];
  readonly garp: GratuitousArpSender;
  readonly na: NeighbourAdvertSender;
  /** The routes and rules are in the kernel (added on becoming MASTER, removed on leaving it). */
  holdsRoutes: boolean;
  routeErrors: number;
  vipErrors: number;
  /** VIPs a previous run left that this instance keeps while its start-up leads to MASTER (core/leftoverVips.ts). */
  leftoverVips: VipSpec[];
  /** VIP and GARP work in the order the core asked for it (advert → VIPs → GARP). */
  queue: Promise<void>;
}

export interface MasterEffectsDeps {
  logger: Logger;
  netlink: Pick<RtNetlink, 'links'>;
  vipManager: VipManager;
  routeManager: RouteManager;
  /** The config as it is now (a reload may change vrrp_garp_interval and vrrp_gna_interval). */
  model: () => ConfigModel;
  /** The service's clock: a burst's gaps wait on it. */
  clock: Clock;
  /** True once the service stops: a burst under way then sends nothing more. */
  stopping: () => boolean;
}

/** A burst waiting out its gap before the next frame; endBursts() wakes it early. */
interface PendingGap {
  readonly rt: EffectsInstance;
  handle: TimerHandle | undefined;
  readonly wake: () => void;
}

export class MasterEffects {
  private readonly gaps = new Set<PendingGap>();

  constructor(private readonly deps: MasterEffectsDeps) {}

  /** Runs `work` after the instance's earlier effects; a failure is logged and the queue goes on. */
  enqueue(rt: EffectsInstance, work: () => Promise<void>): void {
    rt.queue = rt.queue.then(work).catch((error: unknown) => {
      this.deps.logger.error({ event: 'vrrp_effect_error', instance: rt.model.name, err: (error as Error).message }, 'VRRP effect failed');
    });
  }

  /** keepalived's order: VIPs, then routes, then rules on the way up; rules, routes, then VIPs on the way down. */
  async changeVips(rt: EffectsInstance, op: 'add' | 'remove'): Promise<void> {
    if (op === 'remove') await this.changeRoutes(rt, rt.routes, rt.rules, 'remove');
    const report = op === 'add' ? await this.deps.vipManager.addAll(rt.vips) : await this.deps.vipManager.removeAll(rt.vips);
    for (const failure of report.failed) {
      rt.vipErrors++;
      this.deps.logger.error({ event: 'vip_error', instance: rt.model.name, op, vip: failure.vip.address, err: failure.error }, `cannot ${op} VIP`);
    }
    if (op === 'add') await this.changeRoutes(rt, rt.routes, rt.rules, 'add');
  }

  /** Routes then rules on add; rules then routes on remove (a rule may point at a table the routes fill). */
  async changeRoutes(rt: EffectsInstance, routes: RouteSpec[], rules: RuleSpec[], op: 'add' | 'remove'): Promise<void> {
    if (op === 'add') rt.holdsRoutes = true;
    if (routes.length + rules.length > 0) {
      const ruleReport = op === 'remove' ? await this.deps.routeManager.removeRules(rules) : undefined;
      const routeReport = op === 'add' ? await this.deps.routeManager.addRoutes(routes) : await this.deps.routeManager.removeRoutes(routes);
      const addReport = op === 'add' ? await this.deps.routeManager.addRules(rules) : undefined;
      for (const f of routeReport.failed) {
        rt.routeErrors++;
        this.deps.logger.error({ event: 'route_error', instance: rt.model.name, op, route: describeRoute(f.item), err: f.error }, `cannot ${op} virtual route`);
      }
      for (const f of [...(ruleReport?.failed ?? []), ...(addReport?.failed ?? [])]) {
        rt.routeErrors++;
        this.deps.logger.error({ event: 'route_error', instance: rt.model.name, op, rule: describeRule(f.item), err: f.error }, `cannot ${op} virtual rule`);
      }
    }
    // Only the instance's whole set (not a reload's part of it) takes the routes out of the kernel.
    if (op === 'remove' && routes === rt.routes) rt.holdsRoutes = false;
  }

  /** Part of a master's VIP list, for a reload's diff. */
  async changeVipList(rt: EffectsInstance, vips: VipSpec[], op: 'add' | 'remove'): Promise<void> {
    if (vips.length === 0) return;
    const report = op === 'add' ? await this.deps.vipManager.addAll(vips) : await this.deps.vipManager.removeAll(vips);
    for (const failure of report.failed) {
      rt.vipErrors++;
      this.deps.logger.error({ event: 'vip_error', instance: rt.model.name, op, vip: failure.vip.address, err: failure.error }, `cannot ${op} VIP`);
    }
  }

  /**
   * One burst of link updates, as keepalived's vrrp_send_link_update: `repeat` gratuitous ARPs per IPv4 VIP
   * (spaced by vrrp_garp_interval) and `repeat` unsolicited neighbour advertisements per IPv6 VIP (spaced by
   * vrrp_gna_interval), the two families side by side. Frames leave from the interface each VIP is on, with
   * its MAC (a VMAC's when the VIPs are on one). The burst ends, with nothing more sent, as soon as the
   * instance is no longer MASTER or the service stops (endBursts() cuts a gap short).
   */
  async garpBurst(rt: EffectsInstance, repeat: number, vips: VipSpec[] = rt.vips): Promise<void> {
    if (vips.length === 0) return;
    const links = new Map((await this.deps.netlink.links().catch(() => [])).map((l) => [l.name, l]));
    const arpTargets: GarpTarget[] = [];
    const naTargets: NeighbourAdvertTarget[] = [];
    for (const vip of vips) {
      const link = links.get(vip.dev);
      if (!link) continue;
      if (isIPv4(vip.address)) arpTargets.push({ ifindex: link.index, mac: link.mac, vip: vip.address });
      else naTargets.push({ ifindex: link.index, ifname: link.name, mac: link.mac, vip: vip.address });
    }
    const paced = async (count: number, gapMs: number, sendOne: () => void): Promise<void> => {
      if (count === 0) return;
      for (let i = 0; i < repeat; i++) {
        if (rt.machine.state !== 'MASTER' || this.deps.stopping()) return;
        sendOne();
        if (gapMs > 0 && i < repeat - 1) await this.gap(rt, gapMs);
      }
    };
    await Promise.all([
      paced(arpTargets.length, this.deps.model().global.vrrpGarpInterval * 1000, () => rt.garp.send(arpTargets)),
      paced(naTargets.length, this.deps.model().global.vrrpGnaInterval * 1000, () => rt.na.send(naTargets)),
    ]);
  }

  /**
   * Ends the bursts under way, of one instance (it left MASTER) or all (the service stops): a burst waiting
   * out a gap wakes now, its timer cleared, and sends nothing more (its state or the service says so).
   */
  endBursts(rt?: EffectsInstance): void {
    for (const gap of [...this.gaps]) if (rt === undefined || gap.rt === rt) gap.wake();
  }

  /** Waits ms on the clock, or until endBursts() wakes the burst. */
  private gap(rt: EffectsInstance, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const gap: PendingGap = {
        rt,
        handle: undefined,
        wake: () => {
          this.gaps.delete(gap);
          this.deps.clock.clearTimer(gap.handle);
          resolve();
        },
      };
      gap.handle = this.deps.clock.setTimer(ms, gap.wake);
      this.gaps.add(gap);
    });
  }

  /** Held leftovers: become the master's own, stay, or go at once (the rule is the core's). */
  reviewLeftoverVips(rt: EffectsInstance): void {
    const verdict = judgeLeftoverVips(rt.machine);
    if (verdict === 'keep') return;
    const vips = rt.leftoverVips;
    rt.leftoverVips = [];
    if (verdict === 'adopted') return;
    this.deps.logger.warn(
      { event: 'vips_cleared', instance: rt.model.name, state: rt.machine.state, master: rt.machine.masterIp, vips: vips.map((v) => v.address) },
      'removed VIPs left by a previous run: this start-up no longer leads to MASTER',
    );
    this.enqueue(rt, () => this.changeVipList(rt, vips, 'remove'));
  }
}
