import type { HealthCounters, HealthSnapshot } from '../events.js';

/**
 * A snapshot in columns, for the trip from the checker worker to the main thread. Structured-cloning the
 * object form of 10,000 real servers costs the main thread 40–70 ms (measured) — long enough to delay a VRRP
 * advert. In columns it is three transferred Float64Arrays (no copy) and one string, and building the
 * objects back on the main thread is a few milliseconds.
 */
export interface CompactSnapshot {
  /**
   * Every distinct virtual-server key, real-server key and checker type, joined by '\n'. Apart from the
   * reasons, so that two snapshots of one plan number their keys alike whatever the servers' reasons say
   * (HealthSnapshotView compares layouts by these indices).
   */
  keys: string;
  /** Every distinct reason (real servers', checkers' last), joined by '\n'. */
  texts: string;
  /** Per virtual server: key, quorumUp, liveWeight, quorum, hysteresis, sorryActive, realServerCount. */
  vs: Float64Array;
  /** Per real server: key, alive, inTable, weight, reason (a text), checkerCount. */
  rs: Float64Array;
  /** Per checker: type, up, hasRun, retryIt, lastDurationMs (NaN = none), lastReason (a text; -1 = none), checks, failures. */
  ck: Float64Array;
  counters: HealthCounters;
  scheduleLatenessMs?: number | undefined;
}

/** Columns per row of vs, rs and ck, and the columns other modules read. */
export const VS_W = 7;
export const RS_W = 6;
export const CK_W = 8;
export const VS_KEY = 0;
export const VS_QUORUM_UP = 1;
export const VS_RS_COUNT = 6;
export const RS_KEY = 0;
export const RS_CK_COUNT = 5;
export const CK_TYPE = 0;
export const CK_LAST_DURATION = 4;
export const CK_CHECKS = 6;

/** Distinct strings numbered in order of first use; joined by '\n' for the trip. */
class StringInterner {
  private readonly index = new Map<string, number>();
  private readonly table: string[] = [];

  intern(v: string): number {
    const clean = v.replace(/\n/g, ' ');
    let i = this.index.get(clean);
    if (i === undefined) {
      i = this.table.length;
      this.table.push(clean);
      this.index.set(clean, i);
    }
    return i;
  }

  joined(): string {
    return this.table.join('\n');
  }
}

export function encodeSnapshot(s: HealthSnapshot): CompactSnapshot {
  const keys = new StringInterner();
  const texts = new StringInterner();
  const key = (v: string): number => keys.intern(v);
  const text = (v: string): number => texts.intern(v);
  let nRs = 0;
  let nCk = 0;
  for (const v of s.virtualServers) {
    nRs += v.realServers.length;
    for (const r of v.realServers) nCk += r.checkers.length;
  }
  const vs = new Float64Array(s.virtualServers.length * VS_W);
  const rs = new Float64Array(nRs * RS_W);
  const ck = new Float64Array(nCk * CK_W);
  let vi = 0;
  let ri = 0;
  let ci = 0;
  for (const v of s.virtualServers) {
    vs.set([key(v.key), +v.quorumUp, v.liveWeight, v.quorum, v.hysteresis, +v.sorryActive, v.realServers.length], vi);
    vi += VS_W;
    for (const r of v.realServers) {
      rs.set([key(r.key), +r.alive, +r.inTable, r.weight, text(r.reason), r.checkers.length], ri);
      ri += RS_W;
      for (const c of r.checkers) {
        ck[ci] = key(c.type);
        ck[ci + 1] = +c.up;
        ck[ci + 2] = +c.hasRun;
        ck[ci + 3] = c.retryIt;
        ck[ci + 4] = c.lastDurationMs ?? Number.NaN;
        ck[ci + 5] = c.lastReason === null ? -1 : text(c.lastReason);
        ck[ci + 6] = c.checks;
        ck[ci + 7] = c.failures;
        ci += CK_W;
      }
    }
  }
  return { keys: keys.joined(), texts: texts.joined(), vs, rs, ck, counters: s.counters, scheduleLatenessMs: s.scheduleLatenessMs };
}

export function decodeSnapshot(c: CompactSnapshot): HealthSnapshot {
  const steps = decodeSnapshotSteps(c);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * decodeSnapshot one virtual server at a time: each step yields the checkers decoded so far, so that a
 * caller on a loop that must stay responsive (the main thread's VRRP) can spread 10,000 checkers over
 * several turns (see decodeSnapshotSliced in service.ts) instead of holding the loop for the whole.
 */
export function* decodeSnapshotSteps(c: CompactSnapshot): Generator<number, HealthSnapshot, undefined> {
  const keyTable = c.keys.length ? c.keys.split('\n') : [];
  const textTable = c.texts.length ? c.texts.split('\n') : [];
  const key = (i: number): string => keyTable[i] ?? '';
  const text = (i: number): string => textTable[i] ?? '';
  const out: HealthSnapshot = { virtualServers: [], counters: { ...c.counters }, scheduleLatenessMs: c.scheduleLatenessMs };
  let ri = 0;
  let ci = 0;
  for (let vi = 0; vi < c.vs.length; vi += VS_W) {
    const realServers = [];
    const nRs = c.vs[vi + 6]!;
    for (let k = 0; k < nRs; k++, ri += RS_W) {
      const checkers = [];
      const nCk = c.rs[ri + 5]!;
      for (let j = 0; j < nCk; j++, ci += CK_W) {
        const d = c.ck[ci + 4]!;
        const reason = c.ck[ci + 5]!;
        checkers.push({
          type: key(c.ck[ci]!),
          up: c.ck[ci + 1] === 1,
          hasRun: c.ck[ci + 2] === 1,
          retryIt: c.ck[ci + 3]!,
          lastDurationMs: Number.isNaN(d) ? null : d,
          lastReason: reason < 0 ? null : text(reason),
          checks: c.ck[ci + 6]!,
          failures: c.ck[ci + 7]!,
        });
      }
      realServers.push({
        key: key(c.rs[ri]!),
        alive: c.rs[ri + 1] === 1,
        inTable: c.rs[ri + 2] === 1,
        weight: c.rs[ri + 3]!,
        reason: text(c.rs[ri + 4]!),
        checkers,
      });
    }
    out.virtualServers.push({
      key: key(c.vs[vi]!),
      quorumUp: c.vs[vi + 1] === 1,
      liveWeight: c.vs[vi + 2]!,
      quorum: c.vs[vi + 3]!,
      hysteresis: c.vs[vi + 4]!,
      sorryActive: c.vs[vi + 5] === 1,
      realServers,
    });
    yield ci / CK_W;
  }
  return out;
}
