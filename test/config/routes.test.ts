import { describe, expect, it } from 'vitest';
import { compile, instance, messages, model } from './helpers.js';

/** An instance whose virtual_routes block holds `lines` (the first route line is line 5 of /etc/ka.conf). */
const vroutes = (lines: string) => instance(`  virtual_routes {\n${lines}\n  }`);
const vrules = (lines: string) => instance(`  virtual_rules {\n${lines}\n  }`);
const route = (line: string) => model(vroutes(line)).vrrpInstances[0]!.virtualRoutes[0];
const rule = (line: string) => model(vrules(line)).vrrpInstances[0]!.virtualRules[0];
const diagnostics = (text: string) => messages(compile(text));

describe('virtual_routes', () => {
  it('reads every supported option with keepalived defaults resolved', () => {
    expect(route('    10.98.0.0/24 via 10.0.0.2 dev eth0')).toEqual({
      loc: { file: '/etc/ka.conf', line: 5 }, family: 'inet', destination: { address: '10.98.0.0', prefixLength: 24 },
      type: 'unicast', table: 254, protocol: 18, via: '10.0.0.2', dev: 'eth0', onlink: false, noTrack: false,
    });
    expect(route('    src 10.0.0.1 to 10.97.0.0/16 via inet 10.0.0.3 oif eth1 scope link table 100 metric 7 onlink tos 16')).toMatchObject({
      src: '10.0.0.1', destination: { address: '10.97.0.0', prefixLength: 16 }, via: '10.0.0.3', dev: 'eth1', scope: 253,
      table: 100, metric: 7, onlink: true, tos: 16,
    });
    expect(route('    default via 10.0.0.254 table main')).toMatchObject({ destination: { address: '0.0.0.0', prefixLength: 0 }, table: 254 });
    expect(route('    inet6 default via fe80::1 dev eth0')).toMatchObject({ family: 'inet6', destination: { address: '::', prefixLength: 0 } });
    expect(route('    2001:DB8:1::/64 dev eth0 priority 1024 from 2001:db8:9::/48')).toMatchObject({
      family: 'inet6', destination: { address: '2001:db8:1::', prefixLength: 64 }, metric: 1024, from: { address: '2001:db8:9::', prefixLength: 48 },
    });
    expect(route('    10.96.0.1 dev eth0 scope 200 table 0x1000 preference 3')).toMatchObject({
      destination: { address: '10.96.0.1', prefixLength: 32 }, scope: 200, table: 4096, metric: 3,
    });
  });

  it('reads the route types', () => {
    for (const t of ['blackhole', 'unreachable', 'prohibit', 'throw'] as const) {
      expect(route(`    ${t} 10.95.0.0/16 table local`)).toMatchObject({ type: t, table: 255 });
    }
    expect(route('    to unreachable 10.95.0.0/16')).toMatchObject({ type: 'unreachable' });
  });

  it('protocol is keepalived (18) unless no_track keeps another, as keepalived does', () => {
    expect(route('    10.98.0.0/24 dev eth0 no_track protocol bird')).toMatchObject({ protocol: 12, noTrack: true });
    expect(route('    10.98.0.0/24 dev eth0 no_track')).toMatchObject({ protocol: 18, noTrack: true });
    expect(route('    10.98.0.0/24 dev eth0 proto 99 no_track')).toMatchObject({ protocol: 99 });
    const text = vroutes('    10.98.0.0/24 dev eth0 protocol static');
    expect(model(text).vrrpInstances[0]!.virtualRoutes[0]!.protocol).toBe(18);
    expect(diagnostics(text)).toEqual([
      '/etc/ka.conf:5:36: warning: route cannot be tracked if protocol is not keepalived (18); protocol reset to 18 (use no_track to keep 4)',
    ]);
  });

  it('warns about options keepalived has and tslvsd does not program, at FILE:LINE:COL, and keeps the route', () => {
    const text = vroutes('    10.98.0.0/24 via 10.0.0.2 mtu lock 1400 congctl cubic gw 10.0.0.3 append');
    expect(diagnostics(text)).toEqual([
      "/etc/ka.conf:5:31: warning: route option 'mtu' is not supported by tslvsd; ignored",
      "/etc/ka.conf:5:45: warning: route option 'congctl' is not supported by tslvsd; ignored",
      "/etc/ka.conf:5:59: warning: route: 'gw' is deprecated, use 'via' (as keepalived says)",
      "/etc/ka.conf:5:71: warning: route option 'append' is not supported by tslvsd; ignored",
    ]);
    expect(model(text).vrrpInstances[0]!.virtualRoutes[0]).toMatchObject({ via: '10.0.0.3' });
  });

  it('errors name FILE:LINE:COL and drop the route', () => {
    const cases: [string, string][] = [
      ['    10.98.0.0/24 via 10.0.0.300', "5:22: error: route via: '10.0.0.300' is not an IPv4 or IPv6 address"],
      ['    10.98.0.1/24 dev eth0', "5:5: error: route destination: '10.98.0.1/24' has host bits set (the network is 10.98.0.0/24)"],
      ['    10.98.0.0/24 via fe80::1', "5:22: error: route: cannot mix IPv4 and IPv6 addresses ('fe80::1')"],
      ['    10.98.0.0/24 table vpn', "5:24: error: route: routing table 'vpn' not found (use a number, main, local or default; /etc/iproute2/rt_tables is not read)"],
      ['    10.98.0.0/24 table 0', '5:24: error: route: table 0 is out of range 1..4294967295'],
      ['    10.98.0.0/24 scope galaxy', "5:24: error: route scope: 'galaxy' is not a number or a known name"],
      ['    10.98.0.0/24 metric', "5:18: error: route option 'metric' needs a value"],
      ['    via 10.0.0.2 dev eth0', '5:5: error: route must have a destination'],
      ['    10.98.0.0/24 sparkle', "5:18: error: unknown route keyword 'sparkle'"],
      ['    10.98.0.0/24 encap mpls 100 via 10.0.0.2', "5:18: error: route option 'encap' is not supported by tslvsd (ignoring it would install another route)"],
      ['    10.98.0.0/24 from 10.0.0.0/8', "5:23: error: route: 'from' is only supported with IPv6 ('10.0.0.0/8')"],
    ];
    for (const [line, expected] of cases) {
      const r = compile(vroutes(line));
      expect(messages(r), line).toContain(`/etc/ka.conf:${expected}`);
      expect(r.model?.vrrpInstances[0]?.virtualRoutes ?? [], line).toEqual([]);
    }
  });
});

