import { realServerKey, virtualServerKey, vrrpInstanceKey, type VirtualServerKey, type VrrpInstanceKey } from '../config/keys.js';
import { canonical } from '../config/canonical.js';
import type { ConfigModel, VirtualServer, VrrpInstance } from '../config/model.js';

/**
 * What a reload changes: the running config against the newly compiled one, the one diff every part
 * reads (each field below is read by a part or by the reload's log line). Pure: no I/O, no clock.
 *
 * Identity is src/config/keys.ts: a VRRP instance is its interface + VRID + family (the name may change
 * without a transition); a virtual server is ADDR:PORT/PROTO, `fwmark N` (+ family) or `group NAME` +
 * protocol. Equality is `canonical()`, the one canonical form: source locations (`loc`) never count, so
 * moving a block in the file changes nothing, and object key order does not either.
 */
export interface ConfigDiff {
  /** By key; `changed` = present in both with different content. Read by the log lines. */
  vrrpInstances: KeyedChanges<VrrpInstanceKey>;
  virtualServers: KeyedChanges<VirtualServerKey>;
  /**
   * A virtual server or a virtual_server_group changed: the health plan and the IPVS plan both differ.
   * The health and IPVS parts act on this one predicate.
   */
  servicesChanged: boolean;
  /** lvs_timeouts, lvs_flush or lvs_flush_onstop changed (the IPVS part re-applies them). */
  lvsGlobalsChanged: boolean;
  /** Top-level sections other than instances and virtual servers whose content changed (the log line). */
  otherSectionsChanged: Array<'global' | 'vrrpScripts' | 'vrrpSyncGroups' | 'virtualServerGroups'>;
}

export interface KeyedChanges<K> {
  added: K[];
  removed: K[];
  changed: K[];
}

export function diffConfigs(before: ConfigModel, after: ConfigModel): ConfigDiff {
  const otherSectionsChanged = (['global', 'vrrpScripts', 'vrrpSyncGroups', 'virtualServerGroups'] as const).filter(
    (section) => canonical(before[section]) !== canonical(after[section]),
  );
  const virtualServers = keyedChanges(before.virtualServers, after.virtualServers, virtualServerKey, virtualServerForm);
  return {
    vrrpInstances: keyedChanges(before.vrrpInstances, after.vrrpInstances, vrrpInstanceKey, instanceForm),
    virtualServers,
    servicesChanged: !isQuiet(virtualServers) || otherSectionsChanged.includes('virtualServerGroups'),
    lvsGlobalsChanged: canonical(lvsGlobalsOf(before)) !== canonical(lvsGlobalsOf(after)),
    otherSectionsChanged: [...otherSectionsChanged],
  };
}

/** True when applying the diff would change nothing at all. */
export function isEmptyDiff(diff: ConfigDiff): boolean {
  return isQuiet(diff.vrrpInstances) && isQuiet(diff.virtualServers) && diff.otherSectionsChanged.length === 0;
}

/** Counts for the reload log line. */
export function summarizeDiff(diff: ConfigDiff): Record<string, number> {
  return {
    instancesAdded: diff.vrrpInstances.added.length,
    instancesRemoved: diff.vrrpInstances.removed.length,
    instancesChanged: diff.vrrpInstances.changed.length,
    virtualServersAdded: diff.virtualServers.added.length,
    virtualServersRemoved: diff.virtualServers.removed.length,
    virtualServersChanged: diff.virtualServers.changed.length,
  };
}

function isQuiet<K>(d: KeyedChanges<K>): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/** VIPs are a set: listing them in another order changes nothing (nor does it in the VRRP service). */
function instanceForm(i: VrrpInstance): string {
  const set = (vips: VrrpInstance['virtualIpAddresses']): string[] => vips.map(canonical).sort();
  return canonical({ ...i, virtualIpAddresses: set(i.virtualIpAddresses), virtualIpAddressesExcluded: set(i.virtualIpAddressesExcluded) });
}

/** Real servers are matched by key: listing them in another order changes nothing. */
function virtualServerForm(vs: VirtualServer): string {
  const realServers = [...vs.realServers].sort((a, b) => (realServerKey(a) < realServerKey(b) ? -1 : realServerKey(a) > realServerKey(b) ? 1 : 0));
  return canonical({ ...vs, realServers });
}

function lvsGlobalsOf(model: ConfigModel): unknown {
  const g = model.global;
  return { timeouts: g.lvsTimeouts, flush: g.lvsFlush, flushOnStop: g.lvsFlushOnStop };
}

/**
 * Matches two lists by key. A key that appears twice in one list (the compiler rejects it, but the diff
 * must not lose anything) gets an occurrence suffix, so the n-th occurrence matches the n-th.
 */
function keyedChanges<T, K extends string>(before: T[], after: T[], keyOf: (item: T) => K, formOf: (item: T) => string): KeyedChanges<K> {
  const beforeByKey = indexByKey(before, keyOf);
  const afterByKey = indexByKey(after, keyOf);
  const result: KeyedChanges<K> = { added: [], removed: [], changed: [] };
  for (const [key, item] of beforeByKey) {
    const next = afterByKey.get(key);
    if (next === undefined) result.removed.push(key);
    else if (formOf(item) !== formOf(next)) result.changed.push(key);
  }
  for (const key of afterByKey.keys()) if (!beforeByKey.has(key)) result.added.push(key);
  return result;
}

function indexByKey<T, K extends string>(items: T[], keyOf: (item: T) => K): Map<K, T> {
  const map = new Map<K, T>();
  for (const item of items) {
    const base = keyOf(item);
    let key = base;
    for (let n = 2; map.has(key); n++) key = `${base}#${n}` as K;
    map.set(key, item);
  }
  return map;
}
