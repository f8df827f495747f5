import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, type KeepalivedProcess, startKeepalived, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// track_file, the same config for tslvsd (namespace a, VRID 71) and keepalived 2.2.7 (namespace b, VRID
// 72): `prio` (weight -10) lowers the advertised priority by 10 per unit, `stop` (weight 0) means FAULT
// when non-zero. Judged by the adverts on the wire (tcpdump) and the notify FIFO lines (byte-identical).
const PREFIX = labPrefix('tf');

function conf(dir: string, vrid: number): string {
  const base = keepalivedConf({
    routerId: `r${vrid}`, vrid, priority: 150, advertInt: 1, vips: [`10.97.0.${vrid}/24`],
    extra: ['track_file {', '  prio', '  stop weight 0', '}'],
  });
  return base
    .replace('global_defs {', `global_defs {\n  notify_fifo ${path.join(dir, 'notify.fifo')}\n  notify_fifo_script ${path.join(dir, 'reader.sh')}`)
    .replace('vrrp_instance', `track_file prio {\n  file ${path.join(dir, 'prio')}\n  weight -10\n}\ntrack_file stop {\n  file ${path.join(dir, 'stop')}\n  init_file 0\n}\nvrrp_instance`);
}

describe.skipIf(!isRoot)('track_file: tslvsd and keepalived 2.2.7 on the same config', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let tslvsd: TslvsdProcess | undefined;
  let keepalived: KeepalivedProcess | undefined;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.97.0.1/24', '10.97.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-tf-'));
  });

  afterAll(async () => {
    await tslvsd?.crash();
    await keepalived?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('priority follows value × weight; weight 0 and a non-zero value is FAULT; FIFO lines identical', async () => {
    const dirs = { t: path.join(dir, 't'), k: path.join(dir, 'k') };
    const captures: Record<'t' | 'k', string> = { t: '', k: '' };
    for (const side of ['t', 'k'] as const) {
      const d = dirs[side];
      mkdirSync(d);
      captures[side] = path.join(d, 'capture.txt');
      // Ignores SIGTERM: keepalived signals its scripts before it writes STOP (see notifyFifo.test.ts).
      writeFileSync(path.join(d, 'reader.sh'), `#!/bin/sh\ntrap '' TERM\nexec /bin/cat "$1" > ${captures[side]}\n`);
      chmodSync(path.join(d, 'reader.sh'), 0o755);
      writeFileSync(path.join(d, 'prio'), '0\n');
      writeFileSync(path.join(d, 'ka.conf'), conf(d, side === 't' ? 71 : 72));
    }
    const tcpdump = spawn('ip', ['netns', 'exec', a.ns, 'tcpdump', '-i', 'eth0', '-nn', '-l', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let dump = '';
    let listening = false;
    tcpdump.stdout.on('data', (d: Buffer) => (dump += d.toString()));
    tcpdump.stderr.on('data', (d: Buffer) => (listening ||= d.toString().includes('listening')));
    const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    const advertised = (vrid: number, prio: number, from: number): boolean => dump.slice(from).split('\n').some((l) => l.includes(`vrid ${vrid}, prio ${prio},`));
    try {
      expect(await waitFor(() => listening, { timeoutMs: 10_000 })).toBe(true);
      tslvsd = startTslvsd(a.ns, path.join(dirs.t, 'ka.conf'));
      keepalived = startKeepalived(b.ns, path.join(dirs.k, 'ka.conf'), path.join(dirs.k, 'run'));
      for (const side of ['t', 'k'] as const) {
        expect(await waitFor(() => lines(captures[side]).includes('INSTANCE "VI_1" MASTER 150'), { timeoutMs: BOOT_MS })).toBe(true);
      }
      // init_file 0 created the missing `stop` file in both.
      expect(readFileSync(path.join(dirs.t, 'stop'), 'utf8')).toBe('0\n');
      expect(readFileSync(path.join(dirs.k, 'stop'), 'utf8')).toBe('0\n');

      // prio 2 × weight -10: both advertise 130.
      let from = dump.length;
      for (const d of Object.values(dirs)) writeFileSync(path.join(d, 'prio'), '2\n');
      expect(await waitFor(() => advertised(71, 130, from) && advertised(72, 130, from), { timeoutMs: 10_000 })).toBe(true);
      // Back to 0: 150 again.
      from = dump.length;
      for (const d of Object.values(dirs)) writeFileSync(path.join(d, 'prio'), '0\n');
      expect(await waitFor(() => advertised(71, 150, from) && advertised(72, 150, from), { timeoutMs: 10_000 })).toBe(true);

      // stop = 1 with weight 0: FAULT (priority 0 sent), then 0: BACKUP → MASTER.
      for (const d of Object.values(dirs)) writeFileSync(path.join(d, 'stop'), '1\n');
      for (const side of ['t', 'k'] as const) {
        expect(await waitFor(() => lines(captures[side]).some((l) => l.includes(' FAULT ')), { timeoutMs: 10_000 })).toBe(true);
      }
      await sleep(500);
      for (const d of Object.values(dirs)) writeFileSync(path.join(d, 'stop'), '0\n');
      for (const side of ['t', 'k'] as const) {
        expect(await waitFor(() => lines(captures[side]).filter((l) => l.includes(' MASTER ')).length === 2, { timeoutMs: 15_000 })).toBe(true);
      }
    } finally {
      tcpdump.kill();
    }
    await Promise.all([tslvsd.stop(), keepalived.stop()]);
    await sleep(1500);
    const t = readFileSync(captures.t, 'utf8');
    const k = readFileSync(captures.k, 'utf8');
    console.log(`keepalived wrote:\n${k}tslvsd wrote:\n${t}`);
    expect(k).toContain('FAULT');
    expect(t).toBe(k);
  });
});
