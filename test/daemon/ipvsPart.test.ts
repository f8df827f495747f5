import { describe, expect, it } from 'vitest';
import { diffConfigs } from '../../src/daemon/configDiff.js';
import { IpvsPart, type IpvsRunner } from '../../src/daemon/ipvsPart.js';
import { IpvsUnavailableError } from '../../src/ipvs/errors.js';
import type { IpvsPlan } from '../../src/ipvs/fromConfig.js';
import { silentLogger } from '../../src/util/log.js';
import { globalDefs, model, realServer, relocated, virtualServer } from './modelFixtures.js';

function fakeKernel() {
  const calls: string[] = [];
  const plans: IpvsPlan[] = [];
  let opened = 0;
  const runner: IpvsRunner = {
    start: async (plan) => void (calls.push('start'), plans.push(plan)),
    reload: async (plan) => void (calls.push('reload'), plans.push(plan)),
    stop: async () => void calls.push('stop'),
    stats: async () => [],
    onRealServerChange: () => void calls.push('health'),
  };
  const open = async () => {
    opened++;
    return { runner, close: () => void calls.push('close') };
  };
  return { calls, plans, open, opened: () => opened };
}

describe('IpvsPart', () => {
  it('a config without virtual servers never opens the kernel (VRRP-only configs run without IPVS)', async () => {
    const k = fakeKernel();
    const part = new IpvsPart(k.open, silentLogger());
    await part.start(model({ virtualServers: [] }));
    await part.stop();
    expect(k.opened()).toBe(0);
    expect(await part.stats()).toEqual([]);
  });

  it('a kernel without IPVS fails start-up with the one sentence', async () => {
    const part = new IpvsPart(async () => {
      throw new IpvsUnavailableError('generic netlink family IPVS not found');
    }, silentLogger());
    await expect(part.start(model())).rejects.toThrow(/^this kernel has no IPVS .*: load ip_vs or run with --vrrp-only$/);
  });

  it('start syncs the plan; a reload that leaves virtual servers alone does not touch the kernel', async () => {
    const k = fakeKernel();
    const part = new IpvsPart(k.open, silentLogger());
    const before = model();
    await part.start(before);
    expect(k.calls).toEqual(['start']);
    expect(k.plans[0]!.virtualServers[0]!.realServers.map((r) => r.key)).toEqual(['192.168.1.10:80', '192.168.1.11:80']);
    const same = relocated(before);
    await part.reload(same, diffConfigs(before, same));
    expect(k.calls).toEqual(['start']);
  });

  it('a reload with a changed virtual server or lvs_timeouts re-syncs with the new plan', async () => {
    const k = fakeKernel();
    const part = new IpvsPart(k.open, silentLogger());
    const before = model();
    await part.start(before);
    const after = model({ virtualServers: [virtualServer({ realServers: [realServer('192.168.1.10')] })] });
    await part.reload(after, diffConfigs(before, after));
    expect(k.calls).toEqual(['start', 'reload']);
    expect(k.plans[1]!.virtualServers[0]!.realServers.map((r) => r.key)).toEqual(['192.168.1.10:80']);
    const timeouts = model({ ...after, global: globalDefs({ lvsTimeouts: { tcp: 900 } }) });
    await part.reload(timeouts, diffConfigs(after, timeouts));
    expect(k.calls).toEqual(['start', 'reload', 'reload']);
  });

  it('virtual servers arriving by reload open the kernel then; stop removes and closes', async () => {
    const k = fakeKernel();
    const part = new IpvsPart(k.open, silentLogger());
    const empty = model({ virtualServers: [] });
    await part.start(empty);
    const withVs = model();
    await part.reload(withVs, diffConfigs(empty, withVs));
    expect(k.opened()).toBe(1);
    part.onRealServerChange({ kind: 'realServer', virtualServer: 'x', realServer: 'y', alive: true, inTable: true, weight: 1, sorryServer: false, reason: 'up' });
    await part.stop();
    expect(k.calls).toEqual(['start', 'health', 'stop', 'close']);
  });
});
