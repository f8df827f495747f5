import { hostRoutePrefix, virtualServerKey, type HostRoutePrefix, type VirtualServerKey } from '../config/keys.js';
import type { ConfigModel } from '../config/model.js';
import { addressRange } from '../util/ipAddress.js';

/**
 * The desired state of announce_route (issue 11), pure: from the compiled config and each virtual server's
 * quorum, the host routes tslvsd holds for a routing daemon (BIRD, FRR) to announce, and the difference
 * between what is held and what is wanted. No sockets, no clock: the edge (src/announce/kernelRoutes.ts)
 * puts the routes in the kernel and the daemon part (src/daemon/announcePart.ts) decides when.
 *
 * Every route has one form, the one the shipped BIRD/FRR recipes learn (ANNOUNCED_ROUTE_FORM):
 * `ip route replace VIP/32 dev lo table T proto 249` — type unicast, scope link, through `lo`.
 */

/** The route protocol id of announced routes (`proto 249`; /etc/iproute2/rt_protos.d name "tslvsd"). */
export const RTPROT_TSLVSD = 249;

/**
 * The form of every announced route, besides its prefix and table. `dev lo` and scope link are what
 * `ip route add VIP/32 dev lo` gives: a routing daemon sees a direct route it can export; the kernel never
 * uses it for forwarding (the VIP is a local address, matched in the local table first).
 */
export const ANNOUNCED_ROUTE_FORM = { type: 'unicast', dev: 'lo', scope: 'link', protocol: RTPROT_TSLVSD } as const;

/** Largest virtual_server_group range expanded (as the IPVS plan: one octet / one IPv6 group). */
const MAX_RANGE = 256;

/** One route in one table. */
export interface HostRoute {
  family: 'inet' | 'inet6';
  address: string;
  prefix: HostRoutePrefix;
  table: number;
}

/** A virtual server with announce_route and the prefixes it asks for. */
export interface AnnounceTarget {
  virtualServer: VirtualServerKey;
  routes: HostRoute[];
}

/** What to do to go from the held routes to the desired ones: adds first, then deletes. */
export interface RouteChanges {
  add: HostRoute[];
  remove: HostRoute[];
}

/** Quorum as the health checks last told it: undefined while not known yet (start-up, new virtual server). */
export type QuorumOf = (virtualServer: VirtualServerKey) => boolean | undefined;

/** The one identity of a held route (table and prefix), for sets and maps. */
export function heldRouteId(route: Pick<HostRoute, 'table' | 'prefix'>): string {
  return `${route.table} ${route.prefix}`;
}

/** True when the config asks for any announced route (else nothing of announce_route runs). */
export function announcesRoutes(model: ConfigModel): boolean {
  return model.virtualServers.some((vs) => vs.announceRoute === true);
}

/**
 * Every virtual server with announce_route, with its routes: its address, or every address of its group
 * (ranges expanded; fwmark entries have none). Each route is in `global_defs announce_route_table`.
 */
export function announceTargets(model: ConfigModel): AnnounceTarget[] {
  const table = model.global.announceRouteTable;
  const groups = new Map(model.virtualServerGroups.map((g) => [g.name, g]));
  const route = (address: string): HostRoute => ({ family: address.includes(':') ? 'inet6' : 'inet', address, prefix: hostRoutePrefix(address), table });
  const targets: AnnounceTarget[] = [];
  for (const vs of model.virtualServers) {
    if (vs.announceRoute !== true) continue;
    let addresses: string[];
    if (vs.group !== undefined) {
      addresses = (groups.get(vs.group)?.entries ?? []).flatMap((e) => (e.kind === 'address' ? addressRange(e.address, e.lastAddress, MAX_RANGE) : []));
    } else addresses = vs.address !== undefined ? [vs.address] : [];
    const unique = new Map(addresses.map((a) => [hostRoutePrefix(a), route(a)]));
    targets.push({ virtualServer: virtualServerKey(vs), routes: [...unique.values()] });
  }
  return targets;
}

/**
 * The routes to hold now. A prefix is wanted while at least one virtual server announcing it has its
 * quorum up (withdrawing it would also take away the services of that VIP that still work); while none is
 * up but one is not known yet, a held route stays as it is (a restart after kill -9 does not withdraw a
 * route its checks will confirm), and one not held is not added.
 */
export function desiredRoutes(targets: readonly AnnounceTarget[], quorumOf: QuorumOf, held: readonly HostRoute[]): HostRoute[] {
  const heldIds = new Set(held.map(heldRouteId));
  const verdict = new Map<string, { route: HostRoute; up: boolean; unknown: boolean }>();
  for (const target of targets) {
    const quorum = quorumOf(target.virtualServer);
    for (const route of target.routes) {
      const id = heldRouteId(route);
      const v = verdict.get(id) ?? { route, up: false, unknown: false };
      if (quorum === true) v.up = true;
      else if (quorum === undefined) v.unknown = true;
      verdict.set(id, v);
    }
  }
  return [...verdict.entries()].filter(([id, v]) => v.up || (v.unknown && heldIds.has(id))).map(([, v]) => v.route);
}

/** Adds (wanted, not held) and deletes (held, not wanted), each by table and prefix, in a stable order. */
export function routeChanges(held: readonly HostRoute[], desired: readonly HostRoute[]): RouteChanges {
  const heldIds = new Set(held.map(heldRouteId));
  const desiredIds = new Set(desired.map(heldRouteId));
  const byId = (a: HostRoute, b: HostRoute): number => (heldRouteId(a) < heldRouteId(b) ? -1 : heldRouteId(a) > heldRouteId(b) ? 1 : 0);
  return {
    add: unique(desired.filter((r) => !heldIds.has(heldRouteId(r)))).sort(byId),
    remove: unique(held.filter((r) => !desiredIds.has(heldRouteId(r)))).sort(byId),
  };
}

/**
 * Per virtual server and prefix, whether the route is held now (the metric and the status): a prefix two
 * virtual servers announce shows under both.
 */
export function announcedRouteStates(targets: readonly AnnounceTarget[], held: readonly HostRoute[]): { virtualServer: VirtualServerKey; prefix: HostRoutePrefix; table: number; announced: boolean }[] {
  const heldIds = new Set(held.map(heldRouteId));
  return targets.flatMap((t) => t.routes.map((r) => ({ virtualServer: t.virtualServer, prefix: r.prefix, table: r.table, announced: heldIds.has(heldRouteId(r)) })));
}

function unique(routes: HostRoute[]): HostRoute[] {
  return [...new Map(routes.map((r) => [heldRouteId(r), r])).values()];
}
