import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// vrrp_track_process inside a network namespace: tslvsd (namespace a, VRID 73) tracks `weighted`
// (weight -20, a sleep whose argv[0] is unique to this run, matched with full_command) and `vital`
// (weight 0, `sleep 1001.5` matched by its params). Judged by the adverts on the wire (tcpdump in the
// namespace) and the notify FIFO lines. keepalived 2.2.7 cannot be the reference here: its process tracking
// rests on the proc connector, which the kernel refuses outside the initial network namespace. The second
// test runs it in namespace b on the same kind of config: it logs "Failed to set/clear process event listen
// - errno 111" and stays in FAULT ("quorum not achieved") although the process runs — the reason tslvsd
// polls /proc.
const PREFIX = labPrefix('tp');

describe.skipIf(!isRoot)('track_process in a network namespace', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let tslvsd: TslvsdProcess | undefined;
  const children = new Set<ChildProcess>();
  const argv0 = `tslvsd-ns-track-${process.pid}`;
  const startWeighted = (): ChildProcess => {
    const c = spawn('sleep', ['1000'], { argv0, stdio: 'ignore' });
    children.add(c);
    return c;
  };
  const startVital = (): ChildProcess => {
    const c = spawn('sleep', ['1001.5'], { stdio: 'ignore' });
    children.add(c);
    return c;
  };
  const stop = async (c: ChildProcess): Promise<void> => {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    children.delete(c);
  };

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.97.1.1/24', '10.97.1.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-tp-'));
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await tslvsd?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('priority drops by the weight when the process exits and recovers when it returns; weight 0 is FAULT', async () => {
    const capture = path.join(dir, 'capture.txt');
    writeFileSync(path.join(dir, 'reader.sh'), `#!/bin/sh\nexec /bin/cat "$1" > ${capture}\n`);
    chmodSync(path.join(dir, 'reader.sh'), 0o755);
    const base = keepalivedConf({
      routerId: 'r73', vrid: 73, priority: 150, advertInt: 1, vips: ['10.97.1.73/24'],
      extra: ['track_process {', '  weighted', '  vital', '}'],
    });
    const conf = base
      .replace('global_defs {', `global_defs {\n  notify_fifo ${path.join(dir, 'notify.fifo')}\n  notify_fifo_script ${path.join(dir, 'reader.sh')}`)
      .replace(
        'vrrp_instance',
        `vrrp_track_process weighted {\n  process ${argv0}\n  full_command\n  weight -20\n}\n` +
          'vrrp_track_process vital {\n  process sleep 1001.5\n  param_match exact\n  weight 0\n}\nvrrp_instance',
      );
    writeFileSync(path.join(dir, 'ka.conf'), conf);
    let weighted = startWeighted();
    let vital = startVital();

    const tcpdump = spawn('ip', ['netns', 'exec', a.ns, 'tcpdump', '-i', 'eth0', '-nn', '-l', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let dump = '';
    let listening = false;
    tcpdump.stdout.on('data', (d: Buffer) => (dump += d.toString()));
    tcpdump.stderr.on('data', (d: Buffer) => (listening ||= d.toString().includes('listening')));
    const lines = (): string[] => (existsSync(capture) ? readFileSync(capture, 'utf8').split('\n').filter(Boolean) : []);
    const advertised = (prio: number, from: number): boolean => dump.slice(from).split('\n').some((l) => l.includes(`vrid 73, prio ${prio},`));
    try {
      expect(await waitFor(() => listening, { timeoutMs: 10_000 })).toBe(true);
      tslvsd = startTslvsd(a.ns, path.join(dir, 'ka.conf'));
      expect(await waitFor(() => lines().includes('INSTANCE "VI_1" MASTER 150'), { timeoutMs: BOOT_MS })).toBe(true);

      let from = dump.length;
      await stop(weighted);
      const gone = Date.now();
      expect(await waitFor(() => advertised(130, from), { timeoutMs: 10_000 })).toBe(true);
      console.log(`weighted process exit seen on the wire after ${Date.now() - gone} ms (poll period 1000 ms)`);
      from = dump.length;
      weighted = startWeighted();
      expect(await waitFor(() => advertised(150, from), { timeoutMs: 10_000 })).toBe(true);

      await stop(vital);
      expect(await waitFor(() => lines().includes('INSTANCE "VI_1" FAULT 150'), { timeoutMs: 10_000 })).toBe(true);
      vital = startVital();
      expect(await waitFor(() => lines().filter((l) => l === 'INSTANCE "VI_1" MASTER 150').length === 2, { timeoutMs: 15_000 })).toBe(true);
      console.log(`FIFO lines:\n${lines().join('\n')}`);
    } finally {
      tcpdump.kill();
    }
    await tslvsd.stop();
  }, 90_000);

  it('keepalived 2.2.7 in a namespace: the proc connector is refused and the instance stays in FAULT', async () => {
    const conf = keepalivedConf({ routerId: 'r74', vrid: 74, priority: 150, advertInt: 1, vips: ['10.97.1.74/24'], extra: ['track_process {', '  vital', '}'] })
      .replace('vrrp_instance', 'vrrp_track_process vital {\n  process sleep 1001.5\n  weight 0\n}\nvrrp_instance');
    const confPath = path.join(dir, 'k.conf');
    writeFileSync(confPath, conf);
    const vital = startVital();
    const ka = spawn('ip', ['netns', 'exec', b.ns, '/usr/sbin/keepalived', '-n', '-l', '-D', '--vrrp', '-f', confPath,
      '-p', path.join(dir, 'k.pid'), '-r', path.join(dir, 'k.vrrp.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    ka.stdout.on('data', (d: Buffer) => (log += d.toString()));
    ka.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      expect(await waitFor(() => log.includes('Startup complete') || log.includes('entering FAULT'), { timeoutMs: BOOT_MS })).toBe(true);
      expect(await waitFor(() => log.includes('quorum not achieved'), { timeoutMs: 10_000 })).toBe(true);
      expect(log).toContain('Failed to set/clear process event listen');
      expect(log).not.toContain('Entering MASTER');
    } finally {
      const exited = new Promise((r) => ka.once('exit', r));
      ka.kill('SIGTERM');
      await exited;
      await stop(vital);
    }
  }, 60_000);
});
