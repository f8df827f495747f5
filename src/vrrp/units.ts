/**
 * How VRRP instances are grouped to run, and when a group must change at a reload: the unit/restart decision
 * of the VRRP room (issue 14), pure. The daemon's VRRP part (src/daemon/vrrpPart.ts) runs one service per
 * unit and compares fingerprints; what a changed unit can take in place is the service's `reconfigure`.
 */
import { canonical } from '../config/canonical.js';
import { vrrpInstanceKey } from '../config/keys.js';
import type { ConfigModel, VrrpInstance } from '../config/model.js';

/**
 * The model split into units: each sync group with its members, each other instance alone. Each unit's
 * model keeps the global section and the vrrp_scripts (the service runs only the scripts its instances
 * track), so a unit sees exactly what the whole-config service would have seen for its instances.
 */
export function vrrpUnits(model: ConfigModel): Map<string, ConfigModel> {
  const units = new Map<string, ConfigModel>();
  const grouped = new Set<string>();
  const byName = new Map(model.vrrpInstances.map((i) => [i.name, i]));
  for (const group of model.vrrpSyncGroups) {
    const members = group.group.map((n) => byName.get(n)).filter((i): i is VrrpInstance => i !== undefined);
    if (members.length === 0) continue;
    for (const m of members) grouped.add(m.name);
    units.set(`sync_group ${members.map(vrrpInstanceKey).sort().join(' + ')}`, { ...model, vrrpInstances: members, vrrpSyncGroups: [group], virtualServers: [], virtualServerGroups: [] });
  }
  for (const instance of model.vrrpInstances) {
    if (grouped.has(instance.name)) continue;
    units.set(vrrpInstanceKey(instance), { ...model, vrrpInstances: [instance], vrrpSyncGroups: [], virtualServers: [], virtualServerGroups: [] });
  }
  return units;
}

/**
 * What makes a unit "changed": its instances, its sync group, the scripts they track, and the global
 * settings VRRP reads (vrrp_*, script_user) — not the rest of global_defs, so an lvs_timeouts edit does not
 * restart any instance.
 */
export function unitFingerprint(unit: ConfigModel): string {
  const tracked = new Set(unit.vrrpInstances.flatMap((i) => i.trackScripts.map((t) => t.name)));
  const trackedFiles = new Set([...unit.vrrpInstances, ...unit.vrrpSyncGroups].flatMap((o) => o.trackFiles.map((t) => t.name)));
  const trackedProcesses = new Set([...unit.vrrpInstances, ...unit.vrrpSyncGroups].flatMap((o) => o.trackProcesses.map((t) => t.name)));
  const global = Object.fromEntries(
    Object.entries(unit.global).filter(([key]) => key.startsWith('vrrp') || key === 'scriptUser' || key === 'enableScriptSecurity'),
  );
  return canonical({
    global,
    instances: unit.vrrpInstances,
    groups: unit.vrrpSyncGroups,
    scripts: unit.vrrpScripts.filter((s) => tracked.has(s.name)),
    files: unit.trackFiles.filter((f) => trackedFiles.has(f.name)),
    processes: unit.trackProcesses.filter((t) => trackedProcesses.has(t.name)),
  });
}
