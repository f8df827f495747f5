import { canonical } from '../../config/canonical.js';
import type { ConfigModel, VrrpInstance, VrrpScript } from '../../config/model.js';
import type { LinkInfo } from '../../net/rtnetlink.js';
import { scriptUserOf } from '../../scripts/runAs.js';
import type { ProcessPattern } from '../../trackProcess/match.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { VrrpInstancePlan } from '../core/fromConfig.js';
import { FileTracker, InstanceTracking, InterfaceTracker, ProcessTracker, ScriptTracker } from '../core/trackers.js';
import type { VrrpStateMachine } from '../core/vrrpStateMachine.js';
import type { TrackProcessWatch } from '../edge/procScanner.js';
import type { TrackFileWatch } from '../edge/trackFileWatcher.js';
import { scriptRunAs } from './notifyRunner.js';
import type { TrackScriptHandle, TrackScripts, VrrpScriptStatus } from './trackScriptRuntime.js';

/**
 * What one VRRP service tracks for its instances: track_interface, track_file, vrrp_track_process and
 * vrrp_script. The core's trackers (core/trackers.ts) decide rise/fall and weights; this is their I/O side:
 * one file watch per path and one process count per vrrp_track_process name shared by the service's
 * instances, one subscription per vrrp_script to the runs shared by every service (trackScriptRuntime.ts).
 * A new value goes to every instance tracking it and is applied to its machine at once.
 */

/** A running instance as its trackers see it (the service's instance runtime is one). */
export interface TrackedInstance {
  readonly model: Pick<VrrpInstance, 'name'>;
  readonly plan: Pick<VrrpInstancePlan, 'scripts' | 'interfaces' | 'files' | 'processes'>;
  readonly machine: VrrpStateMachine;
  tracking: InstanceTracking;
  scriptTrackers: Map<string, ScriptTracker>;
  interfaceTrackers: Map<string, InterfaceTracker>;
  fileTrackers: Map<string, FileTracker>;
  processTrackers: Map<string, ProcessTracker>;
}

/** What the trackers take from the service that owns them. */
export interface InstanceTrackersDeps {
  clock: Clock;
  logger: Logger;
  trackScripts: TrackScripts;
  /** Watches a track_file (src/vrrp/edge/trackFileWatcher.ts); absent = every track file reads 0. */
  watchTrackFile?: (path: string, onValue: (value: number) => void) => TrackFileWatch;
  /** Counts a vrrp_track_process's processes (src/vrrp/edge/procScanner.ts); absent = every count is 0. */
  watchTrackProcess?: (pattern: ProcessPattern, onCount: (count: number) => void) => TrackProcessWatch;
  /** The service's instances now: a watch's or script's news goes to each one tracking it. */
  instances: () => readonly TrackedInstance[];
  /** The config as it is now (a reload replaces its vrrp_scripts and script_user). */
  model: () => ConfigModel;
  /** True once the service stops: a script result arriving then changes nothing. */
  stopping: () => boolean;
}

export class InstanceTrackers {
  /** This service's subscription to each vrrp_script its instances track, by name; `key` = its settings. */
  private readonly scripts = new Map<string, { handle: TrackScriptHandle; key: string }>();
  /** One watch per tracked file path, shared by the instances tracking it; `value` is the last read. */
  private readonly fileWatches = new Map<string, { watch: TrackFileWatch | undefined; value: number }>();
  /** One count per vrrp_track_process name (its pattern as watched), shared by the instances tracking it. */
  private readonly processWatches = new Map<string, { watch: TrackProcessWatch | undefined; pattern: string; count: number }>();

  constructor(private readonly deps: InstanceTrackersDeps) {}

  /**
   * A new instance's trackers, before its machine starts: interfaces from `links`' state, files and
   * processes from their last value (starting their watches), scripts undecided until start() gives them
   * a verdict. Applied to the machine at once.
   */
  build(rt: TrackedInstance, links: Map<string, LinkInfo>): void {
    for (const spec of rt.plan.interfaces) {
      rt.interfaceTrackers.set(spec.name, new InterfaceTracker(spec, links.get(spec.name)?.up ?? false));
    }
    for (const spec of rt.plan.scripts) rt.scriptTrackers.set(spec.name, new ScriptTracker(spec));
    for (const t of rt.interfaceTrackers.values()) rt.tracking.addInterface(t);
    for (const t of rt.scriptTrackers.values()) rt.tracking.addScript(t);
    for (const spec of rt.plan.files) rt.fileTrackers.set(spec.name, new FileTracker(spec, this.fileValue(spec.path)));
    for (const t of rt.fileTrackers.values()) rt.tracking.addFile(t);
    for (const spec of rt.plan.processes) rt.processTrackers.set(spec.name, new ProcessTracker(spec, this.processCount(spec.name, spec.pattern)));
    for (const t of rt.processTrackers.values()) rt.tracking.addProcess(t);
    rt.tracking.applyTo(rt.machine);
  }

