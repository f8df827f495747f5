import { spawn, type ChildProcess } from 'node:child_process';
import { addressesOf } from './netns.js';
import { sleep } from './exec.js';

/**
 * Watches which namespaces hold a VIP: one `ip -n NS monitor address` per namespace, so an address
 * appearing or going is seen when the kernel announces it (no polling error), plus one query at start.
 * Keeps the timeline so tests can ask when a holder appeared and whether two ever held it at once.
 */
export interface VipChange {
  /** performance.now() when the change was seen. */
  at: number;
  /** The holders from then on. */
  holders: string[];
}

export class VipMonitor {
  readonly samples: VipChange[] = [];
  private readonly held = new Set<string>();
  private readonly monitors: ChildProcess[] = [];
  private readonly ready: Promise<void>;

  constructor(hosts: { ns: string; dev: string }[], vip: string) {
    const pattern = ` ${vip.includes(":") ? "inet6" : "inet"} ${vip}/`;
    for (const host of hosts) {
      const monitor = spawn('ip', ['-n', host.ns, 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let buffer = '';
      monitor.stdout!.setEncoding('utf8');
      monitor.stdout!.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (!line.includes(pattern)) continue;
          if (line.startsWith('Deleted')) this.held.delete(host.ns);
          else this.held.add(host.ns);
          this.record();
        }
      });
      this.monitors.push(monitor);
    }
    this.ready = (async () => {
      await sleep(100); // let the monitors subscribe before the initial query
      for (const host of hosts) if ((await addressesOf(host.ns, host.dev)).includes(vip)) this.held.add(host.ns);
      this.record();
    })();
  }

  /** Resolves once the monitors run and the initial state is known. */
  async started(): Promise<void> {
    await this.ready;
  }

  private record(): void {
    this.samples.push({ at: performance.now(), holders: [...this.held].sort() });
  }

  /** The holders now. */
  current(): string[] {
    return [...this.held].sort();
  }

  /** First moment at or after `since` at which ns holds the VIP; undefined at the deadline. */
  async heldBy(ns: string, since: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Held already at `since` (the last change before it) counts as `since`.
      const before = [...this.samples].reverse().find((s) => s.at < since);
      if (before?.holders.includes(ns)) return since;
      const hit = this.samples.find((s) => s.at >= since && s.holders.includes(ns));
      if (hit) return hit.at;
      if (performance.now() > deadline) return undefined;
      await sleep(5);
    }
  }

  /** Time (ms) in [from, to) during which more than one namespace held the VIP. */
  overlapMs(from = 0, to = performance.now()): number {
    return this.durationWhere((holders) => holders.length > 1, from, to);
  }

  /** Fraction of [from, to) during which ns alone held the VIP. */
  fractionHeldOnlyBy(ns: string, from: number, to: number): number {
    if (to <= from) return 0;
    return this.durationWhere((h) => h.length === 1 && h[0] === ns, from, to) / (to - from);
  }

  private durationWhere(predicate: (holders: string[]) => boolean, from: number, to: number): number {
    let total = 0;
    for (let i = 0; i < this.samples.length; i++) {
      const s = this.samples[i]!;
      const start = Math.max(s.at, from);
      const end = Math.min(this.samples[i + 1]?.at ?? Infinity, to);
      if (end > start && predicate(s.holders)) total += end - start;
    }
    return total;
  }

  async stop(): Promise<void> {
    await this.ready;
    for (const m of this.monitors) m.kill();
  }
}
