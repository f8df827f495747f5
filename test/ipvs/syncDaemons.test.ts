import { describe, expect, it } from 'vitest';
import type { LvsSyncDaemon } from '../../src/config/model.js';
import { planSyncDaemons, sameDaemon, wantedSyncDaemons } from '../../src/ipvs/syncDaemons.js';

const config: LvsSyncDaemon = { loc: { file: '/etc/ka.conf', line: 2 }, interface: 'eth0', vrrpInstance: 'VI_1', syncId: 51 };
const backup = { state: 'backup' as const, interface: 'eth0', syncId: 51 };
const master = { state: 'master' as const, interface: 'eth0', syncId: 51 };

describe('wantedSyncDaemons', () => {
  it('one daemon for master or backup, both without an instance, none without a config; options carried', () => {
    expect(wantedSyncDaemons(config, 'backup')).toEqual([backup]);
    expect(wantedSyncDaemons(config, 'master')).toEqual([master]);
    expect(wantedSyncDaemons({ ...config, port: 8849, ttl: 2, maxLen: 1400, group: '239.0.0.9' }, 'both')).toEqual([
      { ...master, port: 8849, ttl: 2, maxLen: 1400, group: '239.0.0.9' },
      { ...backup, port: 8849, ttl: 2, maxLen: 1400, group: '239.0.0.9' },
    ]);
    expect(wantedSyncDaemons(undefined, 'both')).toEqual([]);
  });
});

describe('planSyncDaemons', () => {
  it('a role switch starts the new daemon before it stops the old one (no gap)', () => {
    expect(planSyncDaemons([backup], [master])).toEqual([
      { op: 'start', spec: master, reason: 'added' },
      { op: 'stop', state: 'backup', syncId: 51, reason: 'removed' },
    ]);
    expect(planSyncDaemons([master], [backup]).map((o) => o.op)).toEqual(['start', 'stop']);
  });

  it('nothing to do when the kernel already runs it, its defaults reported (port 8848, ttl 1, group 224.0.0.81, any maxlen)', () => {
    expect(planSyncDaemons([{ ...backup, maxLen: 1472, port: 8848, ttl: 1, group: '224.0.0.81' }], [backup])).toEqual([]);
    expect(sameDaemon({ ...backup, port: 8849 }, backup)).toBe(false);
    expect(sameDaemon({ ...backup, maxLen: 1472 }, { ...backup, maxLen: 1400 })).toBe(false);
    expect(sameDaemon({ ...backup, ttl: 1 }, { ...backup, ttl: 1 })).toBe(true);
  });

  it('a changed daemon of the same state is replaced (the kernel runs one per state); a state no longer wanted stops', () => {
    const moved = { ...backup, interface: 'eth1' };
    expect(planSyncDaemons([backup], [moved])).toEqual([
      { op: 'stop', state: 'backup', syncId: 51, reason: 'changed' },
      { op: 'start', spec: moved, reason: 'changed' },
    ]);
    expect(planSyncDaemons([master, backup], [])).toEqual([
      { op: 'stop', state: 'master', syncId: 51, reason: 'removed' },
      { op: 'stop', state: 'backup', syncId: 51, reason: 'removed' },
    ]);
    // both → master with a new sync id: the master is replaced, the backup stops last
    expect(planSyncDaemons([master, backup], [{ ...master, syncId: 9 }]).map((o) => `${o.op} ${o.op === 'start' ? o.spec.state : o.state}`)).toEqual([
      'stop master', 'start master', 'stop backup',
    ]);
  });
});
