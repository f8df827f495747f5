import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_MS, TslvsdProcess } from './helpers/daemons.js';
import { isRoot, tsxArgv, waitFor } from './helpers/exec.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';
import { createVethLab, destroyLab, hasAddress, labPrefix, type LabHost } from './helpers/netns.js';

/**
 * keepalived's command line starting tslvsd (issue 13): the arguments Debian's unit passes through
 * /etc/default's DAEMON_ARGS (`-n -l -D -f FILE -p PIDFILE`) start tslvsd, which becomes MASTER and holds
 * the VIP; a second start with the same pid file is refused with keepalived's sentence and exit 1 while
 * the first runs; after kill -9 the stale pid file does not block the restart. keepalived 2.2.7 is refused
 * by the same lock (the same F_OFD_SETLK it takes itself). The restart adds --log-file=FILE.
 */
const PREFIX = labPrefix('kc');
const VIP = '10.93.0.200';
const ENTRY = path.resolve('test/ns/helpers/tslvsdEntry.ts');

describe.skipIf(!isRoot)("keepalived's command line", () => {
  let a: LabHost;
  let dir: string;
  let conf: string;
  let pidFile: string;
  const started: TslvsdProcess[] = [];

  /** tslvsd with exactly these arguments (no --config added), as a unit's ExecStart=tslvsd $DAEMON_ARGS. */
  function tslvsd(args: string[]): TslvsdProcess {
    const [node, ...rest] = tsxArgv(ENTRY, args);
    const child = spawn('ip', ['netns', 'exec', a.ns, node!, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new TslvsdProcess(a.ns, child);
    started.push(p);
    return p;
  }
  const debianArgs = (): string[] => ['-n', '-l', '-D', '-f', conf, '-p', pidFile];

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a] = await createVethLab(PREFIX, 'a', 'b', '10.93.0.1/24', '10.93.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-kc-'));
    conf = path.join(dir, 'keepalived.conf');
    pidFile = path.join(dir, 'run', 'keepalived.pid');
    writeFileSync(conf, keepalivedConf({ routerId: 'kc', priority: 150, state: 'MASTER', vips: [`${VIP}/24`] }));
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.crash()));
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('-n -l -D -f FILE -p PIDFILE: MASTER with the VIP; a second start is refused; kill -9 then restart works', async () => {
    const first = tslvsd(debianArgs());
    expect(await first.waitForState('MASTER', BOOT_MS), first.stderr).toBe(true);
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(true);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${first.pid}\n`);
    // The three keepalived flags with nothing to do here, each said once.
    expect(first.lines.filter((l) => l.event === 'cli_option').map((l) => l.msg)).toEqual([
      expect.stringMatching(/^-n\/--dont-fork: nothing to do/),
      expect.stringMatching(/^-l\/--log-console: nothing to do/),
      expect.stringMatching(/^-D\/--log-detail: nothing to do/),
    ]);

    // A second daemon, same pid file: one sentence, exit 1, the first untouched.
    const second = tslvsd(debianArgs());
    expect(await waitFor(() => !second.running, { timeoutMs: BOOT_MS })).toBe(true);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(`tslvsd: daemon is already running (--pid-file ${pidFile} is locked by pid ${first.pid})`);
    expect(first.running).toBe(true);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${first.pid}\n`);
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(true);

    // keepalived 2.2.7 takes the same kind of lock, so it is refused by tslvsd's too.
    const ka = spawnSync('ip', ['netns', 'exec', a.ns, 'keepalived', '-n', '-l', '--vrrp', '-f', conf, '-p', pidFile, '-r', path.join(dir, 'ka-vrrp.pid')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(`${ka.stdout}${ka.stderr}`).toMatch(/daemon is already running/);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${first.pid}\n`);

    // kill -9: the file stays behind with a dead pid, and does not block the restart.
    await first.crash();
    expect(readFileSync(pidFile, 'utf8')).toBe(`${first.pid}\n`);
    // With keepalived's --log-file=FILE too (an optional value: attached, as getopt reads it): every log line also there.
    const logFile = path.join(dir, 'tslvsd.log');
    const restarted = tslvsd([...debianArgs(), `--log-file=${logFile}`]);
    expect(await restarted.waitForState('MASTER', BOOT_MS), restarted.stderr).toBe(true);
    // Polled: the test reads the daemon's stdout through a pipe, the file is read from here.
    const masterInFile = (): boolean => /"event":"transition".*"to":"MASTER"/.test(readFileSync(logFile, 'utf8'));
    expect(await waitFor(masterInFile, { timeoutMs: 5_000 }), readFileSync(logFile, 'utf8')).toBe(true);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${restarted.pid}\n`);
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(true);
    expect(await restarted.stop()).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });
});
