import type { ConfigModel } from '../config/model.js';
import { keepalivedIpAddress, type VrrpInstanceSnapshot, type VrrpMetricsSource, type VrrpScriptSnapshot, type VrrpSocketSnapshot } from '../metrics/sources.js';
import type { Logger } from '../util/log.js';
import type { VrrpInstanceStatus, VrrpInterfaceStatus, VrrpReconfigureResult, VrrpScriptStatus } from '../vrrp/service.js';
import { unitFingerprint, vrrpUnits } from '../vrrp/units.js';
import type { ConfigDiff } from './configDiff.js';
import type { DaemonPart } from './parts.js';

/** What the VRRP part needs of the VRRP room's service (src/vrrp/service.ts VrrpService fits). */
export interface VrrpRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): VrrpInstanceStatus[];
  scriptStatus(): VrrpScriptStatus[];
  interfaceStatus(): VrrpInterfaceStatus[];
  /** Applies a changed unit's settings to the running instances; `inPlace: false` = the unit must restart. */
  reconfigure?(unit: ConfigModel): Promise<VrrpReconfigureResult>;
  /** Holds or releases preemption by an instance (IPVS connection sync catching up). */
  holdPreemption?(instance: string, held: boolean): void;
}

/**
 * The VRRP part of the daemon. Instances run in *units*: one VrrpService per instance, or per sync group
 * (whose members must change state together), keyed by interface + VRID (+ family) of its instances. A
 * reload touches only the units whose configuration changed. A changed unit with the same key is
 * reconfigured in place (same state, no priority-0 advert, no transition; a master's VIPs change as a diff);
 * when the service refuses (sync group renamed, unicast ↔ multicast, a new multicast group) it is stopped
 * (priority 0, VIPs released) and started again. An instance whose interface or VRID changed, or a sync
 * group whose members changed, has another key: the old unit stops, the new one starts.
 */
export class VrrpPart implements DaemonPart, VrrpMetricsSource {
  readonly name = 'vrrp';
  private units = new Map<string, { fingerprint: string; runner: VrrpRunner }>();
  /** Instances whose preemption is held, applied to units started later too. */
  private readonly preemptionHolds = new Set<string>();

  constructor(
    private readonly createRunner: (model: ConfigModel) => VrrpRunner,
    private readonly logger: Logger,
    /** The sockets when the units share them (src/vrrp/runtime/interfaceRuntime.ts); absent = each unit's own. */
    private readonly sharedSockets?: () => VrrpInterfaceStatus[],
  ) {}

  async start(model: ConfigModel): Promise<void> {
    for (const [key, unit] of vrrpUnits(model)) await this.startUnit(key, unit);
  }

  async reload(next: ConfigModel, diff: ConfigDiff): Promise<void> {
    const wanted = vrrpUnits(next);
    const changed: string[] = [];
    const reconfigured: string[] = [];
    for (const [key, current] of this.units) {
      const unit = wanted.get(key);
      if (unit && unitFingerprint(unit) === current.fingerprint) continue;
      if (unit && current.runner.reconfigure) {
        const result = await current.runner.reconfigure(unit);
        if (result.inPlace) {
          current.fingerprint = unitFingerprint(unit);
          reconfigured.push(key);
          this.logger.info({ event: 'vrrp_reconfigured', unit: key, vipsAdded: result.vipsAdded, vipsRemoved: result.vipsRemoved }, `VRRP ${key} reconfigured in place`);
          continue;
        }
        this.logger.info({ event: 'vrrp_restart', unit: key, reason: result.reason }, `VRRP ${key} restarts: ${result.reason}`);
      }
      changed.push(key);
      await current.runner.stop();
      this.units.delete(key);
    }
    for (const [key, unit] of wanted) {
      if (!this.units.has(key)) await this.startUnit(key, unit);
    }
    this.logger.info(
      {
        event: 'reload',
        part: 'vrrp',
        restarted: changed,
        reconfigured,
        kept: [...this.units.keys()].filter((k) => !changed.includes(k) && !reconfigured.includes(k)),
        instancesChanged: diff.vrrpInstances.changed,
      },
      'VRRP reload applied',
    );
  }

  async stop(): Promise<void> {
    // All units at once: every master sends priority 0 now, not one after the other.
    await Promise.all([...this.units.values()].map((u) => u.runner.stop()));
    this.units.clear();
  }

