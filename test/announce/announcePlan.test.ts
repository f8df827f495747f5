/**
 * The pure desired state of announce_route (src/announce/announcePlan.ts): which prefixes each virtual
 * server asks for, which routes are wanted for every combination of quorum states, and the add/delete
 * difference a quorum change, a reload and a start-up apply.
 */
import { describe, expect, it } from 'vitest';
import {
  ANNOUNCED_ROUTE_FORM, announceTargets, announcedRouteStates, announcesRoutes, desiredRoutes, heldRouteId, routeChanges, RTPROT_TSLVSD, type HostRoute,
} from '../../src/announce/announcePlan.js';
import { model } from '../config/helpers.js';

const rs = (address = '192.168.1.10'): string => `  real_server ${address} 80 {\n    TCP_CHECK {\n    }\n  }\n`;
const vs = (head: string, body = '  announce_route', real = rs()): string => `virtual_server ${head} {\n  lb_algo mh\n  protocol TCP\n${body}\n${real}}\n`;
const route = (address: string, table = 248): HostRoute => ({ family: address.includes(':') ? 'inet6' : 'inet', address, prefix: `${address}/${address.includes(':') ? 128 : 32}`, table });
const prefixes = (routes: readonly HostRoute[]): string[] => routes.map(heldRouteId).sort();

describe('the route form', () => {
  it('is VIP dev lo, unicast, scope link, proto 249', () => {
    expect(ANNOUNCED_ROUTE_FORM).toEqual({ type: 'unicast', dev: 'lo', scope: 'link', protocol: 249 });
    expect(RTPROT_TSLVSD).toBe(249);
  });
});

describe('announceTargets', () => {
  it('nothing without announce_route', () => {
    const m = model(vs('10.0.0.100 80', ''));
    expect(announcesRoutes(m)).toBe(false);
    expect(announceTargets(m)).toEqual([]);
  });

  it('an address virtual server: its VIP /32 in table 248; IPv6 /128 in RFC 5952 form', () => {
    const m = model(vs('10.0.0.100 80') + vs('10.0.0.101 80', '') + vs('2001:DB8:0::100 443', '  announce_route', rs('2001:db8::10')));
    expect(announcesRoutes(m)).toBe(true);
    expect(announceTargets(m)).toEqual([
      { virtualServer: '10.0.0.100:80/TCP', routes: [route('10.0.0.100')] },
      { virtualServer: '[2001:db8::100]:443/TCP', routes: [route('2001:db8::100')] },
    ]);
  });

  it('the configured table', () => {
    const m = model('global_defs {\n  announce_route_table 1000\n}\n' + vs('10.0.0.100 80'));
    expect(announceTargets(m)[0]?.routes).toEqual([route('10.0.0.100', 1000)]);
  });

  it('a group: every address, ranges expanded, fwmarks and repeats left out', () => {
    const group = 'virtual_server_group WEB {\n  10.0.0.100-102 80\n  10.0.0.101 443\n  fwmark 9\n}\n';
    const m = model(group + vs('group WEB'));
    expect(announceTargets(m)).toEqual([{ virtualServer: 'group:WEB/TCP', routes: [route('10.0.0.100'), route('10.0.0.101'), route('10.0.0.102')] }]);
  });
});

describe('desiredRoutes', () => {
  const targets = [
    { virtualServer: 'a', routes: [route('10.0.0.1')] },
    { virtualServer: 'b', routes: [route('10.0.0.1'), route('10.0.0.2')] },
    { virtualServer: 'c', routes: [route('10.0.0.3')] },
  ];
  const states = [true, false, undefined] as const;
  // Every combination of the three quorum states (27) against held = nothing and held = everything.
  for (const qa of states) for (const qb of states) for (const qc of states) {
    for (const heldAll of [false, true]) {
      const q: Record<string, boolean | undefined> = { a: qa, b: qb, c: qc };
      it(`quorum a=${qa} b=${qb} c=${qc}, ${heldAll ? 'all held' : 'none held'}`, () => {
        const held = heldAll ? [route('10.0.0.1'), route('10.0.0.2'), route('10.0.0.3')] : [];
        const want = (up: boolean, unknown: boolean): boolean => up || (unknown && heldAll);
        const expected = [
          want(qa === true || qb === true, qa === undefined || qb === undefined) ? '248 10.0.0.1/32' : undefined,
          want(qb === true, qb === undefined) ? '248 10.0.0.2/32' : undefined,
          want(qc === true, qc === undefined) ? '248 10.0.0.3/32' : undefined,
        ].filter((x) => x !== undefined).sort();
        expect(prefixes(desiredRoutes(targets, (k) => q[k], held))).toEqual(expected);
      });
    }
  }

  it('a route held in another table is not kept by an unknown quorum (the table changed)', () => {
    expect(desiredRoutes([{ virtualServer: 'a', routes: [route('10.0.0.1', 300)] }], () => undefined, [route('10.0.0.1', 248)])).toEqual([]);
  });
});

describe('routeChanges', () => {
  it('adds what is wanted and not held, deletes what is held and not wanted, sorted, once each', () => {
    const held = [route('10.0.0.3'), route('10.0.0.1'), route('10.0.0.1')];
    const desired = [route('10.0.0.2'), route('10.0.0.1'), route('10.0.0.2'), route('10.0.0.0')];
    expect(routeChanges(held, desired)).toEqual({ add: [route('10.0.0.0'), route('10.0.0.2')], remove: [route('10.0.0.3')] });
  });

  it('nothing when held = desired', () => {
    expect(routeChanges([route('10.0.0.1'), route('::1')], [route('::1'), route('10.0.0.1')])).toEqual({ add: [], remove: [] });
  });

  it('start-up: stale routes of ours in the table go, the wanted ones stay untouched', () => {
    const stale = [route('10.0.0.9'), route('10.0.0.1')];
    expect(routeChanges(stale, [route('10.0.0.1')])).toEqual({ add: [], remove: [route('10.0.0.9')] });
  });

  it('a reload moving to another table: add in the new one, delete from the old', () => {
    expect(routeChanges([route('10.0.0.1', 248)], [route('10.0.0.1', 300)])).toEqual({ add: [route('10.0.0.1', 300)], remove: [route('10.0.0.1', 248)] });
  });

  it('a reload that leaves a VIP alone does not touch it', () => {
    const before = model(vs('10.0.0.100 80') + vs('10.0.0.101 80'));
    const after = model(vs('10.0.0.100 80') + vs('10.0.0.102 80'));
    const held = desiredRoutes(announceTargets(before), () => true, []);
    const next = desiredRoutes(announceTargets(after), () => true, held);
    expect(routeChanges(held, next)).toEqual({ add: [route('10.0.0.102')], remove: [route('10.0.0.101')] });
  });
});

describe('announcedRouteStates', () => {
  it('one row per virtual server and prefix, announced when held', () => {
    const targets = [{ virtualServer: 'a', routes: [route('10.0.0.1')] }, { virtualServer: 'b', routes: [route('10.0.0.1'), route('10.0.0.2')] }];
    expect(announcedRouteStates(targets, [route('10.0.0.1')])).toEqual([
      { virtualServer: 'a', prefix: '10.0.0.1/32', table: 248, announced: true },
      { virtualServer: 'b', prefix: '10.0.0.1/32', table: 248, announced: true },
      { virtualServer: 'b', prefix: '10.0.0.2/32', table: 248, announced: false },
    ]);
  });
});
