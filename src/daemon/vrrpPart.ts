import type { ConfigModel, VrrpInstance } from '../config/model.js';
import type { VrrpInstanceSnapshot, VrrpMetricsSource, VrrpScriptSnapshot } from '../metrics/sources.js';
import type { Logger } from '../util/log.js';
import type { VrrpInstanceStatus, VrrpInterfaceStatus, VrrpScriptStatus } from '../vrrp/service.js';
import { canonical, vrrpInstanceKey, type ConfigDiff } from './configDiff.js';
import type { DaemonPart } from './parts.js';

/** What the VRRP part needs of the VRRP room's service (src/vrrp/service.ts VrrpService fits). */
export interface VrrpRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): VrrpInstanceStatus[];
  scriptStatus(): VrrpScriptStatus[];
  interfaceStatus(): VrrpInterfaceStatus[];
}

/**
 * The VRRP part of the daemon. Instances run in *units*: one VrrpService per instance, or per sync group
 * (whose members must change state together). A reload then touches only the units whose configuration
 * changed: an unchanged instance keeps running untouched — a master stays master, no advert with priority
 * 0, no transition. A changed unit is stopped (priority 0, VIPs released) and started with its new
 * configuration; a removed one is stopped; a new one is started.
 *
 * (The VRRP service has no in-place reconfigure yet; with one, a changed unit could keep its state too.)
 */
export class VrrpPart implements DaemonPart, VrrpMetricsSource {
  readonly name = 'vrrp';
  private units = new Map<string, { fingerprint: string; runner: VrrpRunner }>();

  constructor(
    private readonly createRunner: (model: ConfigModel) => VrrpRunner,
    private readonly logger: Logger,
  ) {}

  async start(model: ConfigModel): Promise<void> {
    for (const [key, unit] of vrrpUnits(model)) await this.startUnit(key, unit);
  }

  async reload(next: ConfigModel, diff: ConfigDiff): Promise<void> {
    const wanted = vrrpUnits(next);
    const changed: string[] = [];
    for (const [key, current] of this.units) {
      const unit = wanted.get(key);
      if (unit && fingerprint(unit) === current.fingerprint) continue;
      changed.push(key);
      await current.runner.stop();
      this.units.delete(key);
    }
    for (const [key, unit] of wanted) {
      if (!this.units.has(key)) await this.startUnit(key, unit);
    }
    this.logger.info(
      { event: 'reload', part: 'vrrp', restarted: changed, kept: [...this.units.keys()].filter((k) => !changed.includes(k)), instancesChanged: diff.vrrpInstances.kept.filter((k) => !k.unchanged).length },
      'VRRP reload applied',
    );
  }

  async stop(): Promise<void> {
    // All units at once: every master sends priority 0 now, not one after the other.
    await Promise.all([...this.units.values()].map((u) => u.runner.stop()));
    this.units.clear();
  }

  instances(): VrrpInstanceSnapshot[] {
    return [...this.units.values()].flatMap((u) => u.runner.status().map(toSnapshot));
  }

  scripts(): VrrpScriptSnapshot[] {
    const byName = new Map<string, VrrpScriptSnapshot>();
    for (const u of this.units.values()) for (const s of u.runner.scriptStatus()) byName.set(s.name, { name: s.name, good: s.good });
    return [...byName.values()];
  }

  /** Raw service status (for the SIGUSR2 counters line and tests). */
  status(): VrrpInstanceStatus[] {
    return [...this.units.values()].flatMap((u) => u.runner.status());
  }

  /** Socket counters, one entry per unit and interface (each unit has its own socket). */
  interfaceStatus(): VrrpInterfaceStatus[] {
    return [...this.units.values()].flatMap((u) => u.runner.interfaceStatus());
  }

  private async startUnit(key: string, unit: ConfigModel): Promise<void> {
    const runner = this.createRunner(unit);
    try {
      await runner.start();
    } catch (err) {
      // Release whatever the half-started unit holds (sockets, VIPs) before reporting.
      await runner.stop().catch(() => {});
      throw err;
    }
    this.units.set(key, { fingerprint: fingerprint(unit), runner });
  }
}

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
function fingerprint(unit: ConfigModel): string {
  const tracked = new Set(unit.vrrpInstances.flatMap((i) => i.trackScripts.map((t) => t.name)));
  const global = Object.fromEntries(
    Object.entries(unit.global).filter(([key]) => key.startsWith('vrrp') || key === 'scriptUser' || key === 'enableScriptSecurity'),
  );
  return canonical({
    global,
    instances: unit.vrrpInstances,
    groups: unit.vrrpSyncGroups,
    scripts: unit.vrrpScripts.filter((s) => tracked.has(s.name)),
  });
}

function toSnapshot(s: VrrpInstanceStatus): VrrpInstanceSnapshot {
  const master = s.state === 'MASTER' ? s.sourceIp : s.masterIp;
  return {
    name: s.name,
    interface: s.interface,
    vrid: s.vrid,
    state: s.state,
    basePriority: s.basePriority,
    effectivePriority: s.effectivePriority,
    vips: s.vips,
    lastTransitionEpochMs: s.lastTransitionEpochMs,
    ...(master !== undefined ? { masterAddress: master } : {}),
    counters: {
      advertRcvd: s.receive.advertisementsReceived,
      advertSent: s.machine.advertisementsSent,
      becomeMaster: s.machine.becomeMaster,
      releaseMaster: s.machine.releaseMaster,
      packetLenErr: s.receive.packetLengthErrors,
      advertIntervalErr: s.receive.advertIntervalErrors,
      ipTtlErr: s.receive.ipTtlErrors,
      invalidTypeRcvd: s.receive.invalidTypeReceived,
      addrListErr: s.receive.addressListErrors,
      invalidAuthType: s.receive.authenticationInvalid,
      authTypeMismatch: s.receive.authenticationMismatch,
      authFailure: s.receive.authenticationFailure,
      priZeroRcvd: s.receive.priorityZeroReceived,
      priZeroSent: s.machine.priorityZeroSent,
    },
  };
}
