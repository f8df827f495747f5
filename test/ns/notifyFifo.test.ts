import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, mustRun, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, type KeepalivedProcess, startKeepalived, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// The same config (notify_fifo + notify_fifo_script reader, track_interface on a private veth) run by
// tslvsd in namespace a and by keepalived 2.2.7 in namespace b (another VRID: they ignore each other).
// Each goes BACKUP → MASTER → FAULT (tracked link down) → BACKUP (link up) → STOP; the lines each reader
// captured must be byte-identical.
const PREFIX = labPrefix('nf');

function fifoConf(dir: string, vrid: number, advertInt: number): string {
  const base = keepalivedConf({ routerId: `r${vrid}`, vrid, priority: 150, advertInt, vips: [`10.98.0.${vrid}/24`], trackInterfaces: ['trk0'] });
  return base.replace('global_defs {', `global_defs {\n  notify_fifo ${path.join(dir, 'notify.fifo')}\n  notify_fifo_script ${path.join(dir, 'reader.sh')}`);
}

/**
 * A reader script: copies the FIFO (its last argument) to capture.txt until EOF. It ignores SIGTERM:
 * keepalived SIGTERMs every script it started before it writes the STOP lines, so a reader that dies of
 * SIGTERM never sees STOP from keepalived (tslvsd closes the FIFO first and signals the reader later).
 */
function writeReader(dir: string): string {
  const capture = path.join(dir, 'capture.txt');
  const reader = path.join(dir, 'reader.sh');
  writeFileSync(reader, `#!/bin/sh\ntrap '' TERM\nexec /bin/cat "$1" > ${capture}\n`);
  chmodSync(reader, 0o755);
  return capture;
}

