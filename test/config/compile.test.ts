import { describe, expect, it } from 'vitest';
import { NOT_ACTED_ON_AT_RUNTIME } from '../../src/config/runtimeSupport.js';
import { compile, instance, messages, model } from './helpers.js';

/** A virtual server around `body` (which starts on line 3); protocol and a real server are added after it. */
const vs = (body: string, head = '10.0.0.1 80') => `virtual_server ${head} {\n  lb_algo rr\n${body}\n` +
  `${body.includes('real_server') ? '' : '  real_server 10.250.0.1 80 { }\n'}${head.startsWith('fwmark') ? '' : '  protocol TCP\n'}}\n`;

describe('global_defs', () => {
  it('defaults when absent', () => {
    const g = model('').global;
    expect(g).toMatchObject({
      vrrpVersion: 2, vrrpMcastGroup4: '224.0.0.18', vrrpMcastGroup6: 'ff02::12', vrrpGarpMasterDelay: 5,
      vrrpGarpMasterRepeat: 5, enableScriptSecurity: false, lvsFlush: false, lvsTimeouts: {}, other: {},
    });
    expect(g.routerId).toBeUndefined();
  });

  it('reads the modelled keys', () => {
    const g = model(`global_defs {
      router_id LVS_A
      script_user nobody nogroup
      enable_script_security
      vrrp_version 3
      vrrp_mcast_group4 224.0.0.19
      vrrp_garp_master_delay 2.5
      vrrp_garp_master_refresh 60
      lvs_timeouts tcp 900 tcpfin 30 udp 300
      lvs_flush
      vrrp_startup_delay 5
    }`).global;
    expect(g).toMatchObject({
      routerId: 'LVS_A', scriptUser: { user: 'nobody', group: 'nogroup' }, enableScriptSecurity: true, vrrpVersion: 3,
      vrrpMcastGroup4: '224.0.0.19', vrrpGarpMasterDelay: 2.5, vrrpGarpMasterRefresh: 60,
      lvsTimeouts: { tcp: 900, tcpFin: 30, udp: 300 }, lvsFlush: true, other: { vrrp_startup_delay: ['5'] },
    });
  });

  it('reports keys kept but not acted on, and bad values with their column', () => {
    const r = compile('global_defs {\n  vrrp_startup_delay 5\n  frobnicate 1\n  vrrp_mcast_group4 10.0.0.1\n}');
    expect(messages(r)).toEqual([
      "/etc/ka.conf:2:3: warning: keepalived keyword 'vrrp_startup_delay' in global_defs is parsed but not acted on by tslvsd",
      "/etc/ka.conf:3:3: warning: unknown keyword 'frobnicate' in global_defs",
      "/etc/ka.conf:4:21: error: vrrp_mcast_group4: '10.0.0.1' is not an IPv4 multicast address",
    ]);
  });

  it('vrrp_priority and checker_priority: nice values -20..19, acted on (no warning); absent = undefined', () => {
    const r = compile('global_defs {\n  vrrp_priority -15\n  checker_priority 10\n}');
    expect(messages(r)).toEqual([]);
    expect(r.model?.global).toMatchObject({ vrrpPriority: -15, checkerPriority: 10 });
    expect(model('global_defs {\n  router_id a\n}').global.vrrpPriority).toBeUndefined();
    expect(messages(compile('global_defs {\n  vrrp_priority -21\n  checker_priority high\n}'))).toEqual([
      '/etc/ka.conf:2:17: error: vrrp_priority: -21 is out of range -20..19',
      "/etc/ka.conf:3:20: error: checker_priority: 'high' is not an integer",
    ]);
  });
});