describe('multipath and unparsable addresses: left out with a warning, as keepalived goes on without them', () => {
  it("a multipath route ('nexthop', keepalived's deprecated 'or') is not installed, the file is accepted", () => {
    for (const [line, col, word] of [['    10.98.0.0/24 nexthop via 10.0.0.2', 18, 'nexthop'], ['    10.98.0.0/24 via 10.0.0.2 or 10.0.0.3', 31, 'or']] as const) {
      const r = compile(vroutes(`${line}\n    10.99.0.0/24 via 10.0.0.2`));
      expect(r.errorCount, line).toBe(0);
      expect(messages(r), line).toContain(`/etc/ka.conf:5:${col}: warning: route: multipath ('${word}') is parsed but not acted on: this route is not installed`);
      expect(r.model!.vrrpInstances[0]!.virtualRoutes.map((v) => v.destination.address), line).toEqual(['10.99.0.0']);
    }
  });

  it("a rule whose address keepalived cannot parse either ('192.168.100./24') is skipped with a warning", () => {
    const r = compile(vrules('    to 192.168.100./24 table 1 priority 5\n    from 10.0.0.0/8 table 1 priority 6'));
    expect(r.errorCount).toBe(0);
    expect(messages(r)).toContain("/etc/ka.conf:5:8: warning: rule to: '192.168.100./24' is not an IPv4 or IPv6 address: the rule is not acted on (skipped, as keepalived skips it)");
    expect(r.model!.vrrpInstances[0]!.virtualRules.map((v) => v.priority)).toEqual([6]);
  });
});

