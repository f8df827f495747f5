import { describe, expect, it } from 'vitest';
import type { ConfigModel } from '../../src/config/model.js';
import { AUTH_NONE, AUTH_PASS, passwordAuthData } from '../../src/vrrp/codec/advertCodec.js';
import { planVrrpInstance } from '../../src/vrrp/core/fromConfig.js';
import { model } from '../config/helpers.js';

function plan(text: string, name = 'VI_1', ip: string | undefined = '10.0.0.1', tweak?: (m: ConfigModel) => void) {
  const m = model(text);
  tweak?.(m);
  const inst = m.vrrpInstances.find((i) => i.name === name);
  if (!inst) throw new Error(`no ${name}`);
  return planVrrpInstance(m, inst, ip);
}

const BASIC = `
vrrp_script chk_web {
  script "/usr/local/bin/chk web"
  interval 2
  weight -30
  rise 2
  fall 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret1
  }
  virtual_ipaddress {
    10.99.0.200/24 dev eth0
    10.99.0.201
  }
  track_script {
    chk_web
  }
  track_interface {
    eth1 weight -20
    eth2
  }
}
`;

describe('config model → VRRP core specs', () => {
  it('maps a typical keepalived instance', () => {
    const r = plan(BASIC);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { instance, receive, scripts, interfaces, destinations, sourceIp } = r.plan;
    expect(instance).toMatchObject({
      name: 'VI_1',
      vrid: 51,
      version: 2,
      priority: 150,
      advertIntervalMs: 1000,
      primaryIp: '10.0.0.1',
      initialState: 'BACKUP',
      preempt: true,
      preemptDelayMs: 0,
      garpMasterRepeat: 5,
      garpMasterDelayMs: 5000,
      garpMasterRefreshMs: 0,
    });
    expect(receive).toMatchObject({
      vrid: 51,
      version: 2,
      advertIntervalMs: 1000,
      authType: AUTH_PASS,
      virtualAddresses: ['10.99.0.200', '10.99.0.201'],
      unicastPeers: [],
      ownAddresses: ['10.0.0.1'],
    });
    expect([...receive.authData]).toEqual([...passwordAuthData('secret1')]);
    expect(scripts.map(({ script: _s, ...rest }) => rest)).toEqual([
      { name: 'chk_web', weight: -30, weightReverse: false, rise: 2, fall: 3, initFail: false },
    ]);
    expect(interfaces).toEqual([
      { name: 'eth1', weight: -20, weightReverse: false },
      { name: 'eth2', weight: 0, weightReverse: false },
    ]);
    expect(destinations).toEqual(['224.0.0.18']);
    expect(sourceIp).toBe('10.0.0.1');
  });

  it('unicast: peers as destinations, unicast_src_ip as source', () => {
    const r = plan(`
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 7
  unicast_src_ip 192.168.0.1
  unicast_peer {
    192.168.0.2
    192.168.0.3
  }
  virtual_ipaddress { 192.168.0.100 }
}`);
    expect(r.ok && r.plan.destinations).toEqual(['192.168.0.2', '192.168.0.3']);
    expect(r.ok && r.plan.sourceIp).toBe('192.168.0.1');
    expect(r.ok && r.plan.receive.unicastPeers).toEqual(['192.168.0.2', '192.168.0.3']);
    expect(r.ok && r.plan.receive.authType).toBe(AUTH_NONE);
  });

  it('check_unicast_src (instance or global) and the peers\' TTL ranges reach the receive checks', () => {
    const text = (global: string, own: string) => `global_defs {\n${global}\n}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 7
  unicast_src_ip 192.168.0.1
  ${own}
  unicast_peer {
    192.168.0.2 min_ttl 250
    192.168.0.3 max_ttl 64
    192.168.0.4
  }
  virtual_ipaddress { 192.168.0.100 }
}`;
    const r = plan(text('', 'check_unicast_src'));
    expect(r.ok && r.plan.receive.checkUnicastSource).toBe(true);
    expect(r.ok && r.plan.receive.unicastPeerTtl).toEqual({ '192.168.0.2': [250, 255], '192.168.0.3': [0, 64] });
    const g = plan(text('vrrp_check_unicast_src', ''));
    expect(g.ok && g.plan.receive.checkUnicastSource).toBe(true);
    const none = plan(text('', ''));
    expect(none.ok && none.plan.receive.checkUnicastSource).toBe(false);
  });

  it('VRRPv3: centisecond interval, no authentication', () => {
    const r = plan(`
vrrp_instance VI_1 {
  interface eth0
  version 3
  virtual_router_id 9
  advert_int 0.25
  authentication {
    auth_type PASS
    auth_pass x
  }
  virtual_ipaddress { 10.1.1.1 }
}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.instance.advertIntervalMs).toBe(250);
    expect(r.plan.instance.version).toBe(3);
    expect(r.plan.receive.authType).toBe(AUTH_NONE); // the compiler already drops it (with a warning)
  });

  it('a fractional v2 advert_int (the compiler rounds it up) and, defensively, one in a hand-made model', () => {
    const text = `
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  advert_int 1.4
  virtual_ipaddress { 10.1.1.1 }
}`;
    const r = plan(text);
    expect(r.ok && r.plan.instance.advertIntervalMs).toBe(2000);
    const raw = plan(text, 'VI_1', '10.0.0.1', (m) => {
      m.vrrpInstances[0].advertInt = 1.4;
    });
    expect(raw.ok && raw.plan.instance.advertIntervalMs).toBe(1000);
    expect(raw.ok && raw.plan.warnings.join()).toContain('rounded');
  });

  it('nopreempt, preempt_delay, state MASTER', () => {
    const np = plan(`
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  priority 100
  nopreempt
  virtual_ipaddress { 10.1.1.1 }
}`);
    expect(np.ok && np.plan.instance.preempt).toBe(false);
    const pd = plan(`
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  priority 100
  preempt_delay 30
  virtual_ipaddress { 10.1.1.1 }
}`);
    expect(pd.ok && pd.plan.instance.preemptDelayMs).toBe(30_000);
    const m = plan(`
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 9
  priority 120
  nopreempt
  virtual_ipaddress { 10.1.1.1 }
}`);
    expect(m.ok && m.plan.instance.initialState).toBe('MASTER');
    expect(m.ok && m.plan.instance.preempt).toBe(true);
    expect(m.ok && m.plan.warnings.join()).toContain('nopreempt ignored');
  });

  it('address owner: tracking weights become FAULT trackers', () => {
    const r = plan(BASIC.replace('priority 150', 'priority 255'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.scripts[0].weight).toBe(0);
    expect(r.plan.interfaces.every((i) => i.weight === 0)).toBe(true);
    expect(r.plan.warnings.join()).toContain('priority 255');
  });

  it('sync group tracking applies to its members', () => {
    const r = plan(`
vrrp_script chk { 
  script "/bin/true"
  weight 10
}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
  track_script {
    chk
  }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress { 10.1.1.1 }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress { 10.1.1.2 }
}`, 'VI_2');
    expect(r.ok && r.plan.scripts.map((s) => [s.name, s.weight])).toEqual([['chk', 10]]);
  });

  it('refuses what the core cannot do: AH, an IPv6 instance with an IPv4 source, no source address', () => {
    const ah = plan(BASIC.replace('auth_type PASS', 'auth_type AH'));
    expect(ah).toMatchObject({ ok: false });
    expect(!ah.ok && ah.problems.join()).toContain('AH');
    const v6 = plan(`
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { fd00::1 }
}`);
    expect(!v6.ok && v6.problems.join()).toContain('source address 10.0.0.1 is not IPv6');
    const v6model = model(`
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { fd00::1 }
}`);
    const noLinkLocal = planVrrpInstance(v6model, v6model.vrrpInstances[0]!, undefined);
    expect(!noLinkLocal.ok && noLinkLocal.problems.join()).toContain('no link-local address');
    const m = model(BASIC);
    const noIp = planVrrpInstance(m, m.vrrpInstances[0], undefined);
    expect(!noIp.ok && noIp.problems.join()).toContain('source address');
  });

  it('IPv6 instance: v3 to ff02::12 from the link-local address, IPv6 VIPs advertised, IPv4 ones excluded', () => {
    const r = plan(`
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 9
  priority 120
  virtual_ipaddress {
    FD00:0:0::1/64
    fd00::2
  }
  virtual_ipaddress_excluded {
    10.0.0.50
  }
  unicast_peer {
  }
}`, 'VI_6', 'fe80::1');
    if (!r.ok) throw new Error(r.problems.join());
    expect(r.plan).toMatchObject({ family: 'inet6', sourceIp: 'fe80::1', destinations: ['ff02::12'] });
    expect(r.plan.instance).toMatchObject({ version: 3, primaryIp: 'fe80::1' });
    expect(r.plan.receive).toMatchObject({ version: 3, virtualAddresses: ['fd00::1', 'fd00::2'], unicastPeers: [], ownAddresses: ['fe80::1'] });
  });

  it('IPv6: native_ipv6 without VIPs, vrrp_mcast_group6, IPv6 unicast peers (IPv4 ones ignored with a warning)', () => {
    const native = plan(`
global_defs {
  vrrp_mcast_group6 ff02::1:12
}
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 9
  native_ipv6
}`, 'VI_6', 'fe80::1');
    if (!native.ok) throw new Error(native.problems.join());
    expect(native.plan).toMatchObject({ family: 'inet6', destinations: ['ff02::1:12'] });
    const unicast = plan(`
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 9
  unicast_src_ip fd00::1
  unicast_peer {
    fd00::2
    10.0.0.2
  }
  virtual_ipaddress { fd00::100 }
}`, 'VI_6', 'fe80::1');
    if (!unicast.ok) throw new Error(unicast.problems.join());
    expect(unicast.plan).toMatchObject({ family: 'inet6', sourceIp: 'fd00::1', destinations: ['fd00::2'] });
    expect(unicast.plan.receive.unicastPeers).toEqual(['fd00::2']);
    expect(unicast.plan.warnings.join()).toContain('10.0.0.2 not of the instance');
  });
});