describe('vrrp_instance', () => {
  it("keepalived's defaults: BACKUP, priority 100, advert_int 1, version 2, garp from global_defs", () => {
    const i = model(instance('  virtual_ipaddress {\n    192.168.1.10/24 dev eth0 label eth0:1\n    192.168.1.11\n  }')).vrrpInstances[0];
    expect(i).toMatchObject({
      name: 'VI_1', interface: 'eth0', state: 'BACKUP', virtualRouterId: 51, priority: 100, advertInt: 1, version: 2,
      family: 'inet', nopreempt: false, preemptDelay: 0, garpMasterDelay: 5, garpMasterRepeat: 5, accept: true,
      loc: { file: '/etc/ka.conf', line: 1 },
    });
    expect(i.virtualIpAddresses).toEqual([
      { loc: { file: '/etc/ka.conf', line: 5 }, address: '192.168.1.10', family: 'inet', prefixLength: 24, dev: 'eth0', label: 'eth0:1', noPrefixRoute: false },
      { loc: { file: '/etc/ka.conf', line: 6 }, address: '192.168.1.11', family: 'inet', prefixLength: 32, noPrefixRoute: false },
    ]);
  });

  it('MASTER without priority gets 255 (keepalived quirk); with priority keeps it', () => {
    expect(model(instance('  state MASTER')).vrrpInstances[0].priority).toBe(255);
    expect(model(instance('  state MASTER\n  priority 150')).vrrpInstances[0].priority).toBe(150);
  });

  it('reads every modelled keyword', () => {
    const m = model(`vrrp_script chk { script "/usr/bin/check --fast" \n interval 2 \n weight -20 \n fall 3 \n rise 2 }
${instance(`  state MASTER
  priority 101
  advert_int 3
  nopreempt
  preempt_delay 10
  authentication {
    auth_type PASS
    auth_pass secret
  }
  unicast_src_ip 10.0.0.1
  unicast_peer {
    10.0.0.2
    10.0.0.3 min_ttl 2 max_ttl 9
  }
  virtual_ipaddress_excluded { fe80::1/64 }
  track_interface { eth1 weight -10 \n eth2 }
  track_script { chk weight 5 reverse }
  garp_master_delay 1
  notify_master "/etc/notify.sh master 'a b'" root root
  notify /etc/notify.sh
  no_accept
  virtual_ipaddress { 10.1.1.1 }`)}`);
    const i = m.vrrpInstances[0];
    expect(i).toMatchObject({
      state: 'MASTER', priority: 101, advertInt: 3, nopreempt: true, preemptDelay: 10,
      authentication: { type: 'PASS', password: 'secret' }, unicastSrcIp: '10.0.0.1', garpMasterDelay: 1, accept: false,
    });
    expect(i.unicastPeers.map((p) => [p.address, p.minTtl, p.maxTtl])).toEqual([['10.0.0.2', undefined, undefined], ['10.0.0.3', 2, 9]]);
    expect(i.virtualIpAddressesExcluded[0]).toMatchObject({ address: 'fe80::1', family: 'inet6', prefixLength: 64 });
    expect(i.trackInterfaces.map((t) => [t.name, t.weight])).toEqual([['eth1', -10], ['eth2', undefined]]);
    expect(i.trackScripts).toMatchObject([{ name: 'chk', weight: 5, weightReverse: true }]);
    expect(i.notifyMaster).toMatchObject({ argv: ['/etc/notify.sh', 'master', 'a b'], user: 'root', group: 'root' });
    expect(i.notify?.argv).toEqual(['/etc/notify.sh']);
    expect(m.vrrpScripts[0]).toMatchObject({
      name: 'chk', script: { argv: ['/usr/bin/check', '--fast'] }, interval: 2, timeout: 2, weight: -20, fall: 3, rise: 2,
    });
  });

  it('IPv6 VIPs make an inet6 instance and force VRRPv3', () => {
    const i = model(instance('  virtual_ipaddress { 2001:db8::10/64 }')).vrrpInstances[0];
    expect([i.family, i.version]).toEqual(['inet6', 3]);
  });

  it('auth_pass longer than 8 is truncated with a warning; v3 drops authentication', () => {
    const r = compile(instance('  authentication {\n    auth_pass 123456789\n  }'));
    expect(r.model?.vrrpInstances[0].authentication).toEqual({ type: 'PASS', password: '12345678' });
    expect(messages(r)).toEqual(['/etc/ka.conf:5:15: warning: auth_pass longer than 8 characters: truncated to 8, as keepalived does']);
    expect(model(instance('  version 3\n  authentication {\n auth_type AH\n auth_pass x }')).vrrpInstances[0].authentication).toBeUndefined();
  });

  it('value errors point at the token', () => {
    const r = compile(instance('  priority 256\n  advert_int fast\n  state LEADER\n  unicast_src_ip 10.0.0.300\n  virtual_ipaddress { 10.0.0.1/33 }'));
    expect(messages(r)).toEqual([
      '/etc/ka.conf:4:12: error: priority: 256 is out of range 1..255',
      "/etc/ka.conf:5:14: error: advert_int: 'fast' is not a number of seconds",
      "/etc/ka.conf:6:9: error: state: 'LEADER' is not MASTER or BACKUP",
      "/etc/ka.conf:7:18: error: unicast_src_ip: '10.0.0.300' is not an IPv4 or IPv6 address",
      "/etc/ka.conf:8:23: error: virtual address: '/33' is not a prefix length 0..32",
      '/etc/ka.conf:1:1: warning: vrrp_instance VI_1: no virtual_ipaddress; at least one is sensible (keepalived warns too)',
    ]);
    expect(r.model).toBeUndefined();
  });

  it('missing virtual_router_id and duplicate names / VRIDs are errors', () => {
    expect(messages(compile('vrrp_instance X {\n  interface eth0\n}'))).toEqual(['/etc/ka.conf:1:1: error: vrrp_instance X: no virtual_router_id (1..255)']);
    const r = compile(instance('', 'A') + instance('', 'A') + instance('', 'B'));
    expect(messages(r)).toEqual([
      "/etc/ka.conf:7: error: vrrp_instance 'A' is already defined at /etc/ka.conf:1",
      '/etc/ka.conf:13: error: vrrp_instance B: virtual_router_id 51 is already used by A on the same interface',
    ]);
  });

  it('unknown keywords warn; keepalived keywords not modelled say so; runtime-pending ones say so', () => {
    const r = compile(instance('  frobnicate\n  track_bfd { bfd1 }\n  smtp_alert'));
    expect(messages(r)).toEqual([
      "/etc/ka.conf:4:3: warning: unknown keyword 'frobnicate' in vrrp_instance",
      "/etc/ka.conf:5:3: warning: keepalived keyword 'track_bfd' in vrrp_instance is parsed but not acted on by tslvsd",
      "/etc/ka.conf:6:3: warning: 'smtp_alert' is parsed but not acted on at runtime (tslvsd sends no e-mail)",
    ]);
    expect(r.model).toBeDefined();
    expect(compile(instance('  frobnicate'), { strict: true }).model).toBeUndefined();
  });

  it('use_vmac [name] NAME [MAC], vmac_xmit_base and use_vmac_addr are modelled (no warning)', () => {
    const plain = compile(instance('  use_vmac'));
    expect(messages(plain)).toEqual([]);
    expect(plain.model!.vrrpInstances[0]).toMatchObject({ useVmac: true, vmacXmitBase: false, useVmacAddr: false });
    expect(plain.model!.vrrpInstances[0]!.vmacName).toBeUndefined();
    const named = compile(instance('  use_vmac name vmac51 00:00:5E:00:01\n  vmac_xmit_base\n  use_vmac_addr'));
    expect(messages(named)).toEqual([]);
    expect(named.model!.vrrpInstances[0]).toMatchObject({ useVmac: true, vmacName: 'vmac51', vmacMac: '00:00:5e:00:01', vmacXmitBase: true, useVmacAddr: true });
    expect(compile(instance('  use_vmac vrrp51')).model!.vrrpInstances[0]!.vmacName).toBe('vrrp51');
    const grouped = compile(instance('  use_vmac vmac51 group 7'));
    expect(grouped.model!.vrrpInstances[0]!.vmacName).toBe('vmac51');
    expect(messages(grouped)).toEqual(["/etc/ka.conf:4:19: warning: use_vmac: 'group' is parsed but not acted on at runtime (not a keepalived 2.2.7 option; the VMAC gets the default link group)"]);
    expect(messages(compile(instance('  use_vmac a/b')))).toEqual(["/etc/ka.conf:4:12: error: use_vmac: unexpected 'a/b' (expected [name] NAME, a MAC address, netlink_notify_msg or group GROUP)"]);
  });

  it('track_script naming no vrrp_script is dropped with a warning', () => {
    const r = compile(instance('  track_script {\n    nope\n  }'));
    expect(r.model?.vrrpInstances[0].trackScripts).toEqual([]);
    expect(messages(r)).toEqual(["/etc/ka.conf:5: warning: track_script 'nope': no vrrp_script of that name; ignored"]);
  });
});

