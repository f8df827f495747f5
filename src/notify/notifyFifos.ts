/**
 * The notify FIFOs of global_defs as one sink: `notify_fifo` gets every line, `vrrp_notify_fifo` the
 * VRRP lines, `lvs_notify_fifo` the VS/RS lines (keepalived's split between its VRRP and checker
 * processes). Each FIFO's `…_script` is started (as keepalived: after the FIFO exists, before it is
 * opened) with the FIFO path as its last argument, and runs until the daemon stops.
 */
import type { GlobalDefs, NotifyFifo, RealServer, ScriptCommand, VirtualServer } from '../config/model.js';
import type { Clock } from '../util/clock.js';
import { realServerFifoLine, virtualServerFifoLine, vrrpFifoLine, type VrrpFifoEvent } from './fifoLines.js';
import { type FifoWriterCounters, NotifyFifoWriter } from './fifoWriter.js';

export interface NotifyFifoDeps {
  readonly clock: Clock;
  /** Starts a FIFO's reader script (the project's spawner); resolves when it ends. `signal` ends it. */
  readonly startScript: (command: ScriptCommand, signal: AbortSignal) => Promise<void>;
  /** Owner ids of a FIFO we create, from its `USER [GROUP]`; undefined = ours. Throws on an unknown user. */
  readonly ownerOf: (fifo: NotifyFifo) => { uid: number; gid: number } | undefined;
  readonly warn: (message: string, detail: Record<string, unknown>) => void;
  readonly maxQueuedLines?: number;
}

type Kind = 'all' | 'vrrp' | 'lvs';

/** How long a reader script gets after its FIFO closed (it reads the last lines, then EOF) before SIGTERM. */
const SCRIPT_GRACE_MS = 1000;

export class NotifyFifos {
  private readonly writers: { kind: Kind; writer: NotifyFifoWriter }[] = [];
  private readonly scripts = new Set<Promise<void>>();
  private readonly stopScripts = new AbortController();

  constructor(private readonly deps: NotifyFifoDeps) {}

  /** Opens the configured FIFOs and starts their scripts. A FIFO that cannot be opened is warned about and left out. */
  open(global: Pick<GlobalDefs, 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'>): void {
    const configured: [Kind, NotifyFifo | undefined][] = [['all', global.notifyFifo], ['vrrp', global.vrrpNotifyFifo], ['lvs', global.lvsNotifyFifo]];
    for (const [kind, fifo] of configured) {
      if (!fifo) continue;
      try {
        const owner = this.deps.ownerOf(fifo);
        const writer = NotifyFifoWriter.open(fifo.path, {
          clock: this.deps.clock,
          ...(owner ? { owner } : {}),
          ...(this.deps.maxQueuedLines !== undefined ? { maxQueuedLines: this.deps.maxQueuedLines } : {}),
        });
        if (fifo.script) this.startScript({ ...fifo.script, argv: [...fifo.script.argv, fifo.path] });
        this.writers.push({ kind, writer });
      } catch (err) {
        this.deps.warn(`notify FIFO not used: ${(err as Error).message}`, { fifo: fifo.path, at: `${fifo.loc.file}:${fifo.loc.line}` });
      }
    }
  }

  get active(): boolean {
    return this.writers.length > 0;
  }

  vrrp(event: VrrpFifoEvent): void {
    this.write('vrrp', vrrpFifoLine(event));
  }

  virtualServer(vs: VirtualServer, up: boolean): void {
    this.write('lvs', virtualServerFifoLine(vs, up));
  }

  realServer(vs: VirtualServer, rs: RealServer, alive: boolean): void {
    this.write('lvs', realServerFifoLine(rs, vs, alive));
  }

  counters(): { path: string; counters: FifoWriterCounters; queued: number }[] {
    return this.writers.map(({ writer }) => ({ path: writer.path, counters: { ...writer.counters }, queued: writer.queued }));
  }

  /** Closes (and removes what we created), then gives the reader scripts a moment to read the rest. */
  async close(): Promise<void> {
    for (const { writer } of this.writers) {
      writer.close();
      if (writer.counters.linesDropped > 0) {
        this.deps.warn('notify FIFO lines were dropped (reader slow or absent)', { fifo: writer.path, ...writer.counters });
      }
    }
    this.writers.length = 0;
    if (this.scripts.size > 0) {
      let timer: TimerHandleLike | undefined;
      await Promise.race([
        Promise.all(this.scripts),
        new Promise<void>((resolve) => (timer = this.deps.clock.setTimer(SCRIPT_GRACE_MS, resolve))),
      ]);
      this.deps.clock.clearTimer(timer);
      this.stopScripts.abort();
      await Promise.all(this.scripts);
    }
  }

  private write(kind: 'vrrp' | 'lvs', line: string): void {
    for (const w of this.writers) if (w.kind === 'all' || w.kind === kind) w.writer.write(line);
  }

  private startScript(command: ScriptCommand): void {
    const running: Promise<void> = this.deps.startScript(command, this.stopScripts.signal).finally(() => this.scripts.delete(running));
    this.scripts.add(running);
  }
}

type TimerHandleLike = ReturnType<Clock['setTimer']>;
