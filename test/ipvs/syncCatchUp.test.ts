import { describe, expect, it } from 'vitest';
import { SyncCatchUp } from '../../src/ipvs/syncCatchUp.js';

const settings = { minMs: 5000, quietMs: 5000, capMs: 30_000 };

describe('SyncCatchUp: when a returning director has the master\'s connections', () => {
  it('an empty table that stays empty: released at minMs (the sync stream had a full quiet window)', () => {
    const c = new SyncCatchUp(settings, 0, 0);
    expect(c.sample(4_999, 0)).toEqual({ release: false });
    expect(c.sample(5_000, 0)).toEqual({ release: true, reason: 'quiet', connections: 0, afterMs: 5_000 });
  });

  it('connections arriving as their packets flow: released quietMs after the last one arrived', () => {
    const c = new SyncCatchUp(settings, 1_000, 0);
    expect(c.sample(2_000, 5).release).toBe(false);
    expect(c.sample(4_000, 20).release).toBe(false);
    expect(c.sample(8_000, 20).release).toBe(false); // 4 s quiet
    expect(c.sample(9_000, 19)).toEqual({ release: true, reason: 'quiet', connections: 20, afterMs: 8_000 }); // a drop is not growth
  });

  it('a table that keeps growing is released at the cap', () => {
    const c = new SyncCatchUp(settings, 0, 0);
    for (let t = 1_000; t < 30_000; t += 1_000) expect(c.sample(t, t).release).toBe(false);
    expect(c.sample(30_000, 30_000)).toMatchObject({ release: true, reason: 'cap' });
  });
});
