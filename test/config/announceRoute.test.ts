/**
 * The announce_route keywords (tslvsd extensions, issue 11): `announce_route` in a virtual_server (also one
 * naming a virtual_server_group), `announce_route_table` and `announce_route_drain` in global_defs. Defaults,
 * accepted forms, and every refusal located at FILE:LINE:COL.
 */
import { describe, expect, it } from 'vitest';
import { compile, messages, model } from './helpers.js';

const G = (line: string): string => `global_defs {\n  ${line}\n}\n`; // the statement is on line 2, its argument from column 3
const VS = (head: string, body: string, rs = '192.168.1.10'): string =>
  `virtual_server ${head} {\n  lb_algo rr\n  protocol TCP\n${body}\n  real_server ${rs} 80 {\n    TCP_CHECK {\n    }\n  }\n}\n`;

describe('global_defs announce_route_table / announce_route_drain', () => {
  it('default to table 248 and 2 s of drain', () => {
    const g = model('').global;
    expect(g.announceRouteTable).toBe(248);
    expect(g.announceRouteDrain).toBe(2);
  });

  it('take a table up to 2^32-1 and fractional or zero drain seconds', () => {
    expect(model(G('announce_route_table 100')).global.announceRouteTable).toBe(100);
    expect(model(G('announce_route_table 4294967295')).global.announceRouteTable).toBe(4294967295);
    expect(model(G('announce_route_table 1')).global.announceRouteTable).toBe(1);
    expect(model(G('announce_route_drain 0.5')).global.announceRouteDrain).toBe(0.5);
    expect(model(G('announce_route_drain 0')).global.announceRouteDrain).toBe(0);
    expect(messages(compile(G('announce_route_table 100') + G('announce_route_drain 3')))).toEqual([]);
  });

  it.each([
    ['announce_route_table 254', "/etc/ka.conf:2:24: error: announce_route_table: 254 is the kernel's main table; use a table of its own (default 248)"],
    ['announce_route_table 255', "/etc/ka.conf:2:24: error: announce_route_table: 255 is the kernel's local table; use a table of its own (default 248)"],
    ['announce_route_table 253', "/etc/ka.conf:2:24: error: announce_route_table: 253 is the kernel's default table; use a table of its own (default 248)"],
  ])('refuses the kernel\'s own tables: %s', (line, error) => {
    const r = compile(G(line));
    expect(r.model).toBeUndefined();
    expect(messages(r)).toEqual([error]);
  });

  it.each(['announce_route_table 0', 'announce_route_table 4294967296', 'announce_route_table main', 'announce_route_table -1',
    'announce_route_drain -1', 'announce_route_drain soon', 'announce_route_table', 'announce_route_drain'])('refuses %s at its line', (line) => {
    const r = compile(G(line));
    expect(r.model).toBeUndefined();
    const errors = messages(r).filter((m) => m.includes(': error: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\/etc\/ka\.conf:2:\d+: error: '?announce_route_(table|drain)/);
  });
});

describe('virtual_server announce_route', () => {
  it('is off unless given', () => {
    expect(model(VS('10.0.0.100 80', '')).virtualServers[0]?.announceRoute).toBeUndefined();
  });

  it('bare, or with a true boolean, turns it on; off turns it off; no warning either way', () => {
    expect(model(VS('10.0.0.100 80', '  announce_route')).virtualServers[0]?.announceRoute).toBe(true);
    expect(model(VS('10.0.0.100 80', '  announce_route on')).virtualServers[0]?.announceRoute).toBe(true);
    expect(model(VS('2001:db8::100 80', '  announce_route yes', '2001:db8::10')).virtualServers[0]?.announceRoute).toBe(true);
    expect(model(VS('10.0.0.100 80', '  announce_route off')).virtualServers[0]?.announceRoute).toBeUndefined();
    expect(messages(compile(VS('10.0.0.100 80', '  announce_route')))).toEqual([]);
  });

  it('refuses a value that is not a boolean, at the value', () => {
    const r = compile(VS('10.0.0.100 80', '  announce_route always'));
    expect(r.model).toBeUndefined();
    expect(messages(r)).toEqual(["/etc/ka.conf:4:18: error: announce_route: 'always' is not a boolean (on|off|true|false|yes|no)"]);
  });

  it('refuses a fwmark virtual server: there is no address to announce', () => {
    const r = compile(VS('fwmark 7', '  announce_route'));
    expect(r.model).toBeUndefined();
    expect(messages(r).filter((m) => m.includes('error'))).toEqual(['/etc/ka.conf:4:3: error: announce_route: virtual_server fwmark 7 has no address to announce']);
  });

  it('in a virtual server of a group: on when the group has an address, refused for a fwmark-only group', () => {
    const withAddress = 'virtual_server_group WEB {\n  10.0.0.100-102 80\n  fwmark 9\n}\n';
    expect(model(withAddress + VS('group WEB', '  announce_route')).virtualServers[0]?.announceRoute).toBe(true);
    const fwmarkOnly = 'virtual_server_group MARKS {\n  fwmark 9\n}\n';
    const r = compile(fwmarkOnly + VS('group MARKS', '  announce_route'));
    expect(r.model).toBeUndefined();
    expect(messages(r).filter((m) => m.includes('error'))).toEqual(['/etc/ka.conf:7:3: error: announce_route: virtual_server_group MARKS has only fwmarks, no address to announce']);
  });
});