describe('vrrp_sync_group', () => {
  it('links members both ways and reports unknown members', () => {
    const r = compile(`vrrp_sync_group G {\n  group {\n    VI_1\n    GHOST\n  }\n  notify_master /bin/true\n}\n${instance('')}`);
    expect(r.model?.vrrpSyncGroups[0]).toMatchObject({ name: 'G', group: ['VI_1'], notifyMaster: { argv: ['/bin/true'] } });
    expect(r.model?.vrrpInstances[0].syncGroup).toBe('G');
    expect(messages(r)).toEqual(["/etc/ka.conf:4:5: warning: vrrp_sync_group G: no vrrp_instance 'GHOST'; ignored"]);
  });
});

describe('virtual_server', () => {
  it("keepalived's defaults: NAT, wlc and UDP (both with a warning), delay_loop 60, quorum 1, weight 1, RS port = VS port", () => {
    const r = compile('virtual_server 10.0.0.1 80 {\n  real_server 192.168.0.1 {\n    TCP_CHECK {\n    }\n  }\n}');
    expect(messages(r)).toEqual([
      "/etc/ka.conf:1:1: warning: no lb_algo/lvs_sched given: using wlc, keepalived's default",
      "/etc/ka.conf:1:1: warning: virtual_server 10.0.0.1 80: no protocol set - defaulting to UDP, as keepalived does (write 'protocol TCP' for TCP)",
    ]);
    const v = r.model!.virtualServers[0];
    expect(v).toMatchObject({ address: '10.0.0.1', port: 80, family: 'inet', protocol: 'UDP', lbAlgo: 'wlc', lbKind: 'NAT', delayLoop: 60, quorum: 1, hysteresis: 0, alpha: false, omega: false });
    expect(v.persistenceTimeout).toBeUndefined();
    expect(v.realServers[0]).toMatchObject({ address: '192.168.0.1', port: 80, weight: 1, lbKind: 'NAT', inhibitOnFailure: false });
    expect(v.realServers[0].checkers[0]).toEqual({
      type: 'TCP_CHECK', loc: { file: '/etc/ka.conf', line: 3 }, connectIp: '192.168.0.1', connectPort: 80, connectTimeout: 5,
      retry: 1, delayBeforeRetry: 1, delayLoop: 60, warmup: 60, alpha: false, logAllFailures: false,
    });
  });

  it('persistence_timeout: bare = 360, 0 = none (with a warning), N = N', () => {
    expect(model(vs('  persistence_timeout')).virtualServers[0].persistenceTimeout).toBe(360);
    expect(model(vs('  persistence_timeout 50')).virtualServers[0].persistenceTimeout).toBe(50);
    const r = compile(vs('  persistence_timeout 0'));
    expect(r.model?.virtualServers[0].persistenceTimeout).toBeUndefined();
    expect(messages(r)).toEqual(['/etc/ka.conf:3:23: warning: persistence_timeout 0 means no persistence (as in keepalived); omit it instead']);
  });

  it('legacy nat_mask and nb_get_retry are accepted', () => {
    const r = compile(vs('  nat_mask 255.255.255.0\n  real_server 10.1.0.1 80 {\n    HTTP_GET {\n      url { path / }\n      nb_get_retry 4\n    }\n  }'));
    expect(r.errorCount).toBe(0);
    expect(messages(r)).toEqual(["/etc/ka.conf:3:3: warning: 'nat_mask' is obsolete (keepalived ignores it too)"]);
    expect(r.model?.virtualServers[0].realServers[0].checkers[0]).toMatchObject({ type: 'HTTP_GET', retry: 4, delayBeforeRetry: 3 });
  });

  it('fwmark and group services; schedulers, methods, flags, sorry server', () => {
    const m = model(`virtual_server_group G {\n  10.0.0.1-3 80\n  fwmark 7\n}
virtual_server group G {\n  lvs_sched sh\n  sh-port\n  lvs_method DR\n  sorry_server 10.9.9.9 8080\n  real_server 10.1.0.1 80 { }\n}
virtual_server fwmark 5 {\n  lb_algo mh\n  lb_kind TUN\n  protocol UDP\n  ops\n  real_server 10.1.0.2 53 { lvs_method DR }\n}`);
    expect(m.virtualServerGroups[0].entries).toEqual([
      { kind: 'address', loc: { file: '/etc/ka.conf', line: 2 }, address: '10.0.0.1', lastAddress: '10.0.0.3', family: 'inet', port: 80 },
      { kind: 'fwmark', loc: { file: '/etc/ka.conf', line: 3 }, fwmark: 7, family: 'inet' },
    ]);
    expect(m.virtualServers[0]).toMatchObject({ group: 'G', lbAlgo: 'sh', schedulerFlags: ['sh-port'], lbKind: 'DR', sorryServer: { address: '10.9.9.9', port: 8080, lbKind: 'DR' } });
    expect(m.virtualServers[1]).toMatchObject({ fwmark: 5, lbAlgo: 'mh', lbKind: 'TUN', protocol: 'UDP', ops: true });
    // keepalived: a DR real server of a fwmark service has no port of its own.
    expect(m.virtualServers[1].realServers[0]).toMatchObject({ port: 0, lbKind: 'DR' });
  });

  it('value and reference errors are located', () => {
    const r = compile(`virtual_server 10.0.0.1 80 {\n  lb_algo fastest\n  lb_kind DSR\n  real_server 10.0.0.999 80 { }\n  real_server 10.0.0.5 70000 { }\n  protocol TCP\n}\n${vs('', 'group NOPE')}${vs('', 'group NOPE')}`);
    expect(messages(r)).toEqual([
      "/etc/ka.conf:2:11: error: lb_algo: 'fastest' is not a scheduler (rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos)",
      "/etc/ka.conf:3:11: error: lb_kind: 'DSR' is not NAT, DR or TUN",
      "/etc/ka.conf:1:1: warning: no lb_algo/lvs_sched given: using wlc, keepalived's default",
      "/etc/ka.conf:4:15: error: real_server: '10.0.0.999' is not an IPv4 or IPv6 address",
      '/etc/ka.conf:5:24: error: real_server port: 70000 is out of range 0..65535',
      "/etc/ka.conf:8: error: virtual_server group 'NOPE': no virtual_server_group of that name",
      "/etc/ka.conf:14: error: virtual_server group 'NOPE': no virtual_server_group of that name",
      '/etc/ka.conf:14: error: virtual_server group:NOPE/TCP is already defined at /etc/ka.conf:8',
    ]);
  });
});

