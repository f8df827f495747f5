import { destinationKey } from '../config/keys.js';
import type { HealthCounters, HealthSnapshot } from './events.js';
import {
  CK_CHECKS, CK_LAST_DURATION, CK_TYPE, CK_W, RS_CK_COUNT, RS_KEY, RS_W, VS_KEY, VS_QUORUM_UP, VS_RS_COUNT, VS_W,
  decodeSnapshot, encodeSnapshot, type CompactSnapshot,
} from './worker/snapshotCodec.js';

/**
 * The checker workers' per-checker detail as the main thread keeps it: their compact snapshots, read in
 * place. The daemon looks every 5 s but needs little each time (the counters, a quorum per virtual server,
 * the probes each checker completed since the last look); building the object form of 10,000 checkers for
 * that was megabytes a look on the VRRP thread, which its small young generation promoted and old-space
 * collections then swept while adverts were due (advert-jitter bench, 10,000 checks: p99 7.8–23 ms with
 * the daemon's flags, 4.4 ms without the looks). The object form is built only when asked for (the status,
 * a scrape), once per snapshot.
 */
export class HealthSnapshotView {
  readonly counters: HealthCounters;
  /** The laggard worker's lateness (undefined when no worker reported one). */
  readonly scheduleLatenessMs: number | undefined;
  private readonly keys: JoinedStrings[];
  private objectForm: HealthSnapshot | undefined;

  /** One compact snapshot per checker worker (or the inline checker), in worker order. */
  constructor(private readonly parts: readonly CompactSnapshot[]) {
    const merged = mergeCounters(parts);
    this.counters = merged.counters;
    this.scheduleLatenessMs = merged.scheduleLatenessMs;
    this.keys = parts.map((p) => new JoinedStrings(p.keys));
  }

  /** A view of a snapshot in object form (fakes of the checker, tests). */
  static of(snapshot: HealthSnapshot): HealthSnapshotView {
    return new HealthSnapshotView([encodeSnapshot(snapshot)]);
  }

  /** Each virtual server's quorum as the snapshot saw it, by virtual-server key. */
  quorums(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    this.parts.forEach((p, part) => {
      for (let vi = 0; vi < p.vs.length; vi += VS_W) out.set(this.keys[part]!.get(p.vs[vi + VS_KEY]!), p.vs[vi + VS_QUORUM_UP] === 1);
    });
    return out;
  }

  /**
   * Every checker that completed probes since `previous`: its type, its latest duration and how many. A
   * checker `previous` did not have counts from zero; one whose count went down (its worker restarted) is
   * skipped. Matched by position when both views have one layout (the same plan: nothing allocated), else
   * by identity.
   */
  forEachNewProbes(previous: HealthSnapshotView | undefined, fn: (checkerType: string, lastDurationMs: number, probes: number) => void): void {
    const same = previous !== undefined && this.sameLayoutAs(previous);
    const before = previous === undefined || same ? undefined : previous.checksByIdentity();
    this.parts.forEach((p, part) => {
      const keys = this.keys[part]!;
      const prior = same ? previous.parts[part]!.ck : undefined;
      this.walkCheckers(part, (ci, vsIndex, rsIndex, k) => {
        const checks = p.ck[ci + CK_CHECKS]!;
        const seen = prior ? prior[ci + CK_CHECKS]! : (before?.get(this.identity(part, vsIndex, rsIndex, k)) ?? 0);
        const duration = p.ck[ci + CK_LAST_DURATION]!;
        if (checks > seen && !Number.isNaN(duration)) fn(keys.get(p.ck[ci + CK_TYPE]!), duration, checks - seen);
      });
    });
  }

  /** The object form, built on first use. */
  decoded(): HealthSnapshot {
    this.objectForm ??= mergeSnapshots(this.parts.map(decodeSnapshot));
    return this.objectForm;
  }

  /** Same workers, same virtual servers, real servers and checkers in the same order. */
  private sameLayoutAs(other: HealthSnapshotView): boolean {
    if (other.parts.length !== this.parts.length) return false;
    return this.parts.every((p, i) => {
      const o = other.parts[i]!;
      if (p.keys !== o.keys || p.vs.length !== o.vs.length || p.rs.length !== o.rs.length || p.ck.length !== o.ck.length) return false;
      for (let vi = 0; vi < p.vs.length; vi += VS_W) {
        if (p.vs[vi + VS_KEY] !== o.vs[vi + VS_KEY] || p.vs[vi + VS_RS_COUNT] !== o.vs[vi + VS_RS_COUNT]) return false;
      }
      for (let ri = 0; ri < p.rs.length; ri += RS_W) {
        if (p.rs[ri + RS_KEY] !== o.rs[ri + RS_KEY] || p.rs[ri + RS_CK_COUNT] !== o.rs[ri + RS_CK_COUNT]) return false;
      }
      for (let ci = 0; ci < p.ck.length; ci += CK_W) if (p.ck[ci + CK_TYPE] !== o.ck[ci + CK_TYPE]) return false;
      return true;
    });
  }

