import { describe, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/config/model.js';
import { diffConfigs } from '../../src/daemon/configDiff.js';
import { VrrpPart, type VrrpRunner } from '../../src/daemon/vrrpPart.js';
import { vrrpUnits } from '../../src/vrrp/units.js';
import { silentLogger } from '../../src/util/log.js';
import type { VrrpInstanceStatus } from '../../src/vrrp/service.js';
import { globalDefs, instance, model, relocated, vip } from './modelFixtures.js';

function fakeRunners() {
  const log: string[] = [];
  let next = 1;
  const create = (unit: ConfigModel): VrrpRunner => {
    const id = `${unit.vrrpInstances.map((i) => i.name).join('+')}#${next++}`;
    return {
      start: async () => void log.push(`start ${id}`),
      stop: async () => void log.push(`stop ${id}`),
      status: () =>
        unit.vrrpInstances.map(
          (i) =>
            ({
              name: i.name,
              interface: i.interface ?? '',
              vrid: i.virtualRouterId,
              version: 2,
              state: 'MASTER',
              basePriority: i.priority,
              effectivePriority: i.priority,
              sourceIp: '10.0.0.1',
              masterIp: undefined,
              lastTransition: undefined,
              lastTransitionEpochMs: 5,
              faultReasons: [],
              vips: i.virtualIpAddresses.map((v) => `${v.address}/${v.prefixLength}`),
              vipEntries: i.virtualIpAddresses.map((v) => ({ address: v.address, prefixLength: v.prefixLength, dev: 'eth0', excluded: false })),
              routes: [],
              rules: [],
              routeErrors: 0,
              receive: { advertisementsReceived: 3, priorityZeroReceived: 1 },
              machine: { advertisementsRequested: 10, becomeMaster: 1, releaseMaster: 0, priorityZeroRequested: 0 },
              send: { advertisementsSent: 9, priorityZeroSent: 0, sendErrors: 1 },
              garp: { garpSent: 4, garpErrors: 1 },
              na: { naSent: 5, naErrors: 2 },
              vipErrors: 0,
            }) as unknown as VrrpInstanceStatus,
        ),
      scriptStatus: () => [],
      interfaceStatus: () => [
        {
          interface: 'eth0',
          family: 'inet',
          transport: { packetsReceived: 100, packetsSent: 10, sendErrors: 0, socketErrors: 1, receiveBufferDrops: 7, oversizedReceived: 0, receiveBatches: 20, preferredReceived: 5, preferredBufferDrops: 0 },
          dispatcher: { undecodable: 2, unknownVrid: 0 },
        },
      ],
      holdPreemption: (name, held) => void log.push(`hold ${id} ${name} ${held}`),
    };
  };
  return { log, create };
}

const two = () => model({ vrrpInstances: [instance(), instance({ name: 'VI_2', virtualRouterId: 52, virtualIpAddresses: [vip('10.0.0.200')] })] });

describe('VrrpPart', () => {
  it('a preemption hold reaches the running units and those started later (before they start)', async () => {
    const r = fakeRunners();
    const part = new VrrpPart(r.create, silentLogger());
    part.holdPreemption('VI_1', true);
    await part.start(model());
    part.holdPreemption('VI_1', false);
    expect(r.log).toEqual(['hold VI_1#1 VI_1 true', 'start VI_1#1', 'hold VI_1#1 VI_1 false']);
  });

  it('one unit per instance, one per sync group', () => {
    const m = model({
      vrrpInstances: [instance(), instance({ name: 'VI_2', virtualRouterId: 52 }), instance({ name: 'VI_3', virtualRouterId: 53 })],
      vrrpSyncGroups: [{ loc: { file: 'x', line: 1 }, name: 'G', group: ['VI_1', 'VI_3'], trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], smtpAlert: false, globalTracking: false }],
    });
    const units = vrrpUnits(m);
    expect([...units.values()].map((u) => u.vrrpInstances.map((i) => i.name))).toEqual([['VI_1', 'VI_3'], ['VI_2']]);
    expect([...units.values()].every((u) => u.virtualServers.length === 0)).toBe(true);
  });

  it('reload restarts only the changed instance; the unchanged one keeps running (no stop, no start)', async () => {
    const { log, create } = fakeRunners();
    const part = new VrrpPart(create, silentLogger());
    const before = two();
    await part.start(before);
    expect(log).toEqual(['start VI_1#1', 'start VI_2#2']);
    log.length = 0;
    const after = model({ vrrpInstances: [instance(), instance({ name: 'VI_2', virtualRouterId: 52, virtualIpAddresses: [vip('10.0.0.201')] })] });
    await part.reload(after, diffConfigs(before, after));
    expect(log).toEqual(['stop VI_2#2', 'start VI_2#3']);
  });

  it('an identical config (moved in the file) touches nothing', async () => {
    const { log, create } = fakeRunners();
    const part = new VrrpPart(create, silentLogger());
    const before = two();
    await part.start(before);
    log.length = 0;
    const after = relocated(before);
    await part.reload(after, diffConfigs(before, after));
    expect(log).toEqual([]);
  });

  it('a removed instance is stopped, an added one started', async () => {
    const { log, create } = fakeRunners();
    const part = new VrrpPart(create, silentLogger());
    const before = two();
    await part.start(before);
    log.length = 0;
    const after = model({ vrrpInstances: [instance(), instance({ name: 'VI_9', virtualRouterId: 60 })] });
    await part.reload(after, diffConfigs(before, after));
    expect(log).toEqual(['stop VI_2#2', 'start VI_9#3']);
  });

  it('stop stops every unit; metrics snapshots map the service counters', async () => {
    const { log, create } = fakeRunners();
    const part = new VrrpPart(create, silentLogger());
    await part.start(two());
    const snap = part.instances()[0]!;
    expect(snap).toMatchObject({ name: 'VI_1', vrid: 51, state: 'MASTER', masterAddress: '10.0.0.1', vips: ['10.0.0.100/32'] });
    // The exporter's label: keepalived writes a full-length prefix as no prefix at all.
    expect(snap?.vipLabels).toEqual([{ ipAddress: '10.0.0.100', intf: 'eth0', excluded: false }]);
    // advertSent is what the kernel took (send), not what the core asked for (machine).
    expect(snap.counters).toMatchObject({ advertRcvd: 3, advertSent: 9, becomeMaster: 1, priZeroRcvd: 1, sendErrors: 1, garpSent: 4, garpErrors: 1, naSent: 5, naErrors: 2 });
    // Each unit has its own socket on eth0: the metrics show one interface, the sum.
    expect(part.sockets()).toEqual([
      { interface: 'eth0', packetsReceived: 200, packetsSent: 20, receiveBufferDrops: 14, oversizedReceived: 0, readErrors: 2, undecodable: 4, unknownVrid: 0, priorityLaneReceived: 10, priorityLaneBufferDrops: 0 },
    ]);
    await part.stop();
    expect(log.slice(-2).sort()).toEqual(['stop VI_1#1', 'stop VI_2#2']);
    expect(part.instances()).toEqual([]);
  });
});

describe('VrrpPart: global_defs', () => {
  it('an lvs_* or router_id edit restarts nothing; a vrrp_* global edit restarts every unit', async () => {
    const { log, create } = fakeRunners();
    const part = new VrrpPart(create, silentLogger());
    const before = two();
    await part.start(before);
    log.length = 0;
    const lvs = model({ ...before, global: globalDefs({ lvsTimeouts: { tcp: 900 }, routerId: 'lb9' }) });
    await part.reload(lvs, diffConfigs(before, lvs));
    expect(log).toEqual([]);
    const mcast = model({ ...lvs, global: globalDefs({ lvsTimeouts: { tcp: 900 }, routerId: 'lb9', vrrpMcastGroup4: '224.0.0.19' }) });
    await part.reload(mcast, diffConfigs(lvs, mcast));
    expect(log.filter((l) => l.startsWith('stop'))).toHaveLength(2);
    expect(log.filter((l) => l.startsWith('start'))).toHaveLength(2);
  });
});
