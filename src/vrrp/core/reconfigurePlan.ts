/**
 * The decision of a SIGHUP reload in place (pure): whether the running instances can take a new config
 * without leaving their state, or the reason the unit restarts instead; and if they can, what changes on
 * each: the VIPs, virtual_routes and virtual_rules added and removed (set differences by canonical form,
 * so an entry that only moved to another config line is no change), and the vrrp_scripts tracked now.
 * The VRRP service (src/vrrp/service.ts) plans each instance against the live interfaces and applies
 * what this decides.
 *
 * Refused, as keepalived restarts for them too: another instance set (matched by interface, VRID and
 * family: src/config/keys.ts, so a renamed instance is the same one), other VMACs, an interface that was
 * recreated, a switch between unicast and multicast, another multicast group (another socket), or other
 * sync groups (other instances move together).
 */
import { canonical } from '../../config/canonical.js';
import { vrrpInstanceKey, type VrrpInstanceKey } from '../../config/keys.js';
import type { ConfigModel, VrrpInstance } from '../../config/model.js';
import type { VrrpInstancePlan } from './fromConfig.js';
import { addressVmacsOf } from './vmac.js';

/** A running instance as the decision sees it (the service's instance runtime is one). */
export interface RunningInstance<Vip = unknown, Route = unknown, Rule = unknown> {
  readonly model: VrrpInstance;
  /** The interface it runs on, as it was when the instance was built. */
  readonly link: { readonly name: string; readonly index: number };
  readonly plan: Pick<VrrpInstancePlan, 'receive' | 'destinations'>;
  readonly vips: readonly Vip[];
  readonly routes: readonly Route[];
  readonly rules: readonly Rule[];
}

/** An instance of the new config, planned against the live interfaces (the service's plan() gives one). */
export interface PlannedInstance<Vip = unknown, Route = unknown, Rule = unknown> {
  readonly instance: VrrpInstance;
  /** Its interface now (another index than the running instance's: the interface was recreated). */
  readonly link: { readonly index: number };
  readonly plan: Pick<VrrpInstancePlan, 'receive' | 'destinations' | 'scripts'>;
  readonly vips: readonly Vip[];
  readonly routes: readonly Route[];
  readonly rules: readonly Rule[];
}

/** What a reload changes on one instance's VIPs, routes and rules, each in the new (or old) config's order. */
export interface InstanceChange<Vip, Route, Rule> {
  vipsAdded: Vip[];
  vipsRemoved: Vip[];
  routesAdded: Route[];
  routesRemoved: Route[];
  rulesAdded: Rule[];
  rulesRemoved: Rule[];
}

type Item<List> = List extends readonly (infer T)[] ? T : never;

/** One running instance, the new config's plan for it and what changes between them. */
export interface InstanceReconfigure<R extends RunningInstance, P extends PlannedInstance> {
  running: R;
  planned: P;
  change: InstanceChange<Item<R['vips']> | Item<P['vips']>, Item<R['routes']> | Item<P['routes']>, Item<R['rules']> | Item<P['rules']>>;
}

export type ReconfigurePlan<R extends RunningInstance, P extends PlannedInstance> =
  | {
    inPlace: true;
    /** In the new config's order of instances. */
    instances: InstanceReconfigure<R, P>[];
    /** The vrrp_scripts the instances track after the reload, by name. */
    scriptsTracked: Set<string>;
  }
  | { inPlace: false; reason: string };

/** The running instances by identity (interface, VRID, family): the new config's instance of a key is that one. */
export function runningByKey<R extends RunningInstance>(running: readonly R[]): Map<VrrpInstanceKey, R> {
  return new Map(running.map((rt) => [vrrpInstanceKey(rt.model), rt]));
}

/** Refused before any instance is planned: as many instances, or it is another instance set. */
export function instanceSetRefusal(running: readonly RunningInstance[], next: ConfigModel): string | undefined {
  return next.vrrpInstances.length !== running.length ? 'instance set changed' : undefined;
}

/** Refused before the instance is planned: no running instance has its identity. */
export function unmatchedRefusal(byKey: ReadonlyMap<VrrpInstanceKey, RunningInstance>, instance: VrrpInstance): string | undefined {
  return byKey.has(vrrpInstanceKey(instance)) ? undefined : `no running instance ${vrrpInstanceKey(instance)}`;
}

