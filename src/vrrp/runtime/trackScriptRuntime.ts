import type { VrrpScript } from '../../config/model.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ScriptInvocation, ScriptOutcome } from '../edge/scriptRunner.js';
import { canonical } from '../../config/canonical.js';

/**
 * The vrrp_scripts, each run once per interval however many instances (in however many units) track it.
 * A script runs while someone subscribes to it; each run's verdict goes to every subscriber, which applies
 * rise/fall per instance (src/vrrp/core/trackers.ts). Scripts are keyed by name and settings: a reload that
 * changes a script's settings starts a new run beside the old one until the old one's last subscriber left.
 */

export interface VrrpScriptStatus {
  name: string;
  /** The last run succeeded (each tracking instance applies rise/fall to the runs). */
  good: boolean;
  runs: number;
  failures: number;
  timeouts: number;
}

/** A subscription to one script. */
export interface TrackScriptHandle {
  readonly name: string;
  /** The last run's verdict; undefined before the first run ended. */
  readonly lastSucceeded: boolean | undefined;
  /** Resolves when the first run's verdict has been given to the subscribers. */
  readonly firstRun: Promise<void>;
}

interface ScriptRuntime {
  key: string;
  model: VrrpScript;
  invocation: ScriptInvocation;
  lastSucceeded: boolean | undefined;
  runs: number;
  failures: number;
  timeouts: number;
  timer: TimerHandle | undefined;
  running: boolean;
  firstRun: Promise<void>;
  subscribers: Set<Subscription>;
  /** Aborted when the last subscriber leaves: a run still going then has its process group ended. */
  stop: AbortController;
}

interface Subscription extends TrackScriptHandle {
  readonly script: ScriptRuntime;
  readonly onResult: (ok: boolean) => void;
}

export class TrackScripts {
  private readonly scripts = new Map<string, ScriptRuntime>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly runScript: (invocation: ScriptInvocation) => Promise<ScriptOutcome>,
  ) {}

  /**
   * Subscribes to a script run with `invocation` (argv, user; the timeout is the script's own), starting
   * it if nobody runs it with these settings yet. `onResult` gets every run's verdict from now on.
   */
  subscribe(model: VrrpScript, invocation: Omit<ScriptInvocation, 'timeoutMs' | 'signal'>, onResult: (ok: boolean) => void): TrackScriptHandle {
    const timeoutMs = (model.timeout || model.interval) * 1000;
    const key = canonical({ model, user: invocation.user, group: invocation.group });
    let script = this.scripts.get(key);
    if (!script) {
      const stop = new AbortController();
      const fresh: ScriptRuntime = {
        key,
        model,
        invocation: { ...invocation, timeoutMs, signal: stop.signal },
        lastSucceeded: undefined,
        runs: 0,
        failures: 0,
        timeouts: 0,
        timer: undefined,
        running: false,
        firstRun: Promise.resolve(),
        subscribers: new Set(),
        stop,
      };
      this.scripts.set(key, fresh);
      script = fresh;
      script.firstRun = this.run(fresh);
    }
    const owner = script;
    const subscription: Subscription = {
      name: model.name,
      script: owner,
      onResult,
      get lastSucceeded() {
        return owner.lastSucceeded;
      },
      firstRun: owner.firstRun,
    };
    owner.subscribers.add(subscription);
    return subscription;
  }

  /** Ends subscriptions; a script without subscribers stops (its timer, and a run still going). */
  unsubscribe(handles: Iterable<TrackScriptHandle>): void {
    for (const handle of handles) {
      const { script } = handle as Subscription;
      script.subscribers.delete(handle as Subscription);
      if (script.subscribers.size > 0 || this.scripts.get(script.key) !== script) continue;
      this.clock.clearTimer(script.timer);
      this.scripts.delete(script.key);
      script.stop.abort();
    }
  }

  /** The scripts running now (the same name twice while a reload replaces a script's settings). */
  status(of?: Iterable<TrackScriptHandle>): VrrpScriptStatus[] {
    const wanted = of ? new Set([...of].map((h) => (h as Subscription).script)) : undefined;
    return [...this.scripts.values()]
      .filter((s) => !wanted || wanted.has(s))
      .map((s) => ({ name: s.model.name, good: s.lastSucceeded === true, runs: s.runs, failures: s.failures, timeouts: s.timeouts }));
  }

  /** Runs the script now and every interval; resolves when this run's result has been given out. */
  private run(script: ScriptRuntime): Promise<void> {
    if (this.scripts.get(script.key) !== script) return Promise.resolve();
    script.timer = this.clock.setTimer(script.model.interval * 1000, () => void this.run(script));
    if (script.running) return Promise.resolve(); // still running from last time: keepalived skips, so do we
    script.running = true;
    return this.runScript(script.invocation).then((outcome) => {
      script.running = false;
      // Nobody subscribes any more: this run's result is nobody's.
      if (this.scripts.get(script.key) !== script) return;
      script.runs++;
      // A timeout is a failure (keepalived); so is a script that cannot start.
      const ok = outcome.exitCode === 0;
      if (outcome.timedOut) script.timeouts++;
      if (!ok) script.failures++;
      if (script.lastSucceeded !== ok) {
        this.logger.info({ event: 'track_script_result', script: script.model.name, ok, ...outcome }, `track script ${script.model.name} ${ok ? 'succeeded' : 'failed'}`);
      }
      script.lastSucceeded = ok;
      for (const s of script.subscribers) s.onResult(ok);
    });
  }
}