  /** Probes completed per checker identity (its destination and its place among that server's checkers). */
  private checksByIdentity(): Map<string, number> {
    const out = new Map<string, number>();
    this.parts.forEach((p, part) => {
      this.walkCheckers(part, (ci, vsIndex, rsIndex, k) => out.set(this.identity(part, vsIndex, rsIndex, k), p.ck[ci + CK_CHECKS]!));
    });
    return out;
  }

  private identity(part: number, vsIndex: number, rsIndex: number, k: number): string {
    const keys = this.keys[part]!;
    return `${destinationKey(keys.get(vsIndex), keys.get(rsIndex))}/${k}`;
  }

  /**
   * Calls visit with each checker's row offset in ck, the key indices of its virtual and real server, and
   * its place among that real server's checkers.
   */
  private walkCheckers(part: number, visit: (ci: number, vsIndex: number, rsIndex: number, k: number) => void): void {
    const p = this.parts[part]!;
    let ri = 0;
    let ci = 0;
    for (let vi = 0; vi < p.vs.length; vi += VS_W) {
      const vsIndex = p.vs[vi + VS_KEY]!;
      for (let r = 0; r < p.vs[vi + VS_RS_COUNT]!; r++, ri += RS_W) {
        const rsIndex = p.rs[ri + RS_KEY]!;
        for (let k = 0; k < p.rs[ri + RS_CK_COUNT]!; k++, ci += CK_W) {
          visit(ci, vsIndex, rsIndex, k);
        }
      }
    }
  }
}

/** Several workers' snapshots as one: their virtual servers in worker order, their counters summed. */
export function mergeSnapshots(parts: readonly HealthSnapshot[]): HealthSnapshot {
  const { counters, scheduleLatenessMs } = mergeCounters(parts);
  return { virtualServers: parts.flatMap((p) => p.virtualServers), counters, scheduleLatenessMs };
}

function mergeCounters(parts: ReadonlyArray<Pick<HealthSnapshot, 'counters' | 'scheduleLatenessMs'>>): Pick<HealthSnapshot, 'counters' | 'scheduleLatenessMs'> {
  const counters: HealthCounters = { probes: 0, probeFailures: 0, probesHung: 0, probesThrew: 0, scriptsRun: 0, behindSchedule: 0, verdictsDeferred: 0 };
  let scheduleLatenessMs: number | undefined;
  for (const p of parts) {
    for (const k of Object.keys(counters) as Array<keyof HealthCounters>) counters[k] += p.counters[k] ?? 0;
    // The workers' laggard sets the lateness.
    if (p.scheduleLatenessMs !== undefined) scheduleLatenessMs = Math.max(scheduleLatenessMs ?? 0, p.scheduleLatenessMs);
  }
  return { counters, scheduleLatenessMs };
}

/**
 * The i-th entry of a '\n'-joined table, cut out when first asked for: splitting 10,000 keys to read a
 * hundred of them would be 10,000 strings.
 */
class JoinedStrings {
  private starts: Uint32Array | undefined;
  private readonly cut = new Map<number, string>();

  constructor(private readonly joined: string) {}

  get(i: number): string {
    let s = this.cut.get(i);
    if (s === undefined) {
      const starts = (this.starts ??= lineStarts(this.joined));
      const from = starts[i];
      if (from === undefined) return '';
      s = this.joined.slice(from, i + 1 < starts.length ? starts[i + 1]! - 1 : this.joined.length);
      this.cut.set(i, s);
    }
    return s;
  }
}

function lineStarts(joined: string): Uint32Array {
  if (joined.length === 0) return new Uint32Array(0);
  let n = 1;
  for (let at = joined.indexOf('\n'); at !== -1; at = joined.indexOf('\n', at + 1)) n++;
  const starts = new Uint32Array(n);
  let k = 1;
  for (let at = joined.indexOf('\n'); at !== -1; at = joined.indexOf('\n', at + 1)) starts[k++] = at + 1;
  return starts;
}