  /** At stop: no more script runs for us, every watch closed. */
  close(): void {
    this.deps.trackScripts.unsubscribe([...this.scripts.values()].map((s) => s.handle));
    this.scripts.clear();
    for (const w of this.fileWatches.values()) w.watch?.close();
    this.fileWatches.clear();
    for (const w of this.processWatches.values()) w.watch?.close();
    this.processWatches.clear();
  }

  /** The vrrp_scripts this service's instances track (shared ones count every run, once). */
  scriptStatus(): VrrpScriptStatus[] {
    return this.deps.trackScripts.status([...this.scripts.values()].map((s) => s.handle));
  }

  /**
   * New tracking settings for a running instance: trackers whose settings did not change keep their
   * rise/fall state; new interface trackers start from the link's state, new script trackers from the
   * script's last result (one shared run per script). Faults the old set raised and the new one does not
   * are cleared, so the machine sees the same outcome as a fresh start with the same inputs.
   */
  retrack(rt: TrackedInstance, links: Map<string, LinkInfo>): void {
    const oldFaults = rt.tracking.outcome().faults;
    const interfaceTrackers = new Map<string, InterfaceTracker>();
    for (const spec of rt.plan.interfaces) {
      const old = rt.interfaceTrackers.get(spec.name);
      interfaceTrackers.set(spec.name, old && canonical(old.spec) === canonical(spec) ? old : new InterfaceTracker(spec, links.get(spec.name)?.up ?? false));
    }
    const scriptTrackers = new Map<string, ScriptTracker>();
    for (const spec of rt.plan.scripts) {
      const old = rt.scriptTrackers.get(spec.name);
      if (old && canonical(old.spec) === canonical(spec)) scriptTrackers.set(spec.name, old);
      else {
        const tracker = new ScriptTracker(spec);
        const last = this.scripts.get(spec.name)?.handle.lastSucceeded;
        if (last !== undefined) tracker.report(last);
        scriptTrackers.set(spec.name, tracker);
      }
    }
    const fileTrackers = new Map<string, FileTracker>();
    for (const spec of rt.plan.files) {
      const old = rt.fileTrackers.get(spec.name);
      fileTrackers.set(spec.name, old && canonical(old.spec) === canonical(spec) ? old : new FileTracker(spec, this.fileValue(spec.path)));
    }
    const processTrackers = new Map<string, ProcessTracker>();
    for (const spec of rt.plan.processes) {
      const old = rt.processTrackers.get(spec.name);
      processTrackers.set(spec.name, old && canonical(old.spec) === canonical(spec) && this.processWatches.get(spec.name)?.pattern === canonical(spec.pattern) ? old : new ProcessTracker(spec, this.processCount(spec.name, spec.pattern)));
    }
    const tracking = new InstanceTracking();
    for (const t of processTrackers.values()) tracking.addProcess(t);
    for (const t of interfaceTrackers.values()) tracking.addInterface(t);
    for (const t of scriptTrackers.values()) tracking.addScript(t);
    for (const t of fileTrackers.values()) tracking.addFile(t);
    rt.interfaceTrackers = interfaceTrackers;
    rt.scriptTrackers = scriptTrackers;
    rt.fileTrackers = fileTrackers;
    rt.processTrackers = processTrackers;
    rt.tracking = tracking;
    const now = new Set(tracking.applyTo(rt.machine).faults);
    for (const source of oldFaults) if (!now.has(source)) rt.machine.setFault(source, false);
  }

  /** The last value of a tracked file, watching it from now on (the first instance to track it starts the watch). */
  private fileValue(path: string): number {
    let entry = this.fileWatches.get(path);
    if (!entry) {
      const fresh: { watch: TrackFileWatch | undefined; value: number } = { watch: undefined, value: 0 };
      fresh.watch = this.deps.watchTrackFile?.(path, (value) => this.onFileValue(path, value));
      fresh.value = fresh.watch?.initialValue ?? 0;
      this.fileWatches.set(path, fresh);
      entry = fresh;
    }
    return entry.value;
  }

  private onFileValue(path: string, value: number): void {
    const entry = this.fileWatches.get(path);
    if (entry) entry.value = value;
    for (const rt of this.deps.instances()) {
      let changed = false;
      for (const spec of rt.plan.files) {
        if (spec.path === path && rt.fileTrackers.get(spec.name)?.setValue(value)) changed = true;
      }
      if (changed) {
        const outcome = rt.tracking.applyTo(rt.machine);
        this.deps.logger.info({ event: 'track_file', instance: rt.model.name, path, value, priorityDelta: outcome.priorityDelta, faults: outcome.faults }, `track file ${path} now ${value}`);
      }
    }
  }

