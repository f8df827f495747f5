import { describe, expect, it } from 'vitest';
import { virtualServerKey, vrrpInstanceKey } from '../../src/config/keys.js';
import { canonical } from '../../src/config/canonical.js';
import { diffConfigs, isEmptyDiff, summarizeDiff } from '../../src/daemon/configDiff.js';
import { globalDefs, instance, model, realServer, relocated, tcpCheck, vip, virtualServer } from './modelFixtures.js';

const none = { added: [], removed: [], changed: [] };

describe('configDiff: identity', () => {
  it('an identical config is an empty diff, even when every block moved in the file', () => {
    const before = model();
    const diff = diffConfigs(before, relocated(before));
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff).toEqual({ vrrpInstances: none, virtualServers: none, servicesChanged: false, lvsGlobalsChanged: false, otherSectionsChanged: [] });
  });

  it('instances are matched by interface + VRID + family: a rename is a change of the same instance', () => {
    const diff = diffConfigs(model(), model({ vrrpInstances: [instance({ name: 'VI_renamed' })] }));
    expect(diff.vrrpInstances).toEqual({ added: [], removed: [], changed: ['eth0/vrid 51/inet'] });
  });

  it('another VRID, interface or family is another instance (remove + add)', () => {
    for (const other of [instance({ virtualRouterId: 52 }), instance({ interface: 'eth1' }), instance({ family: 'inet6' })]) {
      const diff = diffConfigs(model(), model({ vrrpInstances: [other] }));
      expect(diff.vrrpInstances).toEqual({ added: [vrrpInstanceKey(other)], removed: ['eth0/vrid 51/inet'], changed: [] });
    }
  });

  it('the same address and port over UDP is another virtual server', () => {
    const diff = diffConfigs(model(), model({ virtualServers: [virtualServer({ protocol: 'UDP' })] }));
    expect(diff.virtualServers).toEqual({ added: ['10.0.0.100:80/UDP'], removed: ['10.0.0.100:80/TCP'], changed: [] });
    expect(diff.servicesChanged).toBe(true);
  });

  it('virtual_server group G over TCP and over UDP are two virtual servers', () => {
    const group = (protocol: 'TCP' | 'UDP') => virtualServer({ address: undefined, port: undefined, group: 'G', protocol });
    const both = model({ virtualServers: [group('TCP'), group('UDP')] });
    expect(both.virtualServers.map(virtualServerKey)).toEqual(['group:G/TCP', 'group:G/UDP']);
    const diff = diffConfigs(both, model({ virtualServers: [group('TCP'), { ...group('UDP'), lbAlgo: 'wlc' }] }));
    expect(diff.virtualServers).toEqual({ added: [], removed: [], changed: ['group:G/UDP'] });
  });

  it('duplicate keys are matched occurrence by occurrence, nothing lost', () => {
    const twice = model({ vrrpInstances: [instance(), instance({ name: 'dup' })] });
    expect(isEmptyDiff(diffConfigs(twice, relocated(twice)))).toBe(true);
    expect(diffConfigs(twice, model()).vrrpInstances.removed).toEqual(['eth0/vrid 51/inet#2']);
  });
});

