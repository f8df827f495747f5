import type { ConfigModel, RealServer, VirtualIpAddress, VirtualServer, VrrpInstance } from '../config/model.js';

/**
 * What a reload changes: the running config against the newly compiled one, as a diff the runtime applies
 * in place. Pure: no I/O, no clock.
 *
 * Identity (what "the same thing" means across a reload):
 * - a VRRP instance is its interface + VRID + address family (keepalived's own identity on the wire; the
 *   instance *name* may change without a transition);
 * - a virtual server is ADDR:PORT/PROTO, `fwmark N` or `group NAME` (+ family) — the IPVS service key;
 * - a real server is ADDR:PORT within its virtual server;
 * - a VIP is its whole line (address, prefix, dev, brd, scope, label …): editing any part is remove + add.
 * Source locations (`loc`) never count as a change: moving a block in the file changes nothing.
 */
export interface ConfigDiff {
  vrrpInstances: KeyedDiff<VrrpInstance, VrrpInstanceChange>;
  virtualServers: KeyedDiff<VirtualServer, VirtualServerChange>;
  /** Top-level sections other than instances and virtual servers whose content changed. */
  otherSectionsChanged: Array<'global' | 'vrrpScripts' | 'vrrpSyncGroups' | 'virtualServerGroups'>;
}

export interface KeyedDiff<T, C> {
  added: T[];
  removed: T[];
  /** Present in both: matched by key, possibly with changes. */
  kept: C[];
}

export interface VrrpInstanceChange {
  key: string;
  before: VrrpInstance;
  after: VrrpInstance;
  vipsAdded: VirtualIpAddress[];
  vipsRemoved: VirtualIpAddress[];
  excludedVipsAdded: VirtualIpAddress[];
  excludedVipsRemoved: VirtualIpAddress[];
  /** Other fields that differ (priority, advertInt, name, …), applied without a state transition. */
  fieldsChanged: string[];
  unchanged: boolean;
}

export interface VirtualServerChange {
  key: string;
  before: VirtualServer;
  after: VirtualServer;
  /** Fields of the service itself (lbAlgo, persistence, quorum …); real servers are compared below. */
  fieldsChanged: string[];
  realServers: KeyedDiff<RealServer, RealServerChange>;
  unchanged: boolean;
}

export interface RealServerChange {
  key: string;
  before: RealServer;
  after: RealServer;
  fieldsChanged: string[];
  /** Its checkers changed: its health state starts afresh. Otherwise it keeps its state. */
  checkersChanged: boolean;
  unchanged: boolean;
}

export function vrrpInstanceKey(instance: VrrpInstance): string {
  return `${instance.interface ?? '-'}/vrid ${instance.virtualRouterId}/${instance.family}`;
}

export function virtualServerKey(vs: VirtualServer): string {
  if (vs.fwmark !== undefined) return `fwmark ${vs.fwmark}/${vs.family}`;
  if (vs.group !== undefined) return `group ${vs.group}/${vs.protocol}`;
  return `${hostPort(vs.address ?? '', vs.port ?? 0)}/${vs.protocol}`;
}

export function realServerKey(rs: RealServer): string {
  return hostPort(rs.address, rs.port);
}

