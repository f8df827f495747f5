import { describe, expect, it } from 'vitest';
import { canonical, diffConfigs, isEmptyDiff, summarizeDiff, virtualServerKey, vrrpInstanceKey } from '../../src/daemon/configDiff.js';
import { globalDefs, instance, model, realServer, relocated, tcpCheck, vip, virtualServer } from './modelFixtures.js';

describe('configDiff: identity', () => {
  it('an identical config is an empty diff, even when every block moved in the file', () => {
    const before = model();
    const diff = diffConfigs(before, relocated(before));
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff.vrrpInstances.kept).toHaveLength(1);
    expect(diff.vrrpInstances.kept[0]!.unchanged).toBe(true);
    expect(diff.virtualServers.kept[0]!.realServers.kept.every((k) => k.unchanged)).toBe(true);
  });

  it('instances are matched by interface + VRID + family: a rename keeps the instance', () => {
    const diff = diffConfigs(model(), model({ vrrpInstances: [instance({ name: 'VI_renamed' })] }));
    expect(diff.vrrpInstances.added).toHaveLength(0);
    expect(diff.vrrpInstances.removed).toHaveLength(0);
    expect(diff.vrrpInstances.kept[0]!.fieldsChanged).toEqual(['name']);
  });

  it('another VRID, interface or family is another instance (remove + add)', () => {
    for (const other of [instance({ virtualRouterId: 52 }), instance({ interface: 'eth1' }), instance({ family: 'inet6' })]) {
      const diff = diffConfigs(model(), model({ vrrpInstances: [other] }));
      expect(diff.vrrpInstances.removed.map(vrrpInstanceKey)).toEqual(['eth0/vrid 51/inet']);
      expect(diff.vrrpInstances.added.map(vrrpInstanceKey)).toEqual([vrrpInstanceKey(other)]);
      expect(diff.vrrpInstances.kept).toHaveLength(0);
    }
  });

  it('virtual server keys: ADDR:PORT/PROTO, [v6]:PORT, fwmark, group', () => {
    expect(virtualServerKey(virtualServer())).toBe('10.0.0.100:80/TCP');
    expect(virtualServerKey(virtualServer({ address: '2001:db8::1', family: 'inet6', port: 443 }))).toBe('[2001:db8::1]:443/TCP');
    expect(virtualServerKey(virtualServer({ address: undefined, port: undefined, fwmark: 7 }))).toBe('fwmark 7/inet');
    expect(virtualServerKey(virtualServer({ address: undefined, port: undefined, group: 'web' }))).toBe('group web/TCP');
  });

  it('the same address and port over UDP is another virtual server', () => {
    const diff = diffConfigs(model(), model({ virtualServers: [virtualServer({ protocol: 'UDP' })] }));
    expect(diff.virtualServers.removed).toHaveLength(1);
    expect(diff.virtualServers.added).toHaveLength(1);
  });

  it('duplicate keys are matched occurrence by occurrence, nothing lost', () => {
    const twice = model({ vrrpInstances: [instance(), instance({ name: 'dup' })] });
    expect(isEmptyDiff(diffConfigs(twice, relocated(twice)))).toBe(true);
    const diff = diffConfigs(twice, model());
    expect(diff.vrrpInstances.removed.map((i) => i.name)).toEqual(['dup']);
  });
});

describe('configDiff: VRRP instances', () => {
  it('a VIP added and one removed: exactly those, the instance is kept', () => {
    const before = model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.100'), vip('10.0.0.101')] })] });
    const after = model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.100'), vip('10.0.0.102')] })] });
    const change = diffConfigs(before, after).vrrpInstances.kept[0]!;
    expect(change.vipsAdded.map((v) => v.address)).toEqual(['10.0.0.102']);
    expect(change.vipsRemoved.map((v) => v.address)).toEqual(['10.0.0.101']);
    expect(change.fieldsChanged).toEqual([]);
    expect(change.unchanged).toBe(false);
  });

  it('reordering VIPs changes nothing', () => {
    const before = model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.100'), vip('10.0.0.101')] })] });
    const after = model({ vrrpInstances: [instance({ virtualIpAddresses: [vip('10.0.0.101'), vip('10.0.0.100')] })] });
    expect(isEmptyDiff(diffConfigs(before, after))).toBe(true);
  });

  it('a VIP whose prefix, dev or label changed is removed and re-added', () => {
    for (const changed of [vip('10.0.0.100', { prefixLength: 24 }), vip('10.0.0.100', { dev: 'eth1' }), vip('10.0.0.100', { label: 'eth0:1' })]) {
      const change = diffConfigs(model(), model({ vrrpInstances: [instance({ virtualIpAddresses: [changed] })] })).vrrpInstances.kept[0]!;
      expect(change.vipsRemoved).toHaveLength(1);
      expect(change.vipsAdded).toEqual([changed]);
    }
  });

  it('excluded VIPs are diffed separately from VIPs', () => {
    const change = diffConfigs(model(), model({ vrrpInstances: [instance({ virtualIpAddressesExcluded: [vip('10.0.0.200')] })] })).vrrpInstances.kept[0]!;
    expect(change.excludedVipsAdded.map((v) => v.address)).toEqual(['10.0.0.200']);
    expect(change.vipsAdded).toEqual([]);
  });

  it('priority, advert_int, preempt and tracking changes are listed by field', () => {
    const after = instance({ priority: 150, advertInt: 2, nopreempt: true, trackInterfaces: [{ loc: { file: 'x', line: 1 }, name: 'eth1', weightReverse: false }] });
    const change = diffConfigs(model(), model({ vrrpInstances: [after] })).vrrpInstances.kept[0]!;
    expect(change.fieldsChanged).toEqual(['advertInt', 'nopreempt', 'priority', 'trackInterfaces']);
    expect(change.vipsAdded).toEqual([]);
  });

  it('an added instance next to an unchanged one leaves the unchanged one unchanged', () => {
    const diff = diffConfigs(model(), model({ vrrpInstances: [instance(), instance({ name: 'VI_2', virtualRouterId: 52 })] }));
    expect(diff.vrrpInstances.added.map((i) => i.name)).toEqual(['VI_2']);
    expect(diff.vrrpInstances.kept[0]!.unchanged).toBe(true);
  });
});