describe('configDiff: VRRP instances', () => {
  it('a VIP added is a change of that instance alone', () => {
    const diff = diffConfigs(model(), model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.100'), vip('10.0.0.102')] }), ] }));
    expect(diff.vrrpInstances.changed).toEqual(['eth0/vrid 51/inet']);
    expect(diff.servicesChanged).toBe(false);
  });

  it('reordering VIPs changes nothing', () => {
    const before = model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.100'), vip('10.0.0.101')] })] });
    const after = model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.101'), vip('10.0.0.100')] })] });
    expect(isEmptyDiff(diffConfigs(before, after))).toBe(true);
  });

  it('an added instance next to an unchanged one leaves the unchanged one unchanged', () => {
    const diff = diffConfigs(model(), model({ vrrpInstances: [instance(), instance({ name: 'VI_2', virtualRouterId: 52 })] }));
    expect(diff.vrrpInstances).toEqual({ added: ['eth0/vrid 52/inet'], removed: [], changed: [] });
  });
});

describe('configDiff: virtual and real servers', () => {
  it('a scheduler, real-server or checker change is a change of its virtual server; the health and IPVS parts act', () => {
    const changes = [
      virtualServer({ lbAlgo: 'wlc' }),
      virtualServer({ realServers: [realServer('192.168.1.10', { weight: 5 }), realServer('192.168.1.11')] }),
      virtualServer({ realServers: [realServer('192.168.1.10', { checkers: [tcpCheck({ connectIp: '192.168.1.10', connectTimeout: 9 })] }), realServer('192.168.1.11')] }),
    ];
    for (const after of changes) {
      const diff = diffConfigs(model(), model({ virtualServers: [after] }));
      expect(diff.virtualServers).toEqual({ added: [], removed: [], changed: ['10.0.0.100:80/TCP'] });
      expect(diff.servicesChanged).toBe(true);
      expect(diff.lvsGlobalsChanged).toBe(false);
    }
  });

  it('reordering real servers changes nothing', () => {
    const vs = virtualServer();
    const diff = diffConfigs(model({ virtualServers: [vs] }), model({ virtualServers: [{ ...vs, realServers: [...vs.realServers].reverse() }] }));
    expect(vs.realServers.length).toBeGreaterThan(1);
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it('a removed virtual server is removed; others stay unchanged', () => {
    const two = model({ virtualServers: [virtualServer(), virtualServer({ port: 443 })] });
    const diff = diffConfigs(two, model());
    expect(diff.virtualServers).toEqual({ added: [], removed: ['10.0.0.100:443/TCP'], changed: [] });
    expect(summarizeDiff(diff)).toMatchObject({ virtualServersRemoved: 1, virtualServersChanged: 0 });
  });
});

describe('configDiff: other sections', () => {
  it('reports global, script, sync-group and group changes by section; a group change is a services change', () => {
    const diff = diffConfigs(model(), model({ global: globalDefs({ routerId: 'lb2' }) }));
    expect(diff.otherSectionsChanged).toEqual(['global']);
    expect(diff.servicesChanged).toBe(false);
    expect(diff.lvsGlobalsChanged).toBe(false);
    expect(isEmptyDiff(diff)).toBe(false);
    const groups = diffConfigs(model(), model({ virtualServerGroups: [{ loc: { file: 'x', line: 1 }, name: 'g', entries: [] }] }));
    expect(groups.otherSectionsChanged).toEqual(['virtualServerGroups']);
    expect(groups.servicesChanged).toBe(true);
  });

  it('lvs_timeouts, lvs_flush and lvs_flush_onstop are the lvs globals', () => {
    const g = globalDefs();
    for (const over of [{ lvsTimeouts: { ...g.lvsTimeouts, tcp: 900 } }, { lvsFlush: !g.lvsFlush }, { lvsFlushOnStop: !g.lvsFlushOnStop }]) {
      const diff = diffConfigs(model(), model({ global: globalDefs(over) }));
      expect(diff.lvsGlobalsChanged).toBe(true);
      expect(diff.servicesChanged).toBe(false);
    }
  });

  it('summarizes counts for the reload log line', () => {
    const after = model({
      vrrpInstances: [instance({ priority: 120 }), instance({ virtualRouterId: 60 })],
      virtualServers: [virtualServer({ realServers: [realServer('192.168.1.10', { weight: 3 })] })],
    });
    expect(summarizeDiff(diffConfigs(model(), after))).toEqual({
      instancesAdded: 1,
      instancesRemoved: 0,
      instancesChanged: 1,
      virtualServersAdded: 0,
      virtualServersRemoved: 0,
      virtualServersChanged: 1,
    });
  });

  it('canonical ignores key order and loc at any depth', () => {
    expect(canonical({ b: 1, a: { loc: { line: 1 }, x: [1, { loc: 2, y: 3 }] } })).toBe(canonical({ a: { x: [1, { y: 3, loc: 9 }], loc: { line: 7 } }, b: 1 }));
    expect(canonical({ a: 1 })).not.toBe(canonical({ a: 2 }));
  });
});
