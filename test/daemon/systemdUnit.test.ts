import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCliOptions } from '../../src/cliOptions.js';

const unitPath = new URL('../../systemd/tslvsd.service', import.meta.url).pathname;
const binPath = new URL('../../bin/tslvsd.js', import.meta.url).pathname;
const unitText = readFileSync(unitPath, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'td-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exposure(path: string): number {
  const result = spawnSync('systemd-analyze', ['security', '--offline=true', path], { encoding: 'utf8' });
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.stdout + result.stderr);
  if (!match) throw new Error(`no exposure level in: ${result.stdout}${result.stderr}`);
  return Number(match[1]);
}

describe('systemd/tslvsd.service', () => {
  it('systemd-analyze verify passes (ExecStart pointed at this checkout, since /usr/bin/tslvsd is not installed here)', () => {
    const copy = join(dir, 'tslvsd.service');
    writeFileSync(copy, unitText.replaceAll('/usr/bin/tslvsd', binPath));
    const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('systemd-analyze verify does fail on a broken unit (the check can fail)', () => {
    const copy = join(dir, 'broken.service');
    writeFileSync(copy, unitText.replaceAll('/usr/bin/tslvsd', binPath).replace('Type=notify', 'Type=bogus'));
    const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    // verify exits 0 on a bad value but complains on stderr: the passing test above demands an empty stderr.
    expect(result.stderr).toMatch(/Failed to parse service type/);
  });

  it('scores 3.0 or lower in systemd-analyze security --offline', () => {
    const score = exposure(unitPath);
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(3.0);
  });

  it('an unhardened unit scores far worse (the score is real)', () => {
    const plain = join(dir, 'plain.service');
    writeFileSync(plain, `[Service]\nType=notify\nExecStart=${binPath}\n`);
    expect(exposure(plain)).toBeGreaterThan(9);
  });

  it('declares the contract: notify, HUP reload, restart, watchdog, capabilities, no W^X (V8 JIT)', () => {
    const settings = unitText.split('\n').filter((l) => !l.startsWith('#'));
    for (const line of [
      'Type=notify',
      'EnvironmentFile=-/etc/default/tslvsd',
      'ExecStartPre=/usr/bin/tslvsd --config-test $DAEMON_ARGS',
      'ExecStart=/usr/bin/tslvsd --pid-file /run/tslvsd/tslvsd.pid $DAEMON_ARGS',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'WatchdogSec=10s',
      'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW',
      'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW',
      'ProtectSystem=strict',
      'PrivateTmp=yes',
      'ProtectHome=yes',
      'NoNewPrivileges=yes',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET',
      'LockPersonality=yes',
    ]) {
      expect(settings).toContain(line);
    }
    expect(settings.some((l) => l.startsWith('MemoryDenyWriteExecute'))).toBe(false);
  });
});

describe('systemd/tslvsd-withdraw-routes.service (OnFailure=: announce_route\'s routes withdrawn)', () => {
  const withdrawPath = new URL('../../systemd/tslvsd-withdraw-routes.service', import.meta.url).pathname;
  const withdrawText = readFileSync(withdrawPath, 'utf8');

  it('is what tslvsd.service runs when it fails for good, and systemd-analyze verify passes on both', () => {
    expect(unitText.split('\n')).toContain('OnFailure=tslvsd-withdraw-routes.service');
    const copy = join(dir, 'tslvsd.service');
    writeFileSync(copy, unitText.replaceAll('/usr/bin/tslvsd', binPath));
    writeFileSync(join(dir, 'tslvsd-withdraw-routes.service'), withdrawText);
    const result = spawnSync('systemd-analyze', ['verify', copy, join(dir, 'tslvsd-withdraw-routes.service')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('flushes proto 249 of table 248 for both families with argv (no shell), hardened (≤ 3.0)', () => {
    const exec = withdrawText.split('\n').filter((l) => l.startsWith('ExecStart='));
    expect(exec).toEqual(['ExecStart=/sbin/ip -4 route flush table 248 proto 249', 'ExecStart=/sbin/ip -6 route flush table 248 proto 249']);
    expect(exposure(withdrawPath)).toBeLessThanOrEqual(3.0);
  });
});

describe('etc/default/tslvsd (DAEMON_ARGS, as /etc/default/keepalived)', () => {
  const defaults = readFileSync(new URL('../../etc/default/tslvsd', import.meta.url).pathname, 'utf8');
  const execStart = /^ExecStart=\/usr\/bin\/tslvsd (.*) \$DAEMON_ARGS$/m.exec(unitText)![1]!.split(' ');
  const execStartPre = /^ExecStartPre=\/usr\/bin\/tslvsd (.*) \$DAEMON_ARGS$/m.exec(unitText)![1]!.split(' ');
  /** Every DAEMON_ARGS="…" in the file, the commented examples included (systemd splits on spaces). */
  const examples = [...defaults.matchAll(/^#?\s*DAEMON_ARGS="([^"]*)"$/gm)].map((m) => m[1]!.split(' ').filter((w) => w !== ''));

  it('sets DAEMON_ARGS empty by default and shows examples', () => {
    expect(defaults).toMatch(/^DAEMON_ARGS=""$/m);
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  it("every example is a command line the unit's ExecStart and ExecStartPre accept", () => {
    for (const args of examples) {
      const run = parseCliOptions([...execStart, ...args]);
      expect(run.ok, `${args.join(' ')}: ${run.ok ? '' : run.message}`).toBe(true);
      expect(run.ok && run.options.command).toBe('run');
      const check = parseCliOptions([...execStartPre, ...args]);
      expect(check.ok && check.options.command, args.join(' ')).toBe('config-test');
    }
  });

  it("a keepalived DAEMON_ARGS names its file and pid file over the unit's defaults", () => {
    const r = parseCliOptions([...execStart, '-D', '-f', '/etc/keepalived/keepalived.conf', '-p', '/run/tslvsd/keepalived.pid']);
    expect(r.ok && r.options).toMatchObject({ configFile: '/etc/keepalived/keepalived.conf', pidFile: '/run/tslvsd/keepalived.pid' });
  });
});
