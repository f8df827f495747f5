import { RouteManager, type RouteSpec } from '../net/routeManager.js';
import type { RtNetlink } from '../net/rtnetlink.js';
import { ANNOUNCED_ROUTE_FORM, type HostRoute } from './announcePlan.js';
import { hostRoutePrefix } from '../config/keys.js';

/** rtnetlink.h RT_SCOPE_LINK: what `ip route add VIP/32 dev lo` sets (ANNOUNCED_ROUTE_FORM.scope). */
const RT_SCOPE_LINK = 253;

/** What the announce part needs of the kernel: announced routes of one table in, out, and listed. */
export interface AnnouncedRouteTable {
  /** The routes of protocol 249 in `table` (what this or a previous run holds there). */
  list(table: number): Promise<HostRoute[]>;
  add(routes: readonly HostRoute[]): Promise<RouteOutcome>;
  remove(routes: readonly HostRoute[]): Promise<RouteOutcome>;
  close(): void;
}

/** Which routes changed the kernel, and which failed (with the kernel's reason). */
export interface RouteOutcome {
  done: HostRoute[];
  failed: { route: HostRoute; error: string }[];
}

/**
 * The kernel side of announce_route over rtnetlink (src/net/routeManager.ts): every route in the one form
 * of ANNOUNCED_ROUTE_FORM. A route already there (add) or already gone (delete) counts as done.
 */
export class KernelAnnouncedRoutes implements AnnouncedRouteTable {
  private readonly routes: RouteManager;

  constructor(private readonly netlink: RtNetlink) {
    this.routes = new RouteManager(netlink);
  }

  async list(table: number): Promise<HostRoute[]> {
    const { routes } = await this.routes.withProtocol(ANNOUNCED_ROUTE_FORM.protocol);
    return routes
      .filter((r) => r.table === table && r.prefixLength === (r.family === 'inet' ? 32 : 128))
      .map((r) => ({ family: r.family, address: r.destination, prefix: hostRoutePrefix(r.destination), table: r.table }));
  }

  async add(routes: readonly HostRoute[]): Promise<RouteOutcome> {
    return await this.each(routes, (spec) => this.routes.addRoutes([spec]));
  }

  async remove(routes: readonly HostRoute[]): Promise<RouteOutcome> {
    return await this.each(routes, (spec) => this.routes.removeRoutes([spec]));
  }

  close(): void {
    this.netlink.close();
  }

  private async each(routes: readonly HostRoute[], op: (spec: RouteSpec) => Promise<{ failed: { error: string }[] }>): Promise<RouteOutcome> {
    const outcome: RouteOutcome = { done: [], failed: [] };
    for (const route of routes) {
      const report = await op(routeSpec(route));
      const failure = report.failed[0];
      if (failure) outcome.failed.push({ route, error: failure.error });
      else outcome.done.push(route);
    }
    return outcome;
  }
}

/** The kernel form of one announced route. */
export function routeSpec(route: HostRoute): RouteSpec {
  return {
    family: route.family,
    destination: route.address,
    prefixLength: route.family === 'inet' ? 32 : 128,
    type: ANNOUNCED_ROUTE_FORM.type,
    table: route.table,
    protocol: ANNOUNCED_ROUTE_FORM.protocol,
    scope: RT_SCOPE_LINK,
    dev: ANNOUNCED_ROUTE_FORM.dev,
  };
}
