import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRtNetlink, type LinkEvent, type RtNetlink } from '../../src/net/rtnetlink.js';
import { RTPROT_KEEPALIVED, type RouteEntry, type RuleEntry } from '../../src/net/routeCodec.js';
import { isRoot, mustRun, runCommand, waitFor } from './helpers/exec.js';
import { RUN_TAG } from './helpers/netns.js';

// The vitest process lives in the root namespace, so this suite works on a veth pair created there under
// unique names (tvnl<tag>a/b), judged by iproute2.
const A = `tvnl${RUN_TAG}a`;
const B = `tvnl${RUN_TAG}b`;

async function ipAddrs(dev: string): Promise<{ local: string; prefixlen: number; label?: string; broadcast?: string; scope: string }[]> {
  const out = await mustRun('ip', ['-j', 'addr', 'show', 'dev', dev]);
  const parsed = JSON.parse(out) as { addr_info: { local: string; prefixlen: number; label?: string; broadcast?: string; scope: string }[] }[];
  return parsed[0]?.addr_info ?? [];
}

describe.skipIf(!isRoot)('rtnetlink edge against the kernel', () => {
  let nl: RtNetlink;
  let ifindex = 0;

  beforeAll(async () => {
    await runCommand('ip', ['link', 'del', A]);
    await mustRun('ip', ['link', 'add', A, 'address', '02:00:5e:aa:bb:01', 'type', 'veth', 'peer', 'name', B]);
    await mustRun('ip', ['link', 'set', B, 'up']);
    await mustRun('ip', ['link', 'set', A, 'up']);
    nl = openRtNetlink();
  });

  afterAll(async () => {
    nl?.close();
    await runCommand('ip', ['link', 'del', A]);
  });

  it('finds an interface by name: index, MAC, up', async () => {
    const link = await nl.linkByName(A);
    expect(link).toBeDefined();
    ifindex = link!.index;
    const sysIndex = Number((await mustRun('cat', [`/sys/class/net/${A}/ifindex`])).trim());
    expect(ifindex).toBe(sysIndex);
    expect(link!.mac.toString('hex')).toBe('02005eaabb01');
    expect(link!.adminUp).toBe(true);
    expect(await nl.linkByName('tvnl-none')).toBeUndefined();
  });

  it('adds an IPv4 VIP with prefix, brd, scope and label; adding again is unchanged', async () => {
    const vip = { address: '10.77.0.200', prefixLength: 24, ifindex, broadcast: '10.77.0.255', scope: 'global' as const, label: `${A}:vip` };
    expect(await nl.addAddress(vip)).toBe('changed');
    expect(await nl.addAddress(vip)).toBe('unchanged');
    const found = (await ipAddrs(A)).find((a) => a.local === '10.77.0.200');
    expect(found).toMatchObject({ prefixlen: 24, broadcast: '10.77.0.255', label: `${A}:vip`, scope: 'global' });
    const listed = (await nl.addresses(ifindex)).find((a) => a.address === '10.77.0.200');
    expect(listed).toMatchObject({ prefixLength: 24, label: `${A}:vip` });
  });

  it('adds a /32 host-scope VIP and an IPv6 VIP', async () => {
    expect(await nl.addAddress({ address: '10.77.1.1', prefixLength: 32, ifindex, scope: 'host' })).toBe('changed');
    expect(await nl.addAddress({ address: 'fd00:77::200', prefixLength: 64, ifindex })).toBe('changed');
    const addrs = await ipAddrs(A);
    expect(addrs.find((a) => a.local === '10.77.1.1')).toMatchObject({ prefixlen: 32, scope: 'host' });
    expect(addrs.find((a) => a.local === 'fd00:77::200')).toMatchObject({ prefixlen: 64 });
  });

  it('removes VIPs; removing an absent one is unchanged, not an error', async () => {
    expect(await nl.removeAddress({ address: '10.77.0.200', prefixLength: 24, ifindex })).toBe('changed');
    expect(await nl.removeAddress({ address: '10.77.0.200', prefixLength: 24, ifindex })).toBe('unchanged');
    expect(await nl.removeAddress({ address: '10.77.1.1', prefixLength: 32, ifindex })).toBe('changed');
    expect(await nl.removeAddress({ address: 'fd00:77::200', prefixLength: 64, ifindex })).toBe('changed');
    const left = (await ipAddrs(A)).map((a) => a.local);
    expect(left).not.toContain('10.77.0.200');
    expect(left).not.toContain('10.77.1.1');
    expect(left).not.toContain('fd00:77::200');
  });

  it('rejects a malformed address with an error, not a crash', async () => {
    await expect(nl.addAddress({ address: '10.77.0.300', prefixLength: 24, ifindex })).rejects.toThrow(/not an IP/);
    await expect(nl.addAddress({ address: '10.77.0.3', prefixLength: 33, ifindex })).rejects.toThrow(/prefix/);
  });

  it('reports link down and up events (track_interface)', async () => {
    const seen: LinkEvent[] = [];
    const unsubscribe = nl.onLinkChange((event) => {
      if (event.link.name === A) seen.push(event);
    });
    try {
      await mustRun('ip', ['link', 'set', A, 'down']);
      expect(await waitFor(() => seen.some((e) => !e.link.up), { timeoutMs: 5000 })).toBe(true);
      await mustRun('ip', ['link', 'set', A, 'up']);
      expect(await waitFor(() => seen.some((e) => e.link.up), { timeoutMs: 5000 })).toBe(true);
    } finally {
      unsubscribe();
    }
  });
});