describe.skipIf(!isRoot)('notify_fifo: tslvsd and keepalived 2.2.7 write the same lines', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let tslvsd: TslvsdProcess | undefined;
  let keepalived: KeepalivedProcess | undefined;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.98.0.1/24', '10.98.0.2/24');
    for (const host of [a, b]) {
      await mustRun('ip', ['-n', host.ns, 'link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1']);
      await mustRun('ip', ['-n', host.ns, 'link', 'set', 'trk1', 'up']);
      await mustRun('ip', ['-n', host.ns, 'link', 'set', 'trk0', 'up']);
    }
    dir = mkdtempSync(path.join(tmpdir(), 'tv-nf-'));
  });

  afterAll(async () => {
    await tslvsd?.crash();
    await keepalived?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('BACKUP → MASTER → FAULT → BACKUP → STOP: byte-identical FIFO lines, FIFO removed at stop', async () => {
    const tDir = path.join(dir, 'tslvsd');
    const kDir = path.join(dir, 'keepalived');
    for (const d of [tDir, kDir]) execFileSync('mkdir', ['-p', d]);
    const tCapture = writeReader(tDir);
    const kCapture = writeReader(kDir);
    // advert_int 1: the down timer (~3.4 s) leaves time to stop while BACKUP after FAULT.
    writeFileSync(path.join(tDir, 'ka.conf'), fifoConf(tDir, 61, 1));
    writeFileSync(path.join(kDir, 'ka.conf'), fifoConf(kDir, 62, 1));
    tslvsd = startTslvsd(a.ns, path.join(tDir, 'ka.conf'));
    keepalived = startKeepalived(b.ns, path.join(kDir, 'ka.conf'), path.join(kDir, 'run'));
    const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    const has = (file: string, line: string, from = 0): boolean => lines(file).slice(from).includes(line);
    for (const capture of [tCapture, kCapture]) {
      expect(await waitFor(() => has(capture, 'INSTANCE "VI_1" MASTER 150'), { timeoutMs: BOOT_MS })).toBe(true);
    }
    const before = { t: lines(tCapture).length, k: lines(kCapture).length };
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'down']);
    await mustRun('ip', ['-n', b.ns, 'link', 'set', 'trk0', 'down']);
    for (const [capture, from] of [[tCapture, before.t], [kCapture, before.k]] as const) {
      expect(await waitFor(() => lines(capture).slice(from).some((l) => l.includes(' FAULT ')), { timeoutMs: 10_000 })).toBe(true);
    }
    await sleep(500);
    // Back to BACKUP; each is stopped as soon as its line is there (well inside the 3 s down timer).
    const afterFault = { t: lines(tCapture).length, k: lines(kCapture).length };
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'up']);
    await mustRun('ip', ['-n', b.ns, 'link', 'set', 'trk0', 'up']);
    const stops: Promise<unknown>[] = [];
    for (const [capture, from, stop] of [[tCapture, afterFault.t, () => tslvsd!.stop()], [kCapture, afterFault.k, () => keepalived!.stop()]] as const) {
      expect(await waitFor(() => lines(capture).slice(from).some((l) => l.includes(' BACKUP ')), { timeoutMs: 10_000 })).toBe(true);
      stops.push(stop());
    }
    await Promise.all(stops);
    // The readers got EOF and ended; the FIFOs the daemons created are gone.
    await sleep(1500);
    const t = readFileSync(tCapture, 'utf8');
    const k = readFileSync(kCapture, 'utf8');
    console.log(`keepalived wrote:\n${k}tslvsd wrote:\n${t}`);
    expect(k).toMatch(/STOP/);
    expect(t).toBe(k);
    expect(existsSync(path.join(tDir, 'notify.fifo'))).toBe(false);
    // keepalived 2.2.7 (--vrrp) leaves the FIFO it created behind; tslvsd removes the one it made.
  });

  it('a reader that does not read (pipe full): transitions and adverts are not delayed; the lines arrive later, in order', async () => {
    const sDir = path.join(dir, 'slow');
    execFileSync('mkdir', ['-p', sDir]);
    const fifo = path.join(sDir, 'notify.fifo');
    execFileSync('mkfifo', [fifo]);
    // We hold the FIFO and fill its pipe buffer: every line tslvsd writes meets a full pipe.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const filler = Buffer.from(`${'x'.repeat(99)}\n`);
    let filled = 0;
    for (;;) {
      try {
        writeSync(fd, filler);
        filled++;
      } catch {
        break;
      }
    }
    // The last page still has room for a short line: fill it to the byte.
    let tail = 0;
    for (;;) {
      try {
        writeSync(fd, Buffer.from('y'));
        tail++;
      } catch {
        break;
      }
    }
    const conf = keepalivedConf({ routerId: 'slow', vrid: 63, priority: 150, advertInt: 1, vips: ['10.98.0.63/24'], trackInterfaces: ['trk0'] })
      .replace('global_defs {', `global_defs {\n  notify_fifo ${fifo}`);
    writeFileSync(path.join(sDir, 'ka.conf'), conf);
    const tcpdump = spawn('ip', ['netns', 'exec', b.ns, 'tcpdump', '-i', 'eth0', '-nn', '-l', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let dump = '';
    let listening = false;
    tcpdump.stdout.on('data', (d: Buffer) => (dump += d.toString()));
    tcpdump.stderr.on('data', (d: Buffer) => (listening ||= d.toString().includes('listening')));
    try {
      expect(await waitFor(() => listening, { timeoutMs: 10_000 })).toBe(true);
      tslvsd = startTslvsd(a.ns, path.join(sDir, 'ka.conf'));
      expect(await tslvsd.waitForState('BACKUP', BOOT_MS)).toBe(true);
      const backupAt = performance.now();
      expect(await tslvsd.waitForState('MASTER', 15_000)).toBe(true);
      // master_down_interval = 3 × 1 s + skew (0.41 s): a blocked write would push this out.
      const takeover = performance.now() - backupAt;
      expect(takeover).toBeLessThan(6000);
      // More lines while the pipe is full: FAULT and back.
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'down']);
      expect(await waitFor(() => tslvsd!.state() === 'FAULT', { timeoutMs: 5000 })).toBe(true);
      await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'up']);
      expect(await waitFor(() => tslvsd!.state() === 'MASTER', { timeoutMs: 10_000 })).toBe(true);
      const from = dump.split('\n').length;
      await sleep(5000);
      const adverts = dump.split('\n').slice(from).filter((l) => l.includes('vrid 63') && l.includes('prio 150')).length;
      console.log(`pipe filled with ${filled} lines + ${tail} bytes; takeover ${takeover.toFixed(0)} ms; ${adverts} adverts in 5 s while the FIFO was full`);
      // 4–5 at advert_int 1; a blocked loop would send none.
      expect(adverts).toBeGreaterThanOrEqual(3);
    } finally {
      tcpdump.kill();
    }
    // Now the reader reads: the filler, then tslvsd's lines in order.
    let text = '';
    const buf = Buffer.alloc(1 << 16);
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline && !text.includes('MASTER 150\n') ) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        text += buf.subarray(0, n).toString();
      } catch {
        await sleep(50);
      }
    }
    await sleep(500);
    for (;;) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        text += buf.subarray(0, n).toString();
      } catch {
        break;
      }
    }
    closeSync(fd);
    const lines = text.match(/INSTANCE [^\n]*/g);
    expect(lines).toEqual(['INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150', 'INSTANCE "VI_1" FAULT 150', 'INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150']);
    expect(text.split('\n').filter((l) => l.startsWith('x')).length).toBe(filled);
    expect(text).toContain(`${'y'.repeat(tail)}INSTANCE "VI_1" BACKUP 150\n`);
    await tslvsd.stop();
    // Not ours: the FIFO stays.
    expect(existsSync(fifo)).toBe(true);
  });
});
