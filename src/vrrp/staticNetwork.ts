import type { ConfigModel } from '../config/model.js';
import type { RouteEntry, RuleEntry } from '../net/routeCodec.js';
import { RouteManager, type ChangeReport, type RouteSpec, type RuleSpec } from '../net/routeManager.js';
import type { RtNetlink } from '../net/rtnetlink.js';
import type { Logger } from '../util/log.js';
import { VipManager, type VipSpec } from './edge/vipManager.js';
import { describeRoute, describeRule, routeSpecOf, ruleSpecOf } from './routeSpecs.js';

/**
 * `static_ipaddress`, `static_routes`, `static_rules`: held while the VRRP side runs, whatever the
 * instances' states (keepalived adds them at start and removes them at stop). A reload changes only what
 * changed. At start it also clears what a previous run left: every route and rule of keepalived's protocol
 * (18) that is not a static one of this config, in every table and both families — a crashed run's
 * virtual routes (an instance starts as BACKUP and adds its own again when it becomes MASTER) and the
 * static ones a changed config no longer has. That is safe because protocol 18 is keepalived's own marker
 * (no routing daemon or distribution tool uses it) and tslvsd replaces keepalived: the one thing it would
 * wrongly clear is the routes of a keepalived running on the same host at the same time, which cannot work
 * anyway (both would run VRRP for the same routers). Addresses carry no such marker: a static address a
 * changed config dropped while tslvsd was down stays (as with keepalived).
 */

export const KEEPALIVED_ROUTE_PROTOCOL = 18;

export interface StaticNetworkStatus {
  addresses: string[];
  routes: string[];
  rules: string[];
  errors: number;
}

interface Desired {
  addresses: VipSpec[];
  routes: RouteSpec[];
  rules: RuleSpec[];
}

export class StaticNetwork {
  private readonly routes: RouteManager;
  private readonly vips: VipManager;
  private held: Desired = { addresses: [], routes: [], rules: [] };
  private errors = 0;

  constructor(
    private readonly netlink: RtNetlink,
    private readonly logger: Logger,
  ) {
    this.routes = new RouteManager(netlink);
    this.vips = new VipManager(netlink);
  }

  async start(model: ConfigModel): Promise<void> {
    const desired = desiredOf(model);
    await this.clearLeftovers(desired);
    await this.add(desired);
    this.held = desired;
  }

  /** Diff-applies the new static set: what did not change is not touched. */
  async reload(next: ConfigModel): Promise<void> {
    const desired = desiredOf(next);
    const gone = { addresses: minus(this.held.addresses, desired.addresses), routes: minus(this.held.routes, desired.routes), rules: minus(this.held.rules, desired.rules) };
    const added = { addresses: minus(desired.addresses, this.held.addresses), routes: minus(desired.routes, this.held.routes), rules: minus(desired.rules, this.held.rules) };
    await this.remove(gone);
    await this.add(added);
    this.held = desired;
    if (gone.addresses.length + gone.routes.length + gone.rules.length + added.addresses.length + added.routes.length + added.rules.length > 0) {
      this.logger.info(
        { event: 'static_reloaded', routesAdded: added.routes.map(describeRoute), routesRemoved: gone.routes.map(describeRoute), rulesAdded: added.rules.map(describeRule), rulesRemoved: gone.rules.map(describeRule), addressesAdded: added.addresses.map((a) => a.address), addressesRemoved: gone.addresses.map((a) => a.address) },
        'static addresses/routes/rules changed',
      );
    }
  }

  async stop(): Promise<void> {
    await this.remove(this.held);
    this.held = { addresses: [], routes: [], rules: [] };
  }

  status(): StaticNetworkStatus {
    return {
      addresses: this.held.addresses.map((a) => `${a.address}/${a.prefixLength} dev ${a.dev}`),
      routes: this.held.routes.map(describeRoute),
      rules: this.held.rules.map(describeRule),
      errors: this.errors,
    };
  }