/** Why the running instance cannot take its planned settings without another VMAC or socket (undefined: it can). */
export function instanceRefusal(running: RunningInstance, planned: PlannedInstance): string | undefined {
  const instance = planned.instance;
  const vmacOf = (i: VrrpInstance) => canonical([i.useVmac, i.vmacName, i.vmacMac, i.vmacXmitBase, i.useVmacAddr]);
  if (vmacOf(instance) !== vmacOf(running.model)) return `${instance.name}: VMAC settings changed`;
  if (canonical(addressVmacsOf(instance, running.link.name)) !== canonical(addressVmacsOf(running.model, running.link.name))) {
    return `${instance.name}: use_vmac_addr VMACs changed`;
  }
  if (planned.link.index !== running.link.index) return `interface ${running.link.name} was recreated`;
  const wasMulticast = running.plan.receive.unicastPeers.length === 0;
  const isMulticast = planned.plan.receive.unicastPeers.length === 0;
  if (wasMulticast !== isMulticast) return `${instance.name}: unicast/multicast changed`;
  if (isMulticast && canonical(planned.plan.destinations) !== canonical(running.plan.destinations)) {
    return `${instance.name}: multicast group changed`;
  }
  return undefined;
}

/** Refused when the sync groups differ by name or members (members by instance key, so renamed ones still match). */
export function syncGroupsRefusal(current: ConfigModel, next: ConfigModel): string | undefined {
  const groupsOf = (model: ConfigModel, name: (member: string) => string | undefined) =>
    canonical(model.vrrpSyncGroups.map((g) => ({ name: g.name, members: g.group.map(name).sort() })).sort((a, b) => a.name.localeCompare(b.name)));
  const keyOfName = (model: ConfigModel) => (member: string) => {
    const i = model.vrrpInstances.find((x) => x.name === member);
    return i ? vrrpInstanceKey(i) : undefined;
  };
  return groupsOf(current, keyOfName(current)) !== groupsOf(next, keyOfName(next)) ? 'sync groups changed' : undefined;
}

/** The VIPs, routes and rules added and removed, as set differences by canonical form (`loc` is no part of it). */
export function instanceChange<Vip, Route, Rule>(
  running: Pick<RunningInstance<Vip, Route, Rule>, 'vips' | 'routes' | 'rules'>,
  planned: Pick<PlannedInstance<Vip, Route, Rule>, 'vips' | 'routes' | 'rules'>,
): InstanceChange<Vip, Route, Rule> {
  const [vipsAdded, vipsRemoved] = setDifference(running.vips, planned.vips);
  const [routesAdded, routesRemoved] = setDifference(running.routes, planned.routes);
  const [rulesAdded, rulesRemoved] = setDifference(running.rules, planned.rules);
  return { vipsAdded, vipsRemoved, routesAdded, routesRemoved, rulesAdded, rulesRemoved };
}

/** [in `after` only, in `before` only], each in its list's order, equal entries by canonical form. */
function setDifference<T>(before: readonly T[], after: readonly T[]): [T[], T[]] {
  const was = new Map(before.map((v) => [canonical(v), v]));
  const is = new Map(after.map((v) => [canonical(v), v]));
  return [[...is].filter(([k]) => !was.has(k)).map(([, v]) => v), [...was].filter(([k]) => !is.has(k)).map(([, v]) => v)];
}

/**
 * The whole decision: `planned` holds the plan of each of `next`'s instances, in its order. The refusals
 * are checked in the order the service meets them while it plans (it stops planning at the first), so
 * the reason given is the same either way.
 */
export function planReconfigure<R extends RunningInstance, P extends PlannedInstance>(input: {
  current: ConfigModel;
  next: ConfigModel;
  running: readonly R[];
  planned: readonly P[];
}): ReconfigurePlan<R, P> {
  const { current, next, running, planned } = input;
  const byKey = runningByKey(running);
  const setRefusal = instanceSetRefusal(running, next);
  if (setRefusal !== undefined) return { inPlace: false, reason: setRefusal };
  const instances: InstanceReconfigure<R, P>[] = [];
  for (const [i, instance] of next.vrrpInstances.entries()) {
    const unmatched = unmatchedRefusal(byKey, instance);
    if (unmatched !== undefined) return { inPlace: false, reason: unmatched };
    const rt = byKey.get(vrrpInstanceKey(instance))!;
    const plan = planned[i];
    if (plan === undefined || plan.instance !== instance) throw new Error(`planReconfigure: no plan for vrrp_instance ${instance.name}`);
    const refusal = instanceRefusal(rt, plan);
    if (refusal !== undefined) return { inPlace: false, reason: refusal };
    instances.push({ running: rt, planned: plan, change: instanceChange<unknown, unknown, unknown>(rt, plan) as InstanceReconfigure<R, P>['change'] });
  }
  const groups = syncGroupsRefusal(current, next);
  if (groups !== undefined) return { inPlace: false, reason: groups };
  return { inPlace: true, instances, scriptsTracked: new Set(instances.flatMap((p) => p.planned.plan.scripts.map((s) => s.name))) };
}
