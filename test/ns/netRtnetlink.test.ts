import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRtNetlink, type LinkEvent, type RtNetlink } from '../../src/net/rtnetlink.js';
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