describe('checkers and timer inheritance', () => {
  it('timers flow virtual_server → real_server → checker; the nearest wins', () => {
    const m = model(vs(`  delay_loop 10\n  connect_timeout 7\n  retry 4\n  alpha
  real_server 10.1.0.1 8080 {
    delay_before_retry 2
    connect_timeout 3
    TCP_CHECK { }
    TCP_CHECK { connect_timeout 1.5\n delay_loop 2\n warmup 0\n connect_port 9000 }
  }`));
    const [a, b] = m.virtualServers[0].realServers[0].checkers;
    expect(a).toMatchObject({ connectTimeout: 3, retry: 4, delayBeforeRetry: 2, delayLoop: 10, warmup: 10, alpha: true, connectPort: 8080 });
    expect(b).toMatchObject({ connectTimeout: 1.5, retry: 4, delayBeforeRetry: 2, delayLoop: 2, warmup: 0, connectPort: 9000 });
  });

  it('per-type defaults: retry (DNS 3, MISC 0), delay_before_retry (HTTP/SSL 3, DNS = delay_loop)', () => {
    const m = model(vs(`  delay_loop 20\n  real_server 10.1.0.1 53 {
    DNS_CHECK { type A\n name example.com }
    MISC_CHECK { misc_path "/bin/check 'x y'"\n misc_dynamic\n user nobody }
    SSL_GET { url { path /health\n status_code 200 301-302 } \n enable_sni\n virtualhost h.example }
    SMTP_CHECK { helo_name me.example }
    UDP_CHECK { payload 0a0B 1\n require_reply 4x\n max_reply_length 100 }
    PING_CHECK { }
  }`));
    const c = m.virtualServers[0].realServers[0].checkers;
    expect(c.map((x) => [x.type, x.retry, x.delayBeforeRetry])).toEqual([
      ['DNS_CHECK', 3, 20], ['MISC_CHECK', 0, 1], ['SSL_GET', 1, 3], ['SMTP_CHECK', 1, 1], ['UDP_CHECK', 1, 1], ['PING_CHECK', 1, 1],
    ]);
    expect(c[0]).toMatchObject({ queryType: 'A', name: 'example.com' });
    expect(c[1]).toMatchObject({ script: { argv: ['/bin/check', 'x y'], user: 'nobody' }, dynamic: true, timeout: 20 });
    expect(c[2]).toMatchObject({ enableSni: true, virtualhost: 'h.example', httpProtocol: '1.0', urls: [{ path: '/health', statusCodes: [[200, 200], [301, 302]] }] });
    expect(c[3]).toMatchObject({ heloName: 'me.example' });
    expect(c[4]).toMatchObject({ payload: '0a0b01', requireReply: true, replyPattern: '4x', minReplyLength: 0, maxReplyLength: 100 });
  });

  it('HTTP_GET: default status 200-299, digest checked, url without path is an error', () => {
    const r = compile(vs('  real_server 10.1.0.1 80 {\n    HTTP_GET {\n      url {\n        digest xyz\n      }\n    }\n  }'));
    expect(messages(r)).toEqual([
      "/etc/ka.conf:6:16: error: digest: 'xyz' is not an MD5 hex digest (32 hex digits)",
      "/etc/ka.conf:5:7: error: url block without 'path'",
    ]);
    const ok = model(vs('  real_server 10.1.0.1 80 {\n    HTTP_GET { url { path /\n digest 9B3A0C85A887A256D6939DA88AABD8CD } }\n  }'));
    expect(ok.virtualServers[0].realServers[0].checkers[0]).toMatchObject({ urls: [{ statusCodes: [[200, 299]], digest: '9b3a0c85a887a256d6939da88aabd8cd' }] });
  });

  it('a checker with no port to probe is an error', () => {
    const r = compile(vs('  real_server 10.1.0.1 {\n    TCP_CHECK { }\n  }', 'fwmark 3'));
    expect(messages(r)).toEqual(['/etc/ka.conf:4:5: error: TCP_CHECK: no port to connect to (give the real_server a port or set connect_port)']);
  });
});

