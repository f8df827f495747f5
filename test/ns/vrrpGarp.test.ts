import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { nativeAddon } from '../../src/net/nativeAddon.js';
import { openRtNetlink } from '../../src/net/rtnetlink.js';
import { GratuitousArpSender } from '../../src/vrrp/edge/gratuitousArp.js';
import { isRoot, mustRun, runCommand, waitFor } from './helpers/exec.js';
import { createNetns, deleteNetns, labPrefix, RUN_TAG } from './helpers/netns.js';

// Frames go out of tvga<tag> (root namespace, where vitest runs) through the native addon; tcpdump on the
// veth peer in tv-ga-<tag>-peer judges them byte for byte.
const PEER_NS = `${labPrefix('ga')}peer`;
const DEV = `tvga${RUN_TAG}`;
const PEER = `tvgp${RUN_TAG}`;
const MAC = '02:00:5e:77:88:99';

describe.skipIf(!isRoot)('gratuitous ARP on the wire (native AF_PACKET send)', () => {
  beforeAll(async () => {
    await runCommand('ip', ['link', 'del', DEV]);
    await createNetns(PEER_NS);
    await mustRun('ip', ['link', 'add', DEV, 'address', MAC, 'type', 'veth', 'peer', 'name', PEER]);
    await mustRun('ip', ['link', 'set', PEER, 'netns', PEER_NS]);
    await mustRun('ip', ['-n', PEER_NS, 'link', 'set', PEER, 'up']);
    await mustRun('ip', ['link', 'set', DEV, 'up']);
  });

  afterAll(async () => {
    await runCommand('ip', ['link', 'del', DEV]);
    await deleteNetns(PEER_NS);
  });

  it('peer sees a broadcast ARP request: sender = target = VIP, sender MAC = our interface MAC', async () => {
    const nl = openRtNetlink();
    const link = await nl.linkByName(DEV);
    nl.close();
    expect(link).toBeDefined();
    const tcpdump = spawn('ip', ['netns', 'exec', PEER_NS, 'tcpdump', '-i', PEER, '-c', '3', '-nn', '-e', '-x', '-l', 'arp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let listening = false;
    tcpdump.stdout.on('data', (d: Buffer) => (text += d.toString()));
    tcpdump.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) listening = true;
    });
    const exited = new Promise<void>((resolve) => tcpdump.on('exit', () => resolve()));
    expect(await waitFor(() => listening, { timeoutMs: 10_000 })).toBe(true);

    const sender = new GratuitousArpSender(nativeAddon());
    sender.send([
      { ifindex: link!.index, mac: link!.mac, vip: '10.99.0.200' },
      { ifindex: link!.index, mac: link!.mac, vip: 'fd00::1' }, // IPv6: no ARP, skipped
      { ifindex: link!.index, mac: link!.mac, vip: '10.99.0.201' },
      { ifindex: link!.index, mac: link!.mac, vip: '10.99.0.202' },
    ]);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    tcpdump.kill();
    expect(sender.counters).toEqual({ garpSent: 3, garpErrors: 0 });
    expect(text).toContain(`${MAC} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.99.0.200 (ff:ff:ff:ff:ff:ff) tell 10.99.0.200`);
    expect(text).toContain('Request who-has 10.99.0.201 (ff:ff:ff:ff:ff:ff) tell 10.99.0.201');
    expect(text).toContain('Request who-has 10.99.0.202 (ff:ff:ff:ff:ff:ff) tell 10.99.0.202');
  });

  it('counts a send failure (interface gone) instead of throwing', () => {
    const errors: Error[] = [];
    const sender = new GratuitousArpSender(nativeAddon(), (e) => errors.push(e));
    sender.send([{ ifindex: 0x7ffffff0, mac: Buffer.from('02005e778899', 'hex'), vip: '10.99.0.200' }]);
    expect(sender.counters).toEqual({ garpSent: 0, garpErrors: 1 });
    expect((errors[0] as Error & { code?: string }).code).toMatch(/ENXIO|ENODEV/);
  });
});