// Routes and rules in the root namespace too, kept harmless: routes only in a table of this run's own
// (nothing looks it up but the rule below), the rule only for a source address from the benchmarking range
// 198.18.0.0/15 that no host uses; both deleted afterwards.
describe.skipIf(!isRoot)('rtnetlink route and rule edge against the kernel', () => {
  const RUN = parseInt(RUN_TAG, 36) % 1000;
  const TABLE = 20_000 + RUN;
  const PRIORITY = 30_000 + RUN;
  const SOURCE = `198.18.${Math.floor(RUN / 250)}.${(RUN % 250) + 1}`;
  const DEV = `tvrt${RUN_TAG}a`;
  let nl: RtNetlink;
  let oif = 0;

  beforeAll(async () => {
    await runCommand('ip', ['link', 'del', DEV]);
    await mustRun('ip', ['link', 'add', DEV, 'type', 'veth', 'peer', 'name', `tvrt${RUN_TAG}b`]);
    await mustRun('ip', ['link', 'set', `tvrt${RUN_TAG}b`, 'up']);
    await mustRun('ip', ['link', 'set', DEV, 'up']);
    await mustRun('ip', ['addr', 'add', '10.78.0.1/24', 'dev', DEV]);
    nl = openRtNetlink();
    oif = (await nl.linkByName(DEV))!.index;
  });

  afterAll(async () => {
    nl?.close();
    await runCommand('ip', ['route', 'flush', 'table', String(TABLE)]);
    await runCommand('ip', ['rule', 'del', 'priority', String(PRIORITY)]);
    await runCommand('ip', ['link', 'del', DEV]);
  });

  /** A route of the test table; `without` drops defaults a case has no use for (a blackhole has no gateway). */
  const route = (over: Partial<RouteEntry> = {}, without: ReadonlyArray<'gateway' | 'oif'> = []): RouteEntry => {
    const r: RouteEntry = {
      family: 'inet', destination: '10.98.0.0', prefixLength: 24, type: 'unicast', table: TABLE, protocol: RTPROT_KEEPALIVED, scope: 0,
      onlink: false, tos: 0, gateway: '10.78.0.254', oif, ...over,
    };
    for (const key of without) delete r[key];
    return r;
  };

  it('adds routes that `ip route` shows with proto keepalived; adding again is unchanged', async () => {
    expect(await nl.addRoute(route())).toBe('changed');
    expect(await nl.addRoute(route())).toBe('unchanged');
    expect(await nl.addRoute(route({ destination: '10.97.0.0', prefixLength: 16, type: 'blackhole' }, ['gateway', 'oif']))).toBe('changed');
    expect(await nl.addRoute(route({ family: 'inet6', destination: 'fd00:98::', prefixLength: 64, metric: 5 }, ['gateway']))).toBe('changed');
    // (a veth whose carrier is not up yet adds ' linkdown': not what is judged here)
    const shown = (await mustRun('ip', ['route', 'show', 'table', String(TABLE)])).trim().split('\n').map((l) => l.trim().replace(/ linkdown$/, ''));
    expect(shown).toEqual([`blackhole 10.97.0.0/16 proto keepalived`, `10.98.0.0/24 via 10.78.0.254 dev ${DEV} proto keepalived`]);
    expect((await mustRun('ip', ['-6', 'route', 'show', 'table', String(TABLE)])).trim()).toBe(`fd00:98::/64 dev ${DEV} proto keepalived metric 5 pref medium`);
  });

  it('decodes the kernel dump of routes `ip route add` made (table >= 256 through RTA_TABLE)', async () => {
    await mustRun('ip', ['route', 'add', '10.96.0.0/24', 'via', '10.78.0.253', 'dev', DEV, 'table', String(TABLE), 'proto', '18', 'metric', '7', 'src', '10.78.0.1']);
    const ours = (await nl.routes()).filter((r) => r.table === TABLE && r.family === 'inet').sort((x, y) => x.destination.localeCompare(y.destination));
    expect(ours).toEqual([
      route({ destination: '10.96.0.0', gateway: '10.78.0.253', metric: 7, preferredSource: '10.78.0.1' }),
      route({ destination: '10.97.0.0', prefixLength: 16, type: 'blackhole' }, ['gateway', 'oif']),
      route(),
    ].map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))));
  });

  it('removes only a route of the given protocol; removing an absent one is unchanged', async () => {
    expect(await nl.removeRoute(route({ protocol: 4 }))).toBe('unchanged'); // not ours: the kernel keeps it
    expect(await nl.removeRoute(route())).toBe('changed');
    expect(await nl.removeRoute(route())).toBe('unchanged');
    expect((await mustRun('ip', ['route', 'show', 'table', String(TABLE), '10.98.0.0/24'])).trim()).toBe('');
  });

  it('adds, lists and removes a rule (`ip rule` shows it with proto keepalived)', async () => {
    const rule: RuleEntry = { family: 'inet', from: { address: SOURCE, prefixLength: 32 }, action: 'table', table: TABLE, priority: PRIORITY, protocol: RTPROT_KEEPALIVED, tos: 0 };
    expect(await nl.addRule(rule)).toBe('changed');
    expect(await nl.addRule(rule)).toBe('unchanged');
    expect((await mustRun('ip', ['rule', 'show', 'priority', String(PRIORITY)])).trim()).toBe(`${PRIORITY}:\tfrom ${SOURCE} lookup ${TABLE} proto keepalived`);
    expect((await nl.rules()).filter((r) => r.priority === PRIORITY)).toEqual([rule]);
    expect(await nl.removeRule(rule)).toBe('changed');
    expect(await nl.removeRule(rule)).toBe('unchanged');
    expect((await mustRun('ip', ['rule', 'show', 'priority', String(PRIORITY)])).trim()).toBe('');
  });
});
