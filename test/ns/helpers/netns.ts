import { mustRun, runCommand, waitFor, type CommandResult } from './exec.js';

/**
 * Network-namespace lab for root tests: namespaces joined by veth pairs or a bridge, commands inside them,
 * address queries. Every name carries the caller's prefix (one per test file) so parallel suites and
 * leftovers from a crashed run never collide; `destroyLab(prefix)` removes everything with that prefix.
 */

/**
 * A tag unique to this test process: two runs of the suite at once (several people on one machine) must
 * not tear down each other's namespaces. Interface names stay within Linux's 15 characters.
 */
export const RUN_TAG = (process.pid % 46656).toString(36).padStart(3, '0');

/** Namespace prefix for one test file: `tv-NAME-TAG-`. */
export function labPrefix(name: string): string {
  return `tv-${name}-${RUN_TAG}-`;
}

let vethCounter = 0;
/** A fresh interface name for the root namespace (before it moves into a lab namespace). */
export function tempIfname(): string {
  return `tv${RUN_TAG}${(vethCounter++).toString(36)}`.slice(0, 15);
}

export async function ip(args: string[]): Promise<string> {
  return await mustRun('ip', args);
}

export async function createNetns(name: string): Promise<void> {
  await runCommand('ip', ['netns', 'del', name]);
  await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await runCommand('ip', ['netns', 'del', name]);
}

/** Runs argv inside a namespace (`ip netns exec NS …`). */
export function nsRun(ns: string, file: string, args: string[], timeoutMs?: number): Promise<CommandResult> {
  return runCommand('ip', ['netns', 'exec', ns, file, ...args], timeoutMs);
}

export async function nsMustRun(ns: string, file: string, args: string[], timeoutMs?: number): Promise<string> {
  return await mustRun('ip', ['netns', 'exec', ns, file, ...args], timeoutMs);
}

export interface LabHost {
  ns: string;
  /** Interface name inside the namespace. */
  dev: string;
  /** Address with prefix, e.g. 10.99.0.1/24. */
  cidr: string;
}

/**
 * Two namespaces joined by one veth pair: the smallest VRRP lab. Returns the two hosts, addresses set and
 * links up.
 */
