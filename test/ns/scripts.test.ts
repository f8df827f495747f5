import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, runCommand, tsxArgv, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost, labPrefix, RUN_TAG } from './helpers/netns.js';
import { BOOT_MS, startTslvsd } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

/**
 * Scripts as hostile input (issue 17): a notify script that never ends must not hold the stop, nothing a
 * script started survives `kill -9` of the daemon, track scripts with large output / reading stdin /
 * leaving a child on stdout succeed (stdio on /dev/null, as keepalived), and the script-security and
 * script-user cases are refused where keepalived 2.2.7 refuses them — judged by the real keepalived on the
 * same files.
 */
const PREFIX = labPrefix('sc');
const VIP = '10.97.0.200';
const CLI = path.resolve('test/ns/helpers/tslvsdEntry.ts');
/** In every script's argv (sleep's fractional seconds), so the process table shows what is ours. */
const MARKER = `600.${parseInt(RUN_TAG, 36)}${process.pid % 1000}`;

/** pids whose command line contains `needle`. */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) out.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return out;
}

function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    const [ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(1, 3);
    return `${pid} (ppid ${ppid}, pgid ${pgid}): ${cmdline}`;
  } catch {
    return `${pid} (gone)`;
  }
}

describe.skipIf(!isRoot)('scripts: bounded stop, nothing left after kill -9, stdio, security', () => {
  let a: LabHost;
  let dir: string;

  const script = (name: string, body: string, mode = 0o755, where = dir): string => {
    const file = path.join(where, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, mode);
    return file;
  };

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a] = await createVethLab(PREFIX, 'a', 'b', '10.97.0.1/24', '10.97.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-sc-'));
    chmodSync(dir, 0o755); // scripts run as nobody must reach their files
  });

  afterAll(async () => {
    for (const pid of processesWith(MARKER)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function masterConf(name: string, notifyMaster: string): string {
    const conf = path.join(dir, `${name}.conf`);
    writeFileSync(conf, keepalivedConf({ routerId: name, priority: 150, vips: [`${VIP}/24`], extra: [`notify_master "${notifyMaster}"`] }));
    return conf;
  }

  it('SIGTERM ends the daemon within 6 s while a `sleep 600` notify_master runs, and leaves none of it', async () => {
    const hang = script(`master-hang-${MARKER}.sh`, `sleep ${MARKER}`);
    const daemon = startTslvsd(a.ns, masterConf('stop', hang));
    try {
      expect(await daemon.waitForState('MASTER', BOOT_MS)).toBe(true);
      expect(await waitFor(() => processesWith(MARKER).length >= 2, { timeoutMs: 10_000 })).toBe(true); // sh + sleep
      const t0 = performance.now();
      const code = await daemon.stop(20_000);
      const took = performance.now() - t0;
      console.log(`stop with a sleep-600 notify_master: ${Math.round(took)} ms`);
      expect(code).toBe(0);
      expect(took).toBeLessThan(6_000);
      expect(await waitFor(() => processesWith(MARKER).length === 0, { timeoutMs: 2_000 })).toBe(true);
    } finally {
      await daemon.crash();
    }
  });

  it('kill -9 of the daemon leaves no notify script nor what it started (3 kills)', async () => {
    const hang = script(`master-hang9-${MARKER}.sh`, `sleep ${MARKER} &\nwait`);
    const conf = masterConf('kill9', hang);
    for (let round = 0; round < 3; round++) {
      const daemon = startTslvsd(a.ns, conf);
      try {
        expect(await daemon.waitForState('MASTER', BOOT_MS)).toBe(true);
        expect(await waitFor(() => processesWith(MARKER).length >= 2, { timeoutMs: 10_000 })).toBe(true);
        await daemon.crash();
        // The shell dies with the daemon (pdeathsig); the sleep it started when the reaper sees its pipe
        // close (slow here, where the reaper first loads through tsx).
        const gone = await waitFor(() => processesWith(MARKER).length === 0, { timeoutMs: 20_000 });
        expect(gone, `round ${round}: left ${processesWith(MARKER).map(describeProcess).join('; ')}`).toBe(true);
      } finally {
        await daemon.crash();
      }
    }
  });

  it('track scripts with 10 MB of stdout, reading stdin, leaving a child on stdout, and a numeric user all succeed', async () => {
    const out = path.join(dir, 'out');
    mkdirSync(out, { mode: 0o777 });
    chmodSync(out, 0o777);
    const ids = path.join(out, 'ids');
    const scripts = {
      chk_big: script('big.sh', 'head -c 10000000 /dev/zero\nexit 0'),
      chk_stdin: script('stdin.sh', 'cat > /dev/null\nexit 0'),
      chk_child: script('child.sh', `sleep ${MARKER} &\nexit 0`),
      chk_numeric: script('numeric.sh', `echo "$(id -u) $(id -g)" > ${ids}\nexit 0`),
    };
    const conf = path.join(dir, 'track.conf');
    const lines = ['global_defs {', '  router_id track', '}'];
    for (const [name, file] of Object.entries(scripts)) {
      lines.push(`vrrp_script ${name} {`, `  script "${file}"`, '  interval 2', '  timeout 3', '  weight 0');
      if (name === 'chk_numeric') lines.push('  user 65534');
      lines.push('}');
    }
    lines.push(
      'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  virtual_router_id 52', '  priority 150', '  advert_int 1',
      '  virtual_ipaddress {', `    ${VIP}/24`, '  }', '  track_script {', ...Object.keys(scripts).map((n) => `    ${n}`), '  }', '}', '',
    );
    writeFileSync(conf, lines.join('\n'));
    const daemon = startTslvsd(a.ns, conf);
    try {
      // weight 0: any failing script would hold the instance in FAULT.
      expect(await daemon.waitForState('MASTER', BOOT_MS)).toBe(true);
      const results = daemon.lines.filter((l) => l.event === 'track_script_result');
      for (const name of Object.keys(scripts)) expect(results.find((l) => l.script === name), name).toMatchObject({ ok: true });
      expect(results.filter((l) => l.ok === false)).toEqual([]);
      expect(readFileSync(ids, 'utf8').trim()).toBe('65534 65534'); // its own group, not gid 0
      // What chk_child left holding its stdout went with it.
      expect(await waitFor(() => processesWith(MARKER).length === 0, { timeoutMs: 3_000 })).toBe(true);
    } finally {
      await daemon.stop();
    }
  });

  describe('script security and users: tslvsd -t against keepalived 2.2.7 on the same files', () => {
    let secure: string;
    let open: string;
    let ok: string;
    let w777: string;
    let inOpen: string;

    beforeAll(() => {
      secure = path.join(dir, 'secure');
      open = path.join(dir, 'open');
      mkdirSync(secure, { mode: 0o755 });
      mkdirSync(open);
      chmodSync(open, 0o777);
      ok = script('ok.sh', 'exit 0', 0o755, secure);
      w777 = script('w777.sh', 'exit 0', 0o777, secure);
      inOpen = script('in-open.sh', 'exit 0', 0o755, open);
    });

    const vrrpConf = (name: string, globals: string[], scriptFile: string, user?: string): string => {
      const conf = path.join(dir, `${name}.conf`);
      writeFileSync(conf, [
        'global_defs {', '  router_id t', ...globals.map((g) => `  ${g}`), '}',
        'vrrp_script chk {', `  script "${scriptFile}"`, '  interval 1', ...(user ? [`  user ${user}`] : []), '}',
        'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  virtual_router_id 53', '  priority 100', '  advert_int 1',
        '  virtual_ipaddress {', `    ${VIP}`, '  }', '  track_script {', '    chk', '  }', '}', '',
      ].join('\n'));
      return conf;
    };
    const miscConf = (name: string, globals: string[], scriptFile: string, user?: string): string => {
      const conf = path.join(dir, `${name}.conf`);
      writeFileSync(conf, [
        'global_defs {', '  router_id t', ...globals.map((g) => `  ${g}`), '}',
        `virtual_server ${VIP} 80 {`, '  delay_loop 5', '  lb_algo rr', '  lb_kind DR', '  protocol TCP',
        '  real_server 10.97.0.2 80 {', '    MISC_CHECK {', `      misc_path "${scriptFile}"`, ...(user ? [`      user ${user}`] : []), '    }', '  }', '}', '',
      ].join('\n'));
      return conf;
    };

    const tslvsdTest = async (conf: string) => {
      const [node, ...args] = tsxArgv(CLI, ['-t', '-f', conf]);
      return await runCommand(node!, args, 60_000);
    };
    const keepalivedTest = async (conf: string) => await runCommand('ip', ['netns', 'exec', a.ns, 'keepalived', '-t', '-l', '-D', '-f', conf], 30_000);
    /** keepalived's checker logs MISC_CHECK security decisions only when it runs (before it needs IPVS). */
    const keepalivedCheckerLog = async (conf: string) => {
      const pidDir = mkdtempSync(path.join(tmpdir(), 'tv-sc-ka-'));
      try {
        const r = await runCommand('ip', ['netns', 'exec', a.ns, 'keepalived', '-n', '-l', '-D', '--check', '-f', conf, '-p', path.join(pidDir, 'k.pid'), '-c', path.join(pidDir, 'c.pid')], 4_000);
        return r.stdout + r.stderr;
      } finally {
        rmSync(pidDir, { recursive: true, force: true });
      }
    };

    const root = ['enable_script_security', 'script_user root'];
    const cases: { name: string; conf: () => string; keepalived: RegExp; tslvsd: RegExp; misc?: boolean }[] = [
      { name: 'a 0777 script run as root', conf: () => vrrpConf('sec-777', root, w777), keepalived: /Disabling track script chk due to insecure/, tslvsd: /:7: error: vrrp_script chk: unsafe .*w777\.sh is writable by everyone/ },
      { name: 'a script in a 0777 directory', conf: () => vrrpConf('sec-dir', root, inOpen), keepalived: /Disabling track script chk due to insecure/, tslvsd: /:7: error: vrrp_script chk: unsafe .*open is writable by everyone/ },
      { name: 'an unknown vrrp_script user', conf: () => vrrpConf('user-vrrp', [], ok, 'tv-no-such-user'), keepalived: /Unable to set uid\/gid for script/, tslvsd: /:5: error: vrrp_script chk: user 'tv-no-such-user' does not exist/ },
      { name: 'an unknown MISC_CHECK user', conf: () => miscConf('user-misc', [], ok, 'tv-no-such-user'), keepalived: /Failed to set uid\/gid for misc checker script/, tslvsd: /:11: error: MISC_CHECK misc_path: user 'tv-no-such-user' does not exist/, misc: true },
      { name: 'a 0777 MISC_CHECK script run as root', conf: () => miscConf('sec-misc', root, w777), keepalived: /Disabling misc script .*w777\.sh.* due to insecure/, tslvsd: /:13: error: MISC_CHECK misc_path: unsafe .*w777\.sh is writable by everyone/, misc: true },
      { name: 'enable_script_security with no script user at all', conf: () => vrrpConf('sec-nouser', ['enable_script_security'], ok), keepalived: /Unable to set default user keepalived_script/, tslvsd: /:6: error: vrrp_script chk: enable_script_security is set but neither script_user nor the user 'keepalived_script' exists/ },
    ];

    for (const c of cases) {
      it(`${c.name}: keepalived refuses it, tslvsd -t fails at its line`, async () => {
        const conf = c.conf();
        const ka = await keepalivedTest(conf);
        const kaLog = ka.stdout + ka.stderr + (c.misc ? await keepalivedCheckerLog(conf) : '');
        expect(kaLog, 'keepalived').toMatch(c.keepalived);
        const ts = await tslvsdTest(conf);
        expect(ts.code).toBe(1);
        expect(ts.stderr).toMatch(c.tslvsd);
        expect(ts.stderr).toContain(`${conf}:`);
        expect(ts.stderr).toMatch(/configuration invalid/);
      });
    }

    it('the daemon refuses to start on the same errors (FILE:LINE on stderr, exit 1)', async () => {
      const daemon = startTslvsd(a.ns, miscConf('start-misc', [], ok, 'tv-no-such-user'));
      expect(await waitFor(() => !daemon.running, { timeoutMs: 60_000 })).toBe(true);
      expect(daemon.code).toBe(1);
      expect(daemon.stderr).toMatch(/start-misc\.conf:11: error: MISC_CHECK misc_path: user 'tv-no-such-user' does not exist/);
    });

    it('the secure script as root passes both; a numeric user: keepalived refuses, tslvsd runs it as 65534:65534 and warns', async () => {
      const good = vrrpConf('sec-ok', root, ok);
      expect((await keepalivedTest(good)).code).toBe(0);
      const ts = await tslvsdTest(good);
      expect(ts.code).toBe(0);
      expect(ts.stderr).toMatch(/configuration valid: 0 error\(s\), 0 warning\(s\)/);
      const numeric = vrrpConf('user-numeric', [], ok, '65534');
      const ka = await keepalivedTest(numeric);
      expect(ka.stdout + ka.stderr).toMatch(/Unable to set uid\/gid for script/);
      const tn = await tslvsdTest(numeric);
      expect(tn.code).toBe(0);
      expect(tn.stderr).toMatch(/:5: warning: vrrp_script chk: numeric user '65534' runs as uid 65534 gid 65534/);
      expect(existsSync(numeric)).toBe(true);
    });
  });
});