describe('virtual_rules', () => {
  it('reads from/to/table/iif/oif/priority/fwmark', () => {
    expect(rule('    from 10.0.0.10 table 100 priority 100')).toEqual({
      loc: { file: '/etc/ka.conf', line: 5 }, family: 'inet', from: { address: '10.0.0.10', prefixLength: 32 }, action: 'table',
      table: 100, priority: 100, protocol: 18, noTrack: false,
    });
    expect(rule('    to 10.95.0.0/16 fwmark 0x10/0xff iif eth0 oif eth1 lookup main preference 200 tos 8')).toMatchObject({
      to: { address: '10.95.0.0', prefixLength: 16 }, fwmark: 16, fwmask: 255, iif: 'eth0', oif: 'eth1', table: 254, priority: 200, tos: 8,
    });
    expect(rule('    from all fwmark 7 dev eth0 table 1000 order 5')).toMatchObject({ fwmark: 7, iif: 'eth0', table: 1000, priority: 5 });
    expect(rule('    inet6 from 2001:db8::/32 prohibit priority 9')).toMatchObject({ family: 'inet6', action: 'prohibit' });
    expect(rule('    from 10.0.0.0/8 type blackhole priority 9')).toMatchObject({ action: 'blackhole' });
    expect(rule('    from 10.0.0.0/8 unreachable priority 9 no_track protocol 4')).toMatchObject({ action: 'unreachable', protocol: 4, noTrack: true });
    expect(rule('    from 10.0.0.0/8 nop priority 9')).toMatchObject({ action: 'nop' });
  });

  it('a rule without a preference gets 16384 counting down per family, with keepalived\'s warning', () => {
    const text = instance('  virtual_rules {\n    from 10.0.0.1 table 100\n    from 10.0.0.2 table 100\n    inet6 from ::1 table 100\n  }');
    const rules = model(text).vrrpInstances[0]!.virtualRules;
    expect(rules.map((r) => r.priority)).toEqual([16384, 16383, 16384]);
    expect(diagnostics(text)[0]).toBe('/etc/ka.conf:5:5: warning: rule has no preference specified - setting to 16384 (as keepalived does); this is probably not what you want');
  });

  it('warns about unsupported options at FILE:LINE:COL; errors drop the rule', () => {
    const text = vrules('    from 10.0.0.10 table 100 priority 100 sport 80 uidrange 0-100');
    expect(diagnostics(text)).toEqual([
      "/etc/ka.conf:5:43: warning: rule option 'sport' is not supported by tslvsd; ignored",
      "/etc/ka.conf:5:52: warning: rule option 'uidrange' is not supported by tslvsd; ignored",
    ]);
    const cases: [string, string][] = [
      ['    from 10.0.0.10 priority 100', '5:5: error: rule: no action (table, goto, nop, blackhole, prohibit or unreachable)'],
      ['    from 10.0.0.10 table 100 prohibit priority 1', '5:30: error: rule: cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable'],
      ['    from 10.0.0.10 fwmark 0x1g table 1 priority 1', "5:27: error: rule: invalid fwmark '0x1g' (MARK[/MASK])"],
      ['    from 10.0.0.10 to 2001:db8::1 table 1 priority 1', "5:23: error: rule: mixed IPv4 and IPv6 ('2001:db8::1')"],
      ['    from 10.0.0.10 goto 100 priority 1', "5:20: error: rule action 'goto 100' is not supported by tslvsd"],
      ['    from 10.0.0.10 table 1 priority x', "5:37: error: rule priority: 'x' is not a number"],
      ['    from 10.0.0.10 table 1 sparkle', "5:28: error: unknown rule option 'sparkle'"],
    ];
    for (const [line, expected] of cases) {
      const r = compile(vrules(line));
      expect(messages(r), line).toContain(`/etc/ka.conf:${expected}`);
      expect(r.model?.vrrpInstances[0]?.virtualRules ?? [], line).toEqual([]);
    }
  });
});

describe('static_ipaddress, static_routes, static_rules', () => {
  it('top-level blocks land in the model', () => {
    const m = model('static_ipaddress {\n  10.99.0.5/24 dev eth0 label eth0:st\n}\nstatic_routes {\n  10.94.0.0/16 via 10.99.0.1 dev eth0\n}\nstatic_rules {\n  from 10.99.0.5 table 101 priority 50\n}\n');
    expect(m.staticIpAddresses).toMatchObject([{ address: '10.99.0.5', prefixLength: 24, dev: 'eth0', label: 'eth0:st', loc: { line: 2 } }]);
    expect(m.staticRoutes).toMatchObject([{ destination: { address: '10.94.0.0', prefixLength: 16 }, via: '10.99.0.1', protocol: 18, loc: { line: 5 } }]);
    expect(m.staticRules).toMatchObject([{ from: { address: '10.99.0.5', prefixLength: 32 }, table: 101, priority: 50, loc: { line: 8 } }]);
    expect(messages(compile('static_routes {\n  10.94.0.0/16 via 10.99.0.1\n}\n'))).toEqual([]);
  });

  it('a static address needs a dev (no instance interface to default to)', () => {
    expect(diagnostics('static_ipaddress {\n  10.99.0.5/24\n}\n')).toContain("/etc/ka.conf:2: error: static_ipaddress 10.99.0.5: no 'dev' given");
  });

  it('no longer reported as "parsed but not acted on"', () => {
    const text = instance('  virtual_routes {\n    10.98.0.0/24 dev eth0\n  }\n  virtual_rules {\n    from 10.0.0.1 table 1 priority 1\n  }') +
      'static_routes {\n  10.94.0.0/16 dev eth0\n}\nstatic_rules {\n  from 10.0.0.2 table 1 priority 2\n}\nstatic_ipaddress {\n  10.99.0.5 dev eth0\n}\n';
    expect(diagnostics(text)).toEqual([]);
  });
});