describe('configDiff: virtual and real servers', () => {
  it('a scheduler change is a service field change; real servers untouched', () => {
    const change = diffConfigs(model(), model({ virtualServers: [virtualServer({ lbAlgo: 'wlc' })] })).virtualServers.kept[0]!;
    expect(change.fieldsChanged).toEqual(['lbAlgo']);
    expect(change.realServers.kept.every((k) => k.unchanged)).toBe(true);
    expect(change.realServers.added).toEqual([]);
  });

  it('a real server added, one removed, one reweighted', () => {
    const before = virtualServer({ realServers: [realServer('192.168.1.10'), realServer('192.168.1.11'), realServer('192.168.1.12')] });
    const after = virtualServer({
      realServers: [realServer('192.168.1.10'), realServer('192.168.1.11', { weight: 5 }), realServer('192.168.1.13')],
    });
    const rs = diffConfigs(model({ virtualServers: [before] }), model({ virtualServers: [after] })).virtualServers.kept[0]!.realServers;
    expect(rs.added.map((r) => r.address)).toEqual(['192.168.1.13']);
    expect(rs.removed.map((r) => r.address)).toEqual(['192.168.1.12']);
    const reweighted = rs.kept.find((k) => k.key === '192.168.1.11:80')!;
    expect(reweighted.fieldsChanged).toEqual(['weight']);
    expect(reweighted.checkersChanged).toBe(false);
    expect(rs.kept.find((k) => k.key === '192.168.1.10:80')!.unchanged).toBe(true);
  });

  it('a changed checker is flagged: that real server restarts its health state', () => {
    const after = virtualServer({
      realServers: [realServer('192.168.1.10', { checkers: [tcpCheck({ connectIp: '192.168.1.10', connectTimeout: 9 })] }), realServer('192.168.1.11')],
    });
    const rs = diffConfigs(model(), model({ virtualServers: [after] })).virtualServers.kept[0]!.realServers;
    expect(rs.kept.find((k) => k.key === '192.168.1.10:80')!.checkersChanged).toBe(true);
    expect(rs.kept.find((k) => k.key === '192.168.1.11:80')!.checkersChanged).toBe(false);
  });

  it('a real server on another port is another real server', () => {
    const after = virtualServer({ realServers: [realServer('192.168.1.10', { port: 8080 }), realServer('192.168.1.11')] });
    const rs = diffConfigs(model(), model({ virtualServers: [after] })).virtualServers.kept[0]!.realServers;
    expect(rs.added.map((r) => `${r.address}:${r.port}`)).toEqual(['192.168.1.10:8080']);
    expect(rs.removed.map((r) => `${r.address}:${r.port}`)).toEqual(['192.168.1.10:80']);
  });

  it('a removed virtual server is removed with its real servers; others stay unchanged', () => {
    const two = model({ virtualServers: [virtualServer(), virtualServer({ port: 443 })] });
    const diff = diffConfigs(two, model());
    expect(diff.virtualServers.removed.map(virtualServerKey)).toEqual(['10.0.0.100:443/TCP']);
    expect(diff.virtualServers.kept[0]!.unchanged).toBe(true);
    expect(summarizeDiff(diff)).toMatchObject({ virtualServersRemoved: 1, virtualServersChanged: 0, realServersRemoved: 0 });
  });
});

describe('configDiff: other sections', () => {
  it('reports global, script, sync-group and group changes by section', () => {
    const diff = diffConfigs(model(), model({ global: globalDefs({ routerId: 'lb2' }) }));
    expect(diff.otherSectionsChanged).toEqual(['global']);
    expect(isEmptyDiff(diff)).toBe(false);
    expect(diffConfigs(model(), model({ virtualServerGroups: [{ loc: { file: 'x', line: 1 }, name: 'g', entries: [] }] })).otherSectionsChanged).toEqual([
      'virtualServerGroups',
    ]);
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
      realServersAdded: 0,
      realServersRemoved: 1,
      realServersChanged: 1,
    });
  });

  it('canonical ignores key order and loc at any depth', () => {
    expect(canonical({ b: 1, a: { loc: { line: 1 }, x: [1, { loc: 2, y: 3 }] } })).toBe(canonical({ a: { x: [1, { y: 3, loc: 9 }], loc: { line: 7 } }, b: 1 }));
    expect(canonical({ a: 1 })).not.toBe(canonical({ a: 2 }));
  });
});
