import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startKeepalived, startTslvsd, type KeepalivedProcess, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// unicast_peer min_ttl/max_ttl with check_unicast_src. A tslvsd master (namespace a, priority 200) sends
// unicast adverts with TTL 255 to b; b (priority 100) runs the same config under test, tslvsd or keepalived
// 2.2.7: with the peer's range 255..255 it follows the master (no advert from b on the wire), with 0..254
// it drops every advert (ip_ttl_err) and takes over, so b's adverts appear. Judged by tcpdump in a.
const PREFIX = labPrefix('ttl');
const A = '10.95.0.1';
const B = '10.95.0.2';
const VRID = 61;

function conf(routerId: string, priority: number, src: string, peer: string, checked: boolean): string {
  return keepalivedConf({
    routerId, vrid: VRID, priority, advertInt: 1, vips: ['10.95.0.100/24'], unicastSrc: src, unicastPeers: [peer],
    ...(checked ? { extra: ['check_unicast_src'] } : {}),
  });
}

describe.skipIf(!isRoot)('unicast_peer min_ttl/max_ttl: tslvsd and keepalived 2.2.7 as the checking backup', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let master: TslvsdProcess | undefined;
  let dump = '';
  let tcpdump: ReturnType<typeof spawn> | undefined;
  const fromB = (since: number): boolean => dump.slice(since).split('\n').some((l) => l.includes(`${B} > ${A}`) && l.includes(`vrid ${VRID}, prio 100,`));

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', `${A}/24`, `${B}/24`);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-ttl-'));
    let listening = false;
    tcpdump = spawn('ip', ['netns', 'exec', a.ns, 'tcpdump', '-i', 'eth0', '-nn', '-l', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    tcpdump.stdout!.on('data', (d: Buffer) => (dump += d.toString()));
    tcpdump.stderr!.on('data', (d: Buffer) => (listening ||= d.toString().includes('listening')));
    expect(await waitFor(() => listening, { timeoutMs: 10_000 })).toBe(true);
    writeFileSync(path.join(dir, 'a.conf'), conf('ra', 200, A, B, false));
    master = startTslvsd(a.ns, path.join(dir, 'a.conf'));
    expect(await master.waitForState('MASTER', BOOT_MS)).toBe(true);
  }, BOOT_MS + 20_000);

  afterAll(async () => {
    tcpdump?.kill('SIGKILL');
    await master?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['tslvsd', 'keepalived'] as const) {
    it(`${kind}: TTL 255 within 255..255 is followed; outside 0..254 is dropped and b takes over`, async () => {
      for (const [range, takesOver] of [['min_ttl 255 max_ttl 255', false], ['max_ttl 254', true]] as const) {
        const file = path.join(dir, `b-${kind}-${takesOver}.conf`);
        writeFileSync(file, conf('rb', 100, B, `${A} ${range}`, true));
        const since = dump.length;
        let t: TslvsdProcess | undefined;
        let k: KeepalivedProcess | undefined;
        try {
          if (kind === 'tslvsd') {
            t = startTslvsd(b.ns, file);
            expect(await t.waitForState('BACKUP', BOOT_MS)).toBe(true);
          } else {
            k = startKeepalived(b.ns, file, path.join(dir, `run-${takesOver}`));
            expect(await k.waitForLog(/Entering BACKUP STATE/, BOOT_MS)).toBe(true);
          }
          if (takesOver) {
            // 3 × advert_int + skew (3.61 s) without an accepted advert.
            expect(await waitFor(() => fromB(since), { timeoutMs: 15_000 }), `${kind}: no advert from b`).toBe(true);
            if (t) expect(t.state()).toBe('MASTER');
            if (k) expect(await k.waitForLog(/TTL\/HL 255 not in range 0 - 254/, 5_000)).toBe(true);
          } else {
            // Three down intervals: never a takeover.
            await sleep(11_000);
            expect(fromB(since), `${kind}: b advertised although the master's TTL is in range`).toBe(false);
            if (t) expect(t.state()).toBe('BACKUP');
          }
        } finally {
          await t?.crash();
          await k?.crash();
        }
      }
    }, 2 * (BOOT_MS + 30_000));
  }
});
