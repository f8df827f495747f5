/**
 * The reconciler at work on the real kernel (IpvsService = reconciler + IpvsClient + a real clock), judged by
 * ipvsadm: it builds the configured table, leaves a foreign service alone, adopts what it finds in place,
 * restores the table after `ipvsadm -C` and after hand edits at the next periodic sync, follows health
 * decisions, and removes only its own services at stop.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { IpvsService } from '../../src/ipvs/ipvsService.js';
import type { IpvsPlan, PlannedDestination } from '../../src/ipvs/fromConfig.js';
import type { DestinationSpec } from '../../src/ipvs/types.js';
import { SystemClock } from '../../src/util/clock.js';
import { hasIpvs, ipvsadm, listedStats, restoreRules, savedRules } from './helpers/kernel.js';
import { startTrafficLab, type TrafficLab } from './helpers/lab.js';
import { dest, fwmark, service, tcp4, tcp6 } from './helpers/specs.js';

const RESYNC_MS = 300;

function planned(d: DestinationSpec): PlannedDestination {
  const host = d.address.includes(':') ? `[${d.address}]` : d.address;
  return { key: `${host}:${d.port}`, destination: d, inhibitOnFailure: false, initiallyInTable: true, initialWeight: d.weight };
}

function plan(): IpvsPlan {
  return {
    virtualServers: [
      {
        virtualServer: '10.92.0.1:80/TCP',
        services: [service(tcp4('10.92.0.1', 80), 'wlc', { persistence: { timeoutSeconds: 300, prefixLength: 32 } })],
        realServers: [planned(dest('10.92.1.1', 80, 'nat', { weight: 3 })), planned(dest('10.92.1.2', 80, 'nat', { weight: 1 }))],
      },
      {
        virtualServer: '[2001:db8:92::1]:443/TCP',
        services: [service(tcp6('2001:db8:92::1', 443), 'rr')],
        realServers: [planned(dest('2001:db8:92:1::1', 443, 'dr', { weight: 2 }))],
      },
      {
        virtualServer: 'fwmark:5/IPv4',
        services: [service(fwmark(5), 'sh')],
        realServers: [planned(dest('10.92.1.3', 0, 'tunnel', { weight: 1, tunnel: { type: 'ipip', port: 0, flags: 0 } }))],
      },
    ],
    flushAtStart: false,
    flushOnStop: false,
    warnings: [],
  };
}

/** The configured table as `ipvsadm -Sn` prints it (sorted). */
const OURS = [
  '-A -f 5 -s sh',
  '-A -t 10.92.0.1:80 -s wlc -p 300',
  '-A -t [2001:db8:92::1]:443 -s rr',
  '-a -f 5 -r 10.92.1.3:0 -i -w 1 --tun-type ipip',
  '-a -t 10.92.0.1:80 -r 10.92.1.1:80 -m -w 3',
  '-a -t 10.92.0.1:80 -r 10.92.1.2:80 -m -w 1',
  '-a -t [2001:db8:92::1]:443 -r [2001:db8:92:1::1]:443 -g -w 2',
];
const FOREIGN = ['-A -u 10.92.9.9:53 -s rr', '-a -u 10.92.9.9:53 -r 10.92.9.10:53 -m -w 1'];
const sorted = (rules: string[]): string[] => [...rules].sort();

/** Polls ipvsadm until the table is `want` (the periodic sync runs every RESYNC_MS). */
async function tableBecomes(want: string[], withinMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let got = await savedRules();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    got = await savedRules();
  }
  return got;
}