  private async clearLeftovers(desired: Desired): Promise<void> {
    const ours = await this.routes.withProtocol(KEEPALIVED_ROUTE_PROTOCOL);
    const links = await this.netlink.links().catch(() => []);
    const indexOf = new Map(links.map((l) => [l.name, l.index]));
    const staleRoutes = ours.routes.filter((entry) => !desired.routes.some((spec) => routeMatches(entry, spec, indexOf.get(spec.dev ?? ''))));
    const staleRules = ours.rules.filter((entry) => !desired.rules.some((spec) => ruleMatches(entry, spec)));
    if (staleRoutes.length + staleRules.length === 0) return;
    const removed = await this.routes.removeEntries(staleRoutes, staleRules);
    this.logger.warn(
      { event: 'routes_cleared', count: removed, routes: staleRoutes.map((r) => `${r.destination}/${r.prefixLength} table ${r.table}`), rules: staleRules.map((r) => `${r.priority ?? 0}`) },
      'removed routes and rules of protocol keepalived (18) left by a previous run',
    );
  }

  /** Addresses, then routes, then rules (a route may need the address as its source). */
  private async add(d: Desired): Promise<void> {
    this.report('add', await this.vips.addAll(d.addresses), (a) => a.address);
    this.report('add', await this.routes.addRoutes(d.routes), describeRoute);
    this.report('add', await this.routes.addRules(d.rules), describeRule);
  }

  private async remove(d: Desired): Promise<void> {
    this.report('remove', await this.routes.removeRules(d.rules), describeRule);
    this.report('remove', await this.routes.removeRoutes(d.routes), describeRoute);
    this.report('remove', await this.vips.removeAll(d.addresses), (a) => a.address);
  }

  private report<T>(op: string, r: ChangeReport<T> | { failed: { vip: T; error: string }[] }, name: (item: T) => string): void {
    for (const f of r.failed) {
      this.errors++;
      const item = 'item' in f ? f.item : f.vip;
      this.logger.error({ event: 'static_error', op, what: name(item as T), err: f.error }, `cannot ${op} static ${name(item as T)}`);
    }
  }
}

function desiredOf(model: ConfigModel): Desired {
  return {
    addresses: model.staticIpAddresses.map((a) => {
      const spec: VipSpec = { address: a.address, prefixLength: a.prefixLength, dev: a.dev ?? '' };
      if (a.broadcast !== undefined) spec.broadcast = a.broadcast;
      if (a.scope !== undefined) spec.scope = a.scope;
      if (a.label !== undefined) spec.label = a.label;
      if (a.noPrefixRoute) spec.noPrefixRoute = true;
      return spec;
    }),
    routes: model.staticRoutes.map(routeSpecOf),
    rules: model.staticRules.map(ruleSpecOf),
  };
}

function minus<T>(a: readonly T[], b: readonly T[]): T[] {
  const keys = new Set(b.map((x) => JSON.stringify(x)));
  return a.filter((x) => !keys.has(JSON.stringify(x)));
}

/** A dumped route is this spec (what the kernel reports back for it: IPv6 metric 1024 when none was given). */
export function routeMatches(entry: RouteEntry, spec: RouteSpec, oif: number | undefined): boolean {
  const metric = spec.metric ?? (spec.family === 'inet6' ? 1024 : 0);
  return entry.family === spec.family && entry.destination === spec.destination && entry.prefixLength === spec.prefixLength &&
    entry.table === spec.table && entry.type === spec.type && entry.gateway === spec.via && entry.preferredSource === spec.src &&
    (spec.dev === undefined || entry.oif === oif) && (entry.metric ?? 0) === metric && entry.tos === (spec.tos ?? 0);
}

/** A dumped rule is this spec (the kernel reports a full mask for a fwmark given without one). */
export function ruleMatches(entry: RuleEntry, spec: RuleSpec): boolean {
  const mask = spec.fwmark !== undefined ? (spec.fwmask ?? 0xffff_ffff) : undefined;
  const prefix = (p: RuleSpec['from']) => (p ? `${p.address}/${p.prefixLength}` : '');
  return entry.family === spec.family && prefix(entry.from) === prefix(spec.from) && prefix(entry.to) === prefix(spec.to) &&
    entry.action === spec.action && (entry.action !== 'table' || entry.table === (spec.table ?? 254)) &&
    (entry.priority ?? 0) === (spec.priority ?? 0) && entry.fwmark === spec.fwmark && (entry.fwmark === undefined || entry.fwmask === mask) &&
    entry.iif === spec.iif && entry.oif === spec.oif && entry.tos === spec.tos;
}