  holdPreemption(instance: string, held: boolean): void {
    if (held) this.preemptionHolds.add(instance);
    else this.preemptionHolds.delete(instance);
    for (const u of this.units.values()) u.runner.holdPreemption?.(instance, held);
  }

  instances(): VrrpInstanceSnapshot[] {
    return [...this.units.values()].flatMap((u) => u.runner.status().map(toSnapshot));
  }

  scripts(): VrrpScriptSnapshot[] {
    const byName = new Map<string, VrrpScriptSnapshot>();
    for (const u of this.units.values()) for (const s of u.runner.scriptStatus()) byName.set(s.name, { name: s.name, good: s.good });
    return [...byName.values()];
  }

  /** Socket counters per interface, summed over the units' sockets on it. */
  sockets(): VrrpSocketSnapshot[] {
    const byInterface = new Map<string, VrrpSocketSnapshot>();
    for (const s of this.interfaceStatus()) {
      const sum = byInterface.get(s.interface) ?? {
        interface: s.interface,
        packetsReceived: 0,
        packetsSent: 0,
        receiveBufferDrops: 0,
        oversizedReceived: 0,
        readErrors: 0,
        undecodable: 0,
        unknownVrid: 0,
        priorityLaneReceived: 0,
        priorityLaneBufferDrops: 0,
      };
      sum.packetsReceived += s.transport.packetsReceived;
      sum.packetsSent += s.transport.packetsSent;
      sum.receiveBufferDrops += s.transport.receiveBufferDrops;
      sum.oversizedReceived += s.transport.oversizedReceived;
      sum.readErrors += s.transport.socketErrors;
      sum.undecodable += s.dispatcher.undecodable;
      sum.unknownVrid += s.dispatcher.unknownVrid;
      sum.priorityLaneReceived += s.transport.preferredReceived;
      sum.priorityLaneBufferDrops += s.transport.preferredBufferDrops;
      byInterface.set(s.interface, sum);
    }
    return [...byInterface.values()];
  }

  /** Raw service status (for the SIGUSR2 counters line and tests). */
  status(): VrrpInstanceStatus[] {
    return [...this.units.values()].flatMap((u) => u.runner.status());
  }

  /** Socket counters, one entry per socket set (shared by the units on it), else per unit and interface. */
  interfaceStatus(): VrrpInterfaceStatus[] {
    if (this.sharedSockets) return this.sharedSockets();
    return [...this.units.values()].flatMap((u) => u.runner.interfaceStatus());
  }

  private async startUnit(key: string, unit: ConfigModel): Promise<void> {
    const runner = this.createRunner(unit);
    for (const name of this.preemptionHolds) runner.holdPreemption?.(name, true);
    try {
      await runner.start();
    } catch (err) {
      // Release whatever the half-started unit holds (sockets, VIPs) before reporting.
      await runner.stop().catch(() => {});
      throw err;
    }
    this.units.set(key, { fingerprint: unitFingerprint(unit), runner });
  }
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
    vipLabels: s.vipEntries.map((v) => ({ ipAddress: keepalivedIpAddress(v.address, v.prefixLength), intf: v.dev, excluded: v.excluded })),
    ...(s.routes.length > 0 ? { routes: s.routes } : {}),
    ...(s.rules.length > 0 ? { rules: s.rules } : {}),
    lastTransitionEpochMs: s.lastTransitionEpochMs,
    ...(master !== undefined ? { masterAddress: master } : {}),
    counters: {
      advertRcvd: s.receive.advertisementsReceived,
      // What the kernel accepted, not what the core asked for.
      advertSent: s.send.advertisementsSent,
      becomeMaster: s.machine.becomeMaster,
      advertLate: s.machine.advertsLate,
      masterDownDeferred: s.machine.masterDownDeferred,
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
      priZeroSent: s.send.priorityZeroSent,
      sendErrors: s.send.sendErrors,
      checksumErr: s.receive.checksumErrors,
      versionErr: s.receive.versionErrors,
      unicastSrcErr: s.receive.unicastSourceErrors,
      otherProtocolRcvd: s.receive.otherProtocolReceived,
      ownPacketsRcvd: s.receive.ownPackets,
      garpSent: s.garp.garpSent,
      garpErrors: s.garp.garpErrors,
      naSent: s.na.naSent,
      naErrors: s.na.naErrors,
    },
  };
}