describe('the runtime-support list', () => {
  it('is honoured in every kind of block', () => {
    const r = compile(`${instance('  unicast_peer {\n    10.0.0.2 min_ttl 1\n  }\n  skip_check_adv_addr')}${vs(`  real_server 10.1.0.1 80 {
    HTTP_GET {\n      url {\n        path /\n        regex ok\n      }\n      fast_recovery\n      bind_if eth0\n    }\n  }`)}`);
    const pending = messages(r).filter((m) => m.includes('not acted on at runtime'));
    expect(pending.map((m) => m.replace(/^\/etc\/ka\.conf:(\d+:\d+): warning: '([^']+)'.*$/, '$1 $2'))).toEqual([
      '7:3 skip_check_adv_addr', '19:7 bind_if',
    ]);
  });

  it('every entry names a block.keyword the compiler handles', () => {
    for (const key of NOT_ACTED_ON_AT_RUNTIME.keys()) expect(key).toMatch(/^([a-z_]+|[A-Z_]+)\.[a-z_0-9-]+$/);
  });
});

describe('diagnostic format', () => {
  it('is FILE:LINE[:COL]: severity: message, in included files too', () => {
    const r = compile('include inc.conf\n', { files: { '/etc/inc.conf': '\n\nvrrp_instance X {\n  priority zero\n  virtual_router_id 1\n}' } });
    expect(messages(r)).toEqual([
      "/etc/inc.conf:4:12: error: priority: 'zero' is not an integer",
      '/etc/inc.conf:3:1: warning: vrrp_instance X: no virtual_ipaddress; at least one is sensible (keepalived warns too)',
      '/etc/inc.conf:3:1: warning: vrrp_instance X: no interface given; the runtime needs one',
    ]);
  });
});

