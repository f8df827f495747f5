import type { RtNetlink } from './rtnetlink.js';
import { RT_SCOPE_UNIVERSE, type Family, type RouteEntry, type RouteType, type RuleEntry } from './routeCodec.js';

/**
 * Puts routes and policy rules in and out of the kernel over rtnetlink, each on its own: one that fails
 * (interface gone, kernel refusal) is reported and the rest still go, as VIPs do (vipManager.ts). Table and
 * protocol are fields of every route, so any room can hold routes of its own: VRRP's virtual/static routes
 * (keepalived's protocol 18) and, later, announced VIP routes (`announce_route`, their own table and id).
 * Adding what is there and removing what is gone are 'unchanged', never errors.
 */

/** A route by interface name (resolved to an index per call: an interface recreated since has a new one). */
export interface RouteSpec {
  family: Family;
  destination: string;
  prefixLength: number;
  type: RouteType;
  table: number;
  protocol: number;
  /** rtm_scope; absent = universe (keepalived's default, whatever the route). */
  scope?: number;
  via?: string;
  /** Preferred source address (`src`). */
  src?: string;
  dev?: string;
  metric?: number;
  onlink?: boolean;
  tos?: number;
}

/** A rule; `iif`/`oif` are interface names already (the kernel matches rules by name). */
export type RuleSpec = RuleEntry;

export interface ChangeReport<T> {
  changed: number;
  unchanged: number;
  failed: { item: T; error: string }[];
}

export class RouteManager {
  constructor(private readonly netlink: RtNetlink) {}

  async addRoutes(routes: readonly RouteSpec[]): Promise<ChangeReport<RouteSpec>> {
    return await this.applyRoutes(routes, (r) => this.netlink.addRoute(r));
  }

  async removeRoutes(routes: readonly RouteSpec[]): Promise<ChangeReport<RouteSpec>> {
    return await this.applyRoutes(routes, (r) => this.netlink.removeRoute(r));
  }

  async addRules(rules: readonly RuleSpec[]): Promise<ChangeReport<RuleSpec>> {
    return await apply(rules, (r) => this.netlink.addRule(r));
  }

  async removeRules(rules: readonly RuleSpec[]): Promise<ChangeReport<RuleSpec>> {
    return await apply(rules, (r) => this.netlink.removeRule(r));
  }

  /** The routes and rules in the kernel with that protocol (what a previous run of the owner left). */
  async withProtocol(protocol: number): Promise<{ routes: RouteEntry[]; rules: RuleEntry[] }> {
    const [routes, rules] = [await this.netlink.routes(), await this.netlink.rules()];
    return { routes: routes.filter((r) => r.protocol === protocol), rules: rules.filter((r) => r.protocol === protocol) };
  }

  /** Removes kernel entries as dumped (leftovers): routes are matched by their own fields, index included. */
  async removeEntries(routes: readonly RouteEntry[], rules: readonly RuleEntry[]): Promise<number> {
    let removed = 0;
    for (const route of routes) if ((await this.netlink.removeRoute(route).catch(() => 'unchanged')) === 'changed') removed++;
    for (const rule of rules) if ((await this.netlink.removeRule(rule).catch(() => 'unchanged')) === 'changed') removed++;
    return removed;
  }

  private async applyRoutes(routes: readonly RouteSpec[], op: (route: RouteEntry) => Promise<'changed' | 'unchanged'>): Promise<ChangeReport<RouteSpec>> {
    if (routes.length === 0) return { changed: 0, unchanged: 0, failed: [] };
    const needIndex = routes.some((r) => r.dev !== undefined);
    const links = needIndex ? await this.netlink.links().catch(() => []) : [];
    const indexByName = new Map(links.map((l) => [l.name, l.index]));
    const failed: { item: RouteSpec; error: string }[] = [];
    const resolved: { item: RouteSpec; entry: RouteEntry }[] = [];
    for (const item of routes) {
      const oif = item.dev === undefined ? undefined : indexByName.get(item.dev);
      if (item.dev !== undefined && oif === undefined) failed.push({ item, error: `no interface ${item.dev}` });
      else resolved.push({ item, entry: toRouteEntry(item, oif) });
    }
    const report = await apply(resolved, ({ entry }) => op(entry));
    return { changed: report.changed, unchanged: report.unchanged, failed: [...failed, ...report.failed.map((f) => ({ item: f.item.item, error: f.error }))] };
  }
}

export function toRouteEntry(spec: RouteSpec, oif: number | undefined): RouteEntry {
  const entry: RouteEntry = {
    family: spec.family,
    destination: spec.destination,
    prefixLength: spec.prefixLength,
    type: spec.type,
    table: spec.table,
    protocol: spec.protocol,
    scope: spec.scope ?? RT_SCOPE_UNIVERSE,
    onlink: spec.onlink === true,
    tos: spec.tos ?? 0,
  };
  if (spec.via !== undefined) entry.gateway = spec.via;
  if (spec.src !== undefined) entry.preferredSource = spec.src;
  if (oif !== undefined) entry.oif = oif;
  if (spec.metric !== undefined) entry.metric = spec.metric;
  return entry;
}

/**
 * What identifies a route in the kernel (fib_table_insert's key: table, destination/length, tos, metric);
 * two specs with one key cannot both be there.
 */
export function routeKey(r: Pick<RouteSpec, 'family' | 'table' | 'destination' | 'prefixLength' | 'tos' | 'metric'>): string {
  return `${r.family} ${r.table} ${r.destination}/${r.prefixLength} tos ${r.tos ?? 0} metric ${r.metric ?? 0}`;
}

/** Runs the operations one after the other (rtnetlink requests are serialised on the socket anyway). */
async function apply<T>(items: readonly T[], op: (item: T) => Promise<'changed' | 'unchanged'>): Promise<ChangeReport<T>> {
  const report: ChangeReport<T> = { changed: 0, unchanged: 0, failed: [] };
  for (const item of items) {
    try {
      if ((await op(item)) === 'changed') report.changed++;
      else report.unchanged++;
    } catch (error) {
      report.failed.push({ item, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}