export function vipKey(vip: VirtualIpAddress): string {
  return canonical(vip);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function diffConfigs(before: ConfigModel, after: ConfigModel): ConfigDiff {
  const otherSectionsChanged = (['global', 'vrrpScripts', 'vrrpSyncGroups', 'virtualServerGroups'] as const).filter(
    (section) => canonical(before[section]) !== canonical(after[section]),
  );
  return {
    vrrpInstances: keyedDiff(before.vrrpInstances, after.vrrpInstances, vrrpInstanceKey, diffInstance),
    virtualServers: keyedDiff(before.virtualServers, after.virtualServers, virtualServerKey, diffVirtualServer),
    otherSectionsChanged: [...otherSectionsChanged],
  };
}

/** True when applying the diff would change nothing at all. */
export function isEmptyDiff(diff: ConfigDiff): boolean {
  const quiet = <T, C extends { unchanged: boolean }>(d: KeyedDiff<T, C>): boolean =>
    d.added.length === 0 && d.removed.length === 0 && d.kept.every((k) => k.unchanged);
  return quiet(diff.vrrpInstances) && quiet(diff.virtualServers) && diff.otherSectionsChanged.length === 0;
}

/** Counts for the reload log line. */
export function summarizeDiff(diff: ConfigDiff): Record<string, number> {
  const changed = <C extends { unchanged: boolean }>(kept: C[]): number => kept.filter((k) => !k.unchanged).length;
  const rs = diff.virtualServers.kept.map((k) => k.realServers);
  return {
    instancesAdded: diff.vrrpInstances.added.length,
    instancesRemoved: diff.vrrpInstances.removed.length,
    instancesChanged: changed(diff.vrrpInstances.kept),
    virtualServersAdded: diff.virtualServers.added.length,
    virtualServersRemoved: diff.virtualServers.removed.length,
    virtualServersChanged: changed(diff.virtualServers.kept),
    realServersAdded: rs.reduce((n, d) => n + d.added.length, 0),
    realServersRemoved: rs.reduce((n, d) => n + d.removed.length, 0),
    realServersChanged: rs.reduce((n, d) => n + changed(d.kept), 0),
  };
}

function diffInstance(key: string, before: VrrpInstance, after: VrrpInstance): VrrpInstanceChange {
  const vips = setDiff(before.virtualIpAddresses, after.virtualIpAddresses, vipKey);
  const excluded = setDiff(before.virtualIpAddressesExcluded, after.virtualIpAddressesExcluded, vipKey);
  const fieldsChanged = changedFields(before, after, ['virtualIpAddresses', 'virtualIpAddressesExcluded']);
  return {
    key,
    before,
    after,
    vipsAdded: vips.added,
    vipsRemoved: vips.removed,
    excludedVipsAdded: excluded.added,
    excludedVipsRemoved: excluded.removed,
    fieldsChanged,
    unchanged: fieldsChanged.length === 0 && vips.added.length + vips.removed.length + excluded.added.length + excluded.removed.length === 0,
  };
}

function diffVirtualServer(key: string, before: VirtualServer, after: VirtualServer): VirtualServerChange {
  const realServers = keyedDiff(before.realServers, after.realServers, realServerKey, diffRealServer);
  const fieldsChanged = changedFields(before, after, ['realServers']);
  return {
    key,
    before,
    after,
    fieldsChanged,
    realServers,
    unchanged:
      fieldsChanged.length === 0 && realServers.added.length === 0 && realServers.removed.length === 0 && realServers.kept.every((k) => k.unchanged),
  };
}

function diffRealServer(key: string, before: RealServer, after: RealServer): RealServerChange {
  const fieldsChanged = changedFields(before, after, []);
  return { key, before, after, fieldsChanged, checkersChanged: fieldsChanged.includes('checkers'), unchanged: fieldsChanged.length === 0 };
}

/**
 * Matches two lists by key. A key that appears twice in one list (the compiler should reject it, but the
 * diff must not lose anything) gets an occurrence suffix, so the n-th occurrence matches the n-th.
 */
function keyedDiff<T, C>(before: T[], after: T[], keyOf: (item: T) => string, compare: (key: string, a: T, b: T) => C): KeyedDiff<T, C> {
  const beforeByKey = indexByKey(before, keyOf);
  const afterByKey = indexByKey(after, keyOf);
  const result: KeyedDiff<T, C> = { added: [], removed: [], kept: [] };
  for (const [key, item] of beforeByKey) {
    const next = afterByKey.get(key);
    if (next === undefined) result.removed.push(item);
    else result.kept.push(compare(key, item, next));
  }
  for (const [key, item] of afterByKey) if (!beforeByKey.has(key)) result.added.push(item);
  return result;
}

function indexByKey<T>(items: T[], keyOf: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    const base = keyOf(item);
    let key = base;
    for (let n = 2; map.has(key); n++) key = `${base}#${n}`;
    map.set(key, item);
  }
  return map;
}

function setDiff<T>(before: T[], after: T[], keyOf: (item: T) => string): { added: T[]; removed: T[] } {
  const beforeKeys = new Set(before.map(keyOf));
  const afterKeys = new Set(after.map(keyOf));
  return { added: after.filter((x) => !beforeKeys.has(keyOf(x))), removed: before.filter((x) => !afterKeys.has(keyOf(x))) };
}

/** Names of the top-level fields that differ, ignoring `loc` and the fields the caller compares itself. */
function changedFields<T extends object>(before: T, after: T, skip: string[]): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const name of [...names].sort()) {
    if (name === 'loc' || skip.includes(name)) continue;
    const a = (before as Record<string, unknown>)[name];
    const b = (after as Record<string, unknown>)[name];
    if (canonical(a) !== canonical(b)) changed.push(name);
  }
  return changed;
}

/** A stable text form for equality: object keys sorted, `loc` dropped at every depth, undefined omitted. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (k !== 'loc') sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  }) ?? 'undefined';
}