describe('addresses', () => {
  it('IPv6 addresses are written in RFC 5952 form, so one address has one name', async () => {
    const { canonicalIp } = await import('../../src/util/ipAddress.js');
    expect(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('0:0:0:0:0:0:0:0')).toBe('::');
    expect(canonicalIp('fe80::0:1')).toBe('fe80::1');
    expect(canonicalIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalIp('::FFFF:10.0.0.1')).toBe('::ffff:10.0.0.1');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    const r = compile('virtual_server 2001:DB8::0:1 80 {\n  lb_algo rr\n  protocol TCP\n  real_server 2001:db8:0:0::2 80 { }\n  real_server 2001:DB8::2 80 { }\n}');
    expect(r.model?.virtualServers[0].address).toBe('2001:db8::1');
    expect(r.model?.virtualServers[0].realServers.map((rs) => rs.address)).toEqual(['2001:db8::2']);
    expect(messages(r)).toEqual(['/etc/ka.conf:5: warning: virtual_server 2001:db8::1 80: real server 2001:db8::2 80 is duplicated - removing the second']);
  });
});

describe('virtual_server_group services', () => {
  it('a group of fwmarks only takes no protocol default; one with addresses defaults to UDP like an address', () => {
    const r = compile(`virtual_server group M {\n  lb_algo rr\n  real_server 10.1.0.1 80 { }\n}\nvirtual_server group A {\n  lb_algo rr\n  real_server 10.1.0.1 80 { }\n}
virtual_server_group M {\n  fwmark 4\n}\nvirtual_server_group A {\n  10.0.0.1 80\n}`);
    expect(messages(r)).toEqual([
      "/etc/ka.conf:5:1: warning: virtual_server group A: no protocol set - defaulting to UDP, as keepalived does (write 'protocol TCP' for TCP)",
    ]);
  });

  it('lvs_flush_on_stop VS (keepalived 2.2) is accepted', () => {
    expect(model('global_defs {\n  lvs_flush_on_stop VS\n}').global.lvsFlushOnStop).toBe(true);
  });
});
