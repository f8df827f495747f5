import { describe, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/config/model.js';
import { planVrrpInstance } from '../../src/vrrp/core/fromConfig.js';
import {
  instanceChange,
  instanceRefusal,
  planReconfigure,
  type PlannedInstance,
  type RunningInstance,
} from '../../src/vrrp/core/reconfigurePlan.js';
import { model } from '../config/helpers.js';

// The reload decision on compiled keepalived.conf text: in place or the restart reason, and the VIP /
// route / rule differences. The VIPs, routes and rules here are the model's own objects, `loc` included,
// so a VIP that only moved to another line must still compare equal.

interface Options {
  name?: string;
  vrid?: number;
  priority?: number;
  vips?: string[];
  routes?: string[];
  rules?: string[];
  /** More lines inside the vrrp_instance block, before everything else. */
  extra?: string[];
  /** Blocks before the vrrp_instance (global_defs, vrrp_script, …). */
  before?: string;
  /** Blocks after it (another instance, a sync group). */
  after?: string;
}

function conf(o: Options = {}): string {
  const list = (keyword: string, items: string[] | undefined) => (items ? `  ${keyword} {\n${items.map((i) => `    ${i}`).join('\n')}\n  }` : '');
  return `${o.before ?? ''}
vrrp_instance ${o.name ?? 'VI_1'} {
${(o.extra ?? []).map((l) => `  ${l}`).join('\n')}
  state BACKUP
  interface eth0
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.priority ?? 100}
  advert_int 1
${list('virtual_ipaddress', o.vips ?? ['10.0.0.100/24'])}
${list('virtual_routes', o.routes)}
${list('virtual_rules', o.rules)}
}
${o.after ?? ''}`;
}

type Running = RunningInstance<unknown, unknown, unknown>;
type Planned = PlannedInstance<unknown, unknown, unknown>;

function planOf(config: ConfigModel, name: string) {
  const instance = config.vrrpInstances.find((i) => i.name === name)!;
  const planned = planVrrpInstance(config, instance, '10.0.0.1');
  if (!planned.ok) throw new Error(planned.problems.join('; '));
  return { instance, plan: planned.plan };
}

/** The instances of `config` as the service would run them, on eth0 with ifindex `index`. */
function running(config: ConfigModel, index = 2): Running[] {
  return config.vrrpInstances.map((i) => {
    const { instance, plan } = planOf(config, i.name);
    return {
      model: instance,
      link: { name: 'eth0', index },
      plan,
      vips: [...instance.virtualIpAddresses, ...instance.virtualIpAddressesExcluded],
      routes: instance.virtualRoutes,
      rules: instance.virtualRules,
    };
  });
}

/** The instances of `config` planned against the live interfaces (eth0 now has ifindex `index`). */
function planned(config: ConfigModel, index = 2): Planned[] {
  return config.vrrpInstances.map((i) => {
    const { instance, plan } = planOf(config, i.name);
    return {
      instance,
      link: { index },
      plan,
      vips: [...instance.virtualIpAddresses, ...instance.virtualIpAddressesExcluded],
      routes: instance.virtualRoutes,
      rules: instance.virtualRules,
    };
  });
}

function decide(current: ConfigModel, next: ConfigModel, nextIndex = 2) {
  return planReconfigure({ current, next, running: running(current), planned: planned(next, nextIndex) });
}

function inPlace(current: ConfigModel, next: ConfigModel) {
  const plan = decide(current, next);
  if (!plan.inPlace) throw new Error(`refused: ${plan.reason}`);
  return plan;
}

const addresses = (vips: unknown[]) => vips.map((v) => (v as { address: string }).address);
const destinations = (routes: unknown[]) => routes.map((r) => (r as { destination: { address: string } }).destination.address);

describe('planReconfigure: in place', () => {
  it('the same config changes nothing', () => {
    const current = model(conf({ routes: ['10.98.0.0/24 via 10.0.0.2 dev eth0'], rules: ['from 10.0.0.100 table 100'] }));
    const plan = inPlace(current, model(conf({ routes: ['10.98.0.0/24 via 10.0.0.2 dev eth0'], rules: ['from 10.0.0.100 table 100'] })));
    expect(plan.instances).toHaveLength(1);
    expect(plan.instances[0]!.change).toEqual({ vipsAdded: [], vipsRemoved: [], routesAdded: [], routesRemoved: [], rulesAdded: [], rulesRemoved: [] });
    expect(plan.scriptsTracked).toEqual(new Set());
  });

  it('a new priority is taken in place, with no VIP change', () => {
    const current = model(conf({ priority: 100 }));
    const next = model(conf({ priority: 150 }));
    const plan = inPlace(current, next);
    expect(plan.instances[0]!.planned.instance.priority).toBe(150);
    expect(plan.instances[0]!.change.vipsAdded).toEqual([]);
    expect(plan.instances[0]!.change.vipsRemoved).toEqual([]);
  });

  it('a renamed instance is the same one (same interface, VRID, family)', () => {
    const current = model(conf({ name: 'VI_OLD' }));
    const next = model(conf({ name: 'VI_NEW' }));
    const plan = inPlace(current, next);
    expect(plan.instances[0]!.running.model.name).toBe('VI_OLD');
    expect(plan.instances[0]!.planned.instance.name).toBe('VI_NEW');
  });

  it('the running instance of each new one is found by key, whatever the order in the file', () => {
    const second = `vrrp_instance VI_2 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 52\n  priority 100\n  virtual_ipaddress {\n    10.0.0.102/24\n  }\n}\n`;
    const current = model(conf({ after: second }));
    const next = model(`${second}${conf()}`);
    const plan = inPlace(current, next);
    expect(plan.instances.map((p) => [p.planned.instance.name, p.running.model.name])).toEqual([['VI_2', 'VI_2'], ['VI_1', 'VI_1']]);
  });

  it('VIPs change as a set difference: the kept one is in neither list', () => {
    const current = model(conf({ vips: ['10.0.0.100/24', '10.0.0.101/24'] }));
    const next = model(conf({ vips: ['10.0.0.101/24', '10.0.0.102/24'] }));
    const { change } = inPlace(current, next).instances[0]!;
    expect(addresses(change.vipsAdded)).toEqual(['10.0.0.102']);
    expect(addresses(change.vipsRemoved)).toEqual(['10.0.0.100']);
  });

  it('a VIP whose prefix changed is removed and added again', () => {
    const { change } = inPlace(model(conf({ vips: ['10.0.0.100/24'] })), model(conf({ vips: ['10.0.0.100/25'] }))).instances[0]!;
    expect(addresses(change.vipsAdded)).toEqual(['10.0.0.100']);
    expect(addresses(change.vipsRemoved)).toEqual(['10.0.0.100']);
  });

  it('a VIP that only moved to another config line (or up the list) is no change', () => {
    const current = model(conf({ vips: ['10.0.0.100/24', '10.0.0.101/24'] }));
    const next = model(conf({ extra: ['# a comment', '', 'nopreempt'], vips: ['10.0.0.101/24', '10.0.0.100/24'] }));
    // The model's VIPs do sit on other lines: only canonical() dropping `loc` makes them equal.
    const line = (m: ConfigModel, a: string) => m.vrrpInstances[0]!.virtualIpAddresses.find((v) => v.address === a)!.loc.line;
    expect(line(next, '10.0.0.100')).not.toBe(line(current, '10.0.0.100'));
    const { change } = inPlace(current, next).instances[0]!;
    expect(change.vipsAdded).toEqual([]);
    expect(change.vipsRemoved).toEqual([]);
  });

  it('routes and rules change as set differences, each on its own', () => {
    const current = model(conf({ routes: ['10.98.0.0/24 via 10.0.0.2 dev eth0', '10.97.0.0/24 via 10.0.0.2 dev eth0'], rules: ['from 10.0.0.100 table 100'] }));
    const next = model(conf({
      extra: ['# moved down a line'],
      routes: ['10.97.0.0/24 via 10.0.0.2 dev eth0', '10.96.0.0/24 via 10.0.0.3 dev eth0'],
      rules: ['from 10.0.0.100 table 100', 'from 10.0.0.101 table 101'],
    }));
    const { change } = inPlace(current, next).instances[0]!;
    expect(destinations(change.routesAdded)).toEqual(['10.96.0.0']);
    expect(destinations(change.routesRemoved)).toEqual(['10.98.0.0']);
    expect(change.rulesAdded).toHaveLength(1);
    expect((change.rulesAdded[0] as { from?: { address: string } }).from?.address).toBe('10.0.0.101');
    expect(change.rulesRemoved).toEqual([]);
    expect(change.vipsAdded).toEqual([]);
  });

  it('scriptsTracked names the vrrp_scripts the instances track after the reload', () => {
    const script = 'vrrp_script chk_web {\n  script "/bin/true"\n  interval 2\n  weight -20\n}\n';
    const plan = inPlace(model(conf()), model(conf({ before: script, extra: ['track_script {', '  chk_web', '}'] })));
    expect(plan.scriptsTracked).toEqual(new Set(['chk_web']));
  });
});

describe('planReconfigure: restart reasons', () => {
  const refused = (current: ConfigModel, next: ConfigModel, nextIndex = 2) => {
    const plan = decide(current, next, nextIndex);
    expect(plan.inPlace).toBe(false);
    return plan.inPlace ? undefined : plan.reason;
  };
  const second = `vrrp_instance VI_2 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 52\n  priority 100\n  virtual_ipaddress {\n    10.0.0.102/24\n  }\n}\n`;

  it('another number of instances is another instance set', () => {
    expect(refused(model(conf()), model(conf({ after: second })))).toBe('instance set changed');
  });

  it('another VRID is another instance', () => {
    expect(refused(model(conf({ vrid: 51 })), model(conf({ vrid: 52 })))).toBe('no running instance eth0/vrid 52/inet');
  });

  it('use_vmac switched on', () => {
    expect(refused(model(conf()), model(conf({ extra: ['use_vmac'] })))).toBe('VI_1: VMAC settings changed');
  });

  it('use_vmac_addr with a VIP on another interface: another address VMAC', () => {
    const current = model(conf({ extra: ['use_vmac_addr'], vips: ['10.0.0.100/24'] }));
    const next = model(conf({ extra: ['use_vmac_addr'], vips: ['10.0.0.100/24', '10.1.0.100/24 dev eth1'] }));
    expect(refused(current, next)).toBe('VI_1: use_vmac_addr VMACs changed');
  });

  it('the interface was recreated (another ifindex)', () => {
    expect(refused(model(conf()), model(conf()), 7)).toBe('interface eth0 was recreated');
  });

  it('multicast to unicast', () => {
    const next = model(conf({ extra: ['unicast_peer {', '  10.0.0.2', '}'] }));
    expect(refused(model(conf()), next)).toBe('VI_1: unicast/multicast changed');
  });

  it('another multicast group', () => {
    const next = model(conf({ before: 'global_defs {\n  vrrp_mcast_group4 224.0.0.19\n}\n' }));
    expect(refused(model(conf()), next)).toBe('VI_1: multicast group changed');
  });

  it('other unicast peers are no restart (same socket): taken in place', () => {
    const current = model(conf({ extra: ['unicast_peer {', '  10.0.0.2', '}'] }));
    const next = model(conf({ extra: ['unicast_peer {', '  10.0.0.3', '}'] }));
    expect(decide(current, next).inPlace).toBe(true);
  });

  it('a sync group formed, or its members changed', () => {
    const group = (members: string) => `vrrp_sync_group G1 {\n  group {\n${members}\n  }\n}\n`;
    const current = model(conf({ after: second }));
    expect(refused(current, model(conf({ after: `${second}${group('    VI_1\n    VI_2')}` })))).toBe('sync groups changed');
    const grouped = model(conf({ after: `${second}${group('    VI_1\n    VI_2')}` }));
    expect(refused(grouped, model(conf({ after: `${second}${group('    VI_1')}` })))).toBe('sync groups changed');
  });

  it('a sync group whose members were renamed is the same group', () => {
    const group = (a: string, b: string) => `vrrp_sync_group G1 {\n  group {\n    ${a}\n    ${b}\n  }\n}\n`;
    const secondNamed = (name: string) => second.replace('VI_2', name);
    const current = model(conf({ after: `${secondNamed('VI_2')}${group('VI_1', 'VI_2')}` }));
    const next = model(conf({ name: 'VI_A', after: `${secondNamed('VI_B')}${group('VI_A', 'VI_B')}` }));
    expect(decide(current, next).inPlace).toBe(true);
  });

  it('an instance’s refusal is met before the sync groups’', () => {
    const current = model(conf({ after: second }));
    // Both VI_1's VMAC and the sync groups change: the service meets VI_1's while planning, so that is the reason.
    const next = model(conf({ extra: ['use_vmac'], after: `${second}vrrp_sync_group G1 {\n  group {\n    VI_1\n  }\n}\n` }));
    expect(refused(current, next)).toBe('VI_1: VMAC settings changed');
  });
});

describe('instanceRefusal and instanceChange on their own', () => {
  it('instanceRefusal is undefined when the instance fits in place', () => {
    const config = model(conf());
    expect(instanceRefusal(running(config)[0]!, planned(config)[0]!)).toBeUndefined();
  });

  it('instanceChange keeps each list’s order', () => {
    const change = instanceChange(
      { vips: [{ a: 1 }, { a: 2 }, { a: 3 }], routes: [], rules: [] },
      { vips: [{ a: 5 }, { a: 2 }, { a: 4 }], routes: [], rules: [] },
    );
    expect(change.vipsAdded).toEqual([{ a: 5 }, { a: 4 }]);
    expect(change.vipsRemoved).toEqual([{ a: 1 }, { a: 3 }]);
  });
});
