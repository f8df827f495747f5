import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, hasAddress, labPrefix, macOf, type LabHost } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// Unsolicited neighbour advertisements for an IPv6 VIP (virtual_ipaddress_excluded of an IPv4 instance),
// judged by tcpdump in the peer namespace: tslvsd and keepalived 2.2.7 read the same file and must put the
// same frames on the wire on becoming master — garp_master_repeat (5) NAs at once and 5 more after
// garp_master_delay (5 s), type 136, target = source = the VIP, Override, to ff02::1 / 33:33:00:00:00:01,
// hop limit 255, the director's MAC in the Target Link-Layer Address option, checksum correct.
const PREFIX = labPrefix('na');
const VIP6 = 'fd00:99::200';
const hasKeepalived = /Keepalived/.test(Object.values(await runCommand('keepalived', ['--version'])).join(''));

interface SeenAdvert {
  atMs: number;
  line: string;
}

/** tcpdump -e -vv of the NAs on the peer's eth0, one entry per frame (its two lines joined). */
function captureAdverts(ns: string): { adverts: SeenAdvert[]; listening: Promise<void>; stop: () => Promise<void> } {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'eth0', '-nn', '-e', '-vv', '-tt', '-l', 'icmp6 and ip6[40] == 136'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const adverts: SeenAdvert[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const at = /^(\d+\.\d+) /.exec(line);
      if (at) adverts.push({ atMs: Number(at[1]) * 1000, line });
      else if (adverts.length > 0) adverts[adverts.length - 1]!.line += ` ${line.trim()}`;
    }
  });
  const listening = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    adverts,
    listening,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Frames within 1 s of each other form one burst. */
function bursts(adverts: SeenAdvert[]): SeenAdvert[][] {
  const result: SeenAdvert[][] = [];
  for (const a of adverts) {
    const last = result.at(-1);
    if (last && a.atMs - last.at(-1)!.atMs < 1000) last.push(a);
    else result.push([a]);
  }
  return result;
}

describe.skipIf(!isRoot || !hasKeepalived)('unsolicited neighbour advertisements, tslvsd beside keepalived 2.2.7', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let macA: string;
  const seen = new Map<string, SeenAdvert[]>();
  const conf = (vmac: boolean) =>
    keepalivedConf({ routerId: 'a', priority: 150, state: 'MASTER', vips: ['10.99.0.200/24'], extra: ['virtual_ipaddress_excluded {', `  ${VIP6}/64`, '}', ...(vmac ? ['use_vmac'] : [])] });

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    macA = await macOf(a.ns, 'eth0');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-na-'));
    writeFileSync(path.join(dir, 'keepalived.conf'), conf(false));
    writeFileSync(path.join(dir, 'keepalived-vmac.conf'), conf(true));
  });

  afterAll(async () => {
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['tslvsd', 'keepalived'] as const) {
    it(`${kind}: 5 NAs on becoming master and 5 more after garp_master_delay, as RFC 4861 unsolicited adverts`, async () => {
      const capture = captureAdverts(b.ns);
      await capture.listening;
      const file = path.join(dir, 'keepalived.conf');
      const daemon = kind === 'tslvsd' ? startTslvsd(a.ns, file) : startKeepalived(a.ns, file, path.join(dir, `ka-${kind}`));
      try {
        expect(await waitFor(() => capture.adverts.length > 0, { timeoutMs: BOOT_MS })).toBe(true);
        // The second burst comes garp_master_delay (5 s) after the first; wait past it for stragglers.
        await waitFor(() => capture.adverts.length >= 10, { timeoutMs: 10_000 });
        await sleep(1500);
      } finally {
        await daemon.stop();
        await capture.stop();
      }
      seen.set(kind, capture.adverts);
      for (const { line } of capture.adverts) {
        expect(line).toContain(`${macA} > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) ${VIP6} > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is ${VIP6}, Flags [override]`);
        expect(line).toContain(`destination link-address option (2), length 8 (1): ${macA}`);
      }
      const groups = bursts(capture.adverts);
      expect(groups.map((g) => g.length)).toEqual([5, 5]);
      const gapMs = groups[1]![0]!.atMs - groups[0]![0]!.atMs;
      console.log(`${kind}: NA bursts ${groups.map((g) => g.length).join(' + ')}, second ${(gapMs / 1000).toFixed(2)} s after the first, burst spread ${(groups[0]!.at(-1)!.atMs - groups[0]![0]!.atMs).toFixed(1)} ms`);
      expect(gapMs).toBeGreaterThan(4000);
      expect(gapMs).toBeLessThan(7000);
    });
  }

  it('tslvsd and keepalived put the same frames on the wire', () => {
    const text = (kind: string) => (seen.get(kind) ?? []).map((s) => s.line.replace(/^\S+ /, ''));
    expect(text('tslvsd')).toHaveLength(10);
    expect(text('tslvsd')).toEqual(text('keepalived'));
  });

  // use_vmac on an IPv4 instance: keepalived 2.2.7 leaves the IPv6 eVIP on the parent, so its NAs carry the
  // parent's MAC, not 00:00:5e:00:01:33 (tslvsd does the same).
  for (const kind of ['tslvsd', 'keepalived'] as const) {
    it(`${kind} with use_vmac: the IPv6 eVIP stays on eth0, its first burst of 5 NAs from eth0's MAC`, async () => {
      const vmacMac = macA;
      const capture = captureAdverts(b.ns);
      await capture.listening;
      const file = path.join(dir, 'keepalived-vmac.conf');
      const daemon = kind === 'tslvsd' ? startTslvsd(a.ns, file) : startKeepalived(a.ns, file, path.join(dir, `ka-vmac-${kind}`));
      try {
        expect(await waitFor(() => capture.adverts.length >= 5, { timeoutMs: BOOT_MS })).toBe(true);
        await sleep(1000);
      } finally {
        await daemon.stop();
        await capture.stop();
      }
      expect(await hasAddress(a.ns, 'eth0', VIP6)).toBe(false); // released at stop
      const first = bursts(capture.adverts)[0]!;
      expect(first).toHaveLength(5);
      for (const { line } of first) {
        expect(line).toContain(`${vmacMac} > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) ${VIP6} > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is ${VIP6}, Flags [override]`);
        expect(line).toContain(`destination link-address option (2), length 8 (1): ${vmacMac}`);
      }
    });
  }
});