export async function createVethLab(prefix: string, a: string, b: string, cidrA: string, cidrB: string): Promise<[LabHost, LabHost]> {
  const nsA = `${prefix}${a}`;
  const nsB = `${prefix}${b}`;
  await createNetns(nsA);
  await createNetns(nsB);
  // Create both ends in the root namespace under unique temporary names, then move and rename them.
  const tmpA = tempIfname();
  const tmpB = tempIfname();
  await ip(['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
  await ip(['link', 'set', tmpA, 'netns', nsA]);
  await ip(['link', 'set', tmpB, 'netns', nsB]);
  await ip(['-n', nsA, 'link', 'set', tmpA, 'name', 'eth0']);
  await ip(['-n', nsB, 'link', 'set', tmpB, 'name', 'eth0']);
  const hosts: [LabHost, LabHost] = [
    { ns: nsA, dev: 'eth0', cidr: cidrA },
    { ns: nsB, dev: 'eth0', cidr: cidrB },
  ];
  for (const host of hosts) {
    await ip(['-n', host.ns, 'addr', 'add', host.cidr, 'dev', host.dev]);
    await ip(['-n', host.ns, 'link', 'set', host.dev, 'up']);
  }
  return hosts;
}

/**
 * Several namespaces on one bridge (living in its own namespace `${prefix}br`), each with eth0 = cidr.
 * Use when more than two hosts share the segment (two directors + an observer).
 */
export async function createBridgeLab(prefix: string, hosts: { name: string; cidr: string }[]): Promise<LabHost[]> {
  const bridgeNs = `${prefix}br`;
  await createNetns(bridgeNs);
  await ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
  await ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
  const result: LabHost[] = [];
  let i = 0;
  for (const host of hosts) {
    const ns = `${prefix}${host.name}`;
    await createNetns(ns);
    const port = `p${i++}`;
    const tmp = tempIfname();
    const tmpPort = tempIfname();
    await ip(['link', 'add', tmp, 'type', 'veth', 'peer', 'name', tmpPort]);
    await ip(['link', 'set', tmp, 'netns', ns]);
    await ip(['link', 'set', tmpPort, 'netns', bridgeNs]);
    await ip(['-n', ns, 'link', 'set', tmp, 'name', 'eth0']);
    await ip(['-n', bridgeNs, 'link', 'set', tmpPort, 'name', port]);
    await ip(['-n', bridgeNs, 'link', 'set', port, 'master', 'br0']);
    await ip(['-n', bridgeNs, 'link', 'set', port, 'up']);
    await ip(['-n', ns, 'addr', 'add', host.cidr, 'dev', 'eth0']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    result.push({ ns, dev: 'eth0', cidr: host.cidr });
  }
  return result;
}

/**
 * A second segment for a bridge lab: bridge `bridge` in `${prefix}br`, and in each host's namespace `dev`
 * (with the given address) on it. For scenarios where a VIP names another interface.
 */
export async function addBridgeSegment(prefix: string, bridge: string, dev: string, hosts: { host: LabHost; cidr: string }[]): Promise<LabHost[]> {
  const bridgeNs = `${prefix}br`;
  await ip(['-n', bridgeNs, 'link', 'add', bridge, 'type', 'bridge']);
  await ip(['-n', bridgeNs, 'link', 'set', bridge, 'up']);
  const result: LabHost[] = [];
  let i = 0;
  for (const { host, cidr } of hosts) {
    const port = `${bridge}p${i++}`;
    const tmp = tempIfname();
    const tmpPort = tempIfname();
    await ip(['link', 'add', tmp, 'type', 'veth', 'peer', 'name', tmpPort]);
    await ip(['link', 'set', tmp, 'netns', host.ns]);
    await ip(['link', 'set', tmpPort, 'netns', bridgeNs]);
    await ip(['-n', host.ns, 'link', 'set', tmp, 'name', dev]);
    await ip(['-n', bridgeNs, 'link', 'set', tmpPort, 'name', port]);
    await ip(['-n', bridgeNs, 'link', 'set', port, 'master', bridge]);
    await ip(['-n', bridgeNs, 'link', 'set', port, 'up']);
    await ip(['-n', host.ns, 'addr', 'add', cidr, 'dev', dev]);
    await ip(['-n', host.ns, 'link', 'set', dev, 'up']);
    result.push({ ns: host.ns, dev, cidr });
  }
  return result;
}

/** Deletes every namespace whose name starts with prefix (and with it every interface inside). */
export async function destroyLab(prefix: string): Promise<void> {
  const list = await runCommand('ip', ['netns', 'list']);
  for (const line of list.stdout.split('\n')) {
    const name = line.split(' ')[0];
    if (name && name.startsWith(prefix)) await deleteNetns(name);
  }
}

/** IPv4/IPv6 addresses (without prefix) currently on a device in a namespace. */
export async function addressesOf(ns: string, dev: string): Promise<string[]> {
  const out = await runCommand('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', dev]);
  if (out.code !== 0) return [];
  const parsed = JSON.parse(out.stdout || '[]') as { addr_info?: { local: string }[] }[];
  return parsed.flatMap((link) => (link.addr_info ?? []).map((a) => a.local));
}

export async function hasAddress(ns: string, dev: string, address: string): Promise<boolean> {
  return (await addressesOf(ns, dev)).includes(address);
}

export async function macOf(ns: string, dev: string): Promise<string> {
  const out = await ip(['-n', ns, '-j', 'link', 'show', 'dev', dev]);
  const parsed = JSON.parse(out) as { address: string }[];
  return parsed[0]!.address;
}

/** Waits until the interface's link-local address has passed duplicate address detection (usable as a source). */
export async function linkLocalReady(ns: string, dev = 'eth0'): Promise<string> {
  let address: string | undefined;
  await waitFor(async () => {
    const out = await runCommand('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', dev, 'scope', 'link']);
    if (out.stdout.includes('tentative')) return false;
    address = /inet6 (fe80:[0-9a-f:]+)\//.exec(out.stdout)?.[1];
    return address !== undefined;
  }, { timeoutMs: 10_000, intervalMs: 100 });
  if (!address) throw new Error(`${ns}: no usable link-local address on ${dev}`);
  return address;
}