  /** The last count of a vrrp_track_process, counting it from now on (a changed pattern restarts the count). */
  private processCount(name: string, pattern: ProcessPattern): number {
    const key = canonical(pattern);
    let entry = this.processWatches.get(name);
    if (entry && entry.pattern !== key) {
      entry.watch?.close();
      entry = undefined;
    }
    if (!entry) {
      const fresh: { watch: TrackProcessWatch | undefined; pattern: string; count: number } = { watch: undefined, pattern: key, count: 0 };
      fresh.watch = this.deps.watchTrackProcess?.(pattern, (count) => this.onProcessCount(name, fresh, count));
      fresh.count = fresh.watch?.initialCount ?? 0;
      this.processWatches.set(name, fresh);
      entry = fresh;
    }
    return entry.count;
  }

  private onProcessCount(name: string, entry: { count: number }, count: number): void {
    if (this.processWatches.get(name) !== entry) return; // a replaced watch's last pass
    entry.count = count;
    const now = this.deps.clock.now();
    for (const rt of this.deps.instances()) {
      const tracker = rt.processTrackers.get(name);
      if (!tracker?.observe(count, now)) continue;
      const outcome = rt.tracking.applyTo(rt.machine);
      this.deps.logger.info(
        { event: 'track_process', instance: rt.model.name, trackProcess: name, count, status: tracker.status, priorityDelta: outcome.priorityDelta, faults: outcome.faults },
        `track_process ${name}: ${count} process(es), ${tracker.status}`,
      );
    }
  }

  /** Closes the watches no instance uses any more (after a reload). */
  closeUnusedFileWatches(): void {
    const instances = this.deps.instances();
    const usedProcesses = new Set(instances.flatMap((rt) => rt.plan.processes.map((p) => p.name)));
    for (const [name, entry] of this.processWatches) {
      if (usedProcesses.has(name)) continue;
      entry.watch?.close();
      this.processWatches.delete(name);
    }
    const used = new Set(instances.flatMap((rt) => rt.plan.files.map((f) => f.path)));
    for (const [path, entry] of this.fileWatches) {
      if (used.has(path)) continue;
      entry.watch?.close();
      this.fileWatches.delete(path);
    }
  }

  /**
   * After a reload: scripts no longer tracked stop, new ones start, changed ones restart with the new
   * settings. Returns the first runs of the (re)started ones.
   */
  restartChangedScripts(used: Set<string>): Promise<void>[] {
    for (const [name, script] of this.scripts) {
      const model = this.deps.model().vrrpScripts.find((s) => s.name === name);
      if (used.has(name) && model && this.scriptKey(model) === script.key) continue;
      this.deps.trackScripts.unsubscribe([script.handle]);
      this.scripts.delete(name);
    }
    return this.subscribeScripts(used);
  }

  /** At start, once every instance's trackers are built: the scripts they track start running for us. */
  startScripts(): void {
    const used = new Set(this.deps.instances().flatMap((rt) => rt.plan.scripts.map((s) => s.name)));
    void this.subscribeScripts(used);
    // A script other units already run has a verdict: the new trackers start from it, as after a first run.
    for (const { handle } of this.scripts.values()) {
      if (handle.lastSucceeded !== undefined) this.onScriptResult(handle.name, handle.lastSucceeded);
    }
  }

  /** Subscribes to the used scripts not subscribed yet; returns their first runs. */
  private subscribeScripts(used: Set<string>): Promise<void>[] {
    const firstRuns: Promise<void>[] = [];
    for (const model of this.deps.model().vrrpScripts) {
      if (!used.has(model.name) || this.scripts.has(model.name)) continue;
      const handle = this.deps.trackScripts.subscribe(model, scriptRunAs(model.script, this.deps.model().global.scriptUser), (ok) => this.onScriptResult(model.name, ok));
      this.scripts.set(model.name, { handle, key: this.scriptKey(model) });
      firstRuns.push(handle.firstRun);
    }
    return firstRuns;
  }

  /** A script's settings as they decide its runs: the vrrp_script block and the user it runs as. */
  private scriptKey(model: VrrpScript): string {
    const user = scriptUserOf(model.script, this.deps.model().global.scriptUser);
    return canonical({ model, user });
  }

  private onScriptResult(name: string, ok: boolean): void {
    if (this.deps.stopping()) return;
    for (const rt of this.deps.instances()) {
      const tracker = rt.scriptTrackers.get(name);
      if (tracker?.report(ok)) rt.tracking.applyTo(rt.machine);
    }
  }
}
