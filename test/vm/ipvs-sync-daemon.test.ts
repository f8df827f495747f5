/**
 * The sync daemon commands of IpvsClient against the real kernel, judged by `ipvsadm -L --daemon` (an
 * independent reader), and ipvsadm's own daemons read back by the client: start with and without the
 * 4.3+ options, master and backup at once, stop one, the typed errors (EEXIST, ESRCH) and an unknown
 * interface.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { IpvsExistsError, IpvsKernelError, IpvsNoServiceError } from '../../src/ipvs/errors.js';
import { hasIpvs, ipvsadm, sh } from './helpers/kernel.js';

const IF = 'tsync0';

async function stopAll(): Promise<void> {
  for (const state of ['master', 'backup']) await ipvsadm('--stop-daemon', state).catch(() => undefined);
}

/** `ipvsadm -L --daemon`, one line per daemon, sorted. */
async function listed(): Promise<string[]> {
  return (await ipvsadm('-L', '--daemon')).split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

describe.skipIf(!hasIpvs)('IPVS sync daemons on the real kernel', () => {
  let ipvs: IpvsClient;
  beforeAll(async () => {
    sh('ip', 'link', 'add', IF, 'type', 'dummy');
    sh('ip', 'link', 'set', IF, 'multicast', 'on', 'up');
    ipvs = await IpvsClient.open();
  });
  afterAll(async () => {
    await stopAll();
    ipvs?.close();
    sh('ip', 'link', 'del', IF);
  });
  beforeEach(stopAll);

  it('starts a backup daemon with the kernel defaults: ipvsadm shows it, the client reads the defaults back', async () => {
    await ipvs.startSyncDaemon({ state: 'backup', interface: IF, syncId: 51 });
    const lines = await listed();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^backup sync daemon \\(mcast=${IF}, syncid=51\\b`));
    const [d] = await ipvs.listSyncDaemons();
    expect(d).toMatchObject({ state: 'backup', interface: IF, syncId: 51, port: 8848, ttl: 1, group: '224.0.0.81' });
    expect(d?.maxLen).toBeGreaterThan(0);
    console.log(`kernel defaults: ${lines[0]} -> ${JSON.stringify(d)}`);
  });

  it('master and backup at once, every option set, as ipvsadm would start them', async () => {
    await ipvs.startSyncDaemon({ state: 'master', interface: IF, syncId: 7, maxLen: 1400, port: 8849, ttl: 2, group: '239.1.2.3' });
    await ipvs.startSyncDaemon({ state: 'backup', interface: IF, syncId: 7, maxLen: 1400, port: 8849, ttl: 2, group: '239.1.2.3' });
    const ours = await listed();
    expect(ours).toEqual([
      `backup sync daemon (mcast=${IF}, syncid=7, maxlen=1400, group=239.1.2.3, port=8849, ttl=2)`,
      `master sync daemon (mcast=${IF}, syncid=7, maxlen=1400, group=239.1.2.3, port=8849, ttl=2)`,
    ]);
    // The same daemons started by ipvsadm list identically, and the client reads ipvsadm's.
    await stopAll();
    for (const state of ['master', 'backup']) {
      await ipvsadm('--start-daemon', state, '--mcast-interface', IF, '--syncid', '7', '--sync-maxlen', '1400', '--mcast-group', '239.1.2.3', '--mcast-port', '8849', '--mcast-ttl', '2');
    }
    expect(await listed()).toEqual(ours);
    const read = (await ipvs.listSyncDaemons()).sort((a, b) => a.state.localeCompare(b.state));
    expect(read).toEqual([
      { state: 'backup', interface: IF, syncId: 7, maxLen: 1400, port: 8849, ttl: 2, group: '239.1.2.3' },
      { state: 'master', interface: IF, syncId: 7, maxLen: 1400, port: 8849, ttl: 2, group: '239.1.2.3' },
    ]);
  });

  it('stops one state and leaves the other; the typed errors for a second start and a stop of nothing', async () => {
    await ipvs.startSyncDaemon({ state: 'master', interface: IF, syncId: 3 });
    await ipvs.startSyncDaemon({ state: 'backup', interface: IF, syncId: 3 });
    await expect(ipvs.startSyncDaemon({ state: 'master', interface: IF, syncId: 3 })).rejects.toBeInstanceOf(IpvsExistsError);
    await ipvs.stopSyncDaemon('master', 3);
    expect((await listed()).map((l) => l.split(' ')[0])).toEqual(['backup']);
    await expect(ipvs.stopSyncDaemon('master', 3)).rejects.toBeInstanceOf(IpvsNoServiceError);
    await ipvs.stopSyncDaemon('backup');
    expect(await listed()).toEqual([]);
    expect(await ipvs.listSyncDaemons()).toEqual([]);
  });

  it('an interface that does not exist is refused by the kernel (ENODEV), nothing starts', async () => {
    const err = await ipvs.startSyncDaemon({ state: 'backup', interface: 'nosuch0', syncId: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsKernelError);
    expect((err as IpvsKernelError).errno).toBe(19);
    expect(await listed()).toEqual([]);
  });
});