describe.skipIf(!hasIpvs)('the reconciler on the real kernel', () => {
  let ipvs: IpvsClient;
  let svc: IpvsService | undefined;
  beforeAll(async () => {
    ipvs = await IpvsClient.open();
  });
  afterAll(async () => {
    await ipvsadm('-C');
    ipvs?.close();
  });
  beforeEach(async () => {
    await ipvsadm('-C');
    await restoreRules(FOREIGN);
  });
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  const startService = async (opts: { keepOnStop?: boolean } = {}): Promise<IpvsService> => {
    svc = new IpvsService(ipvs, { clock: new SystemClock(), resyncIntervalMs: RESYNC_MS, ...opts });
    await svc.start(plan());
    return svc;
  };

  it('builds the configured table next to a foreign service, and a second sync changes nothing', async () => {
    const s = await startService();
    expect(await savedRules()).toEqual(sorted([...OURS, ...FOREIGN]));
    const again = await s.syncNow();
    expect(again.operations).toBe(0);
  });

  it('restores the table after ipvsadm -C at the next periodic sync', async () => {
    const s = await startService();
    await ipvsadm('-C');
    expect(await tableBecomes(sorted(OURS))).toEqual(sorted(OURS));
    expect(s.counters.driftRepairs).toBeGreaterThan(0);
  });

  it('undoes hand edits of its services and leaves the foreign one, edits included, alone', async () => {
    await startService();
    await ipvsadm('-e', '-t', '10.92.0.1:80', '-r', '10.92.1.1:80', '-m', '-w', '9'); // weight changed
    await ipvsadm('-d', '-t', '[2001:db8:92::1]:443', '-r', '[2001:db8:92:1::1]:443'); // destination deleted
    await ipvsadm('-a', '-t', '10.92.0.1:80', '-r', '10.92.1.99:80', '-m'); // stranger added to ours
    await ipvsadm('-E', '-f', '5', '-s', 'rr'); // scheduler changed
    await ipvsadm('-D', '-t', '10.92.0.1:80'); // and then the whole service deleted
    await ipvsadm('-a', '-u', '10.92.9.9:53', '-r', '10.92.9.11:53', '-m', '-w', '4'); // the foreign service grows
    const foreignNow = [...FOREIGN, '-a -u 10.92.9.9:53 -r 10.92.9.11:53 -m -w 4'];
    expect(await tableBecomes(sorted([...OURS, ...foreignNow]))).toEqual(sorted([...OURS, ...foreignNow]));
  });

  it('follows health decisions: out of the table, inhibited to weight 0, back in', async () => {
    const s = await startService();
    s.setDestinationHealth('10.92.0.1:80/TCP', '10.92.1.2:80', { inTable: false, weight: 1 });
    const without = OURS.filter((r) => !r.includes('10.92.1.2:80'));
    expect(await tableBecomes(sorted([...without, ...FOREIGN]))).toEqual(sorted([...without, ...FOREIGN]));
    s.setDestinationHealth('10.92.0.1:80/TCP', '10.92.1.2:80', { inTable: true, weight: 0 });
    const inhibited = OURS.map((r) => (r.includes('10.92.1.2:80') ? r.replace('-w 1', '-w 0') : r));
    expect(await tableBecomes(sorted([...inhibited, ...FOREIGN]))).toEqual(sorted([...inhibited, ...FOREIGN]));
    s.setDestinationHealth('10.92.0.1:80/TCP', '10.92.1.2:80', { inTable: true, weight: 1 });
    expect(await tableBecomes(sorted([...OURS, ...FOREIGN]))).toEqual(sorted([...OURS, ...FOREIGN]));
  });

  it('removes only its own services at stop, or none with keepOnStop', async () => {
    const s = await startService();
    await s.stop();
    svc = undefined;
    expect(await savedRules()).toEqual(sorted(FOREIGN));
    const kept = await startService({ keepOnStop: true });
    await kept.stop();
    svc = undefined;
    expect(await savedRules()).toEqual(sorted([...OURS, ...FOREIGN]));
  });

  describe('with traffic', () => {
    let lab: TrafficLab;
    beforeAll(() => {
      lab = startTrafficLab('tv-rc', 91);
    });
    afterAll(() => lab?.close());

    it('adopts a service it finds with other settings in place (its counters survive: not re-created)', async () => {
      await restoreRules([`-A -t ${lab.vip4}:80 -s wrr`, `-a -t ${lab.vip4}:80 -r ${lab.realServer4}:80 -m -w 7`, `-a -t ${lab.vip4}:80 -r 10.91.1.77:80 -m -w 0`]);
      expect(lab.get(lab.vip4)).toBe(200);
      await new Promise((r) => setTimeout(r, 2500)); // the estimator publishes counters every 2 s
      expect((await listedStats()).get(`TCP ${lab.vip4}:80`)?.connections).toBe(1);
      const adopted: IpvsPlan = {
        virtualServers: [{ virtualServer: `${lab.vip4}:80/TCP`, services: [service(tcp4(lab.vip4, 80), 'rr')], realServers: [planned(dest(lab.realServer4, 80, 'nat', { weight: 2 }))] }],
        flushAtStart: false,
        flushOnStop: false,
        warnings: [],
      };
      svc = new IpvsService(ipvs, { clock: new SystemClock(), resyncIntervalMs: 0 });
      await svc.start(adopted);
      expect(await savedRules()).toEqual(sorted([...FOREIGN, `-A -t ${lab.vip4}:80 -s rr`, `-a -t ${lab.vip4}:80 -r ${lab.realServer4}:80 -m -w 2`]));
      expect((await listedStats()).get(`TCP ${lab.vip4}:80`)?.connections).toBe(1);
      expect(lab.get(lab.vip4)).toBe(200);
    });
  });
});
