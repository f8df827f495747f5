// tslvsd-vm-expected: 125
/**
 * The Debian package, installed for real: `npm run package:deb`'s script builds the .deb from this checkout;
 * the VM's root (the host's, read-only) gets a writable overlay (tmpfs upper dir) that the test chroots into;
 * there `dpkg -i` installs it, the unit's ExecStartPre and ExecStart run as systemd would run them (the
 * command lines read from the installed unit, /run/tslvsd made as RuntimeDirectory= makes it, systemd's
 * PATH), in a network namespace with the example config's eth0 and one real server that answers, judged by
 * `tslvsd status`, ipvsadm and a SIGHUP's reload (the compile child); then `dpkg --purge`, after which the
 * overlay's upper dir — every file anything wrote — may hold only dpkg's and man-db's own bookkeeping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasIpvs } from './helpers/kernel.js';

const WORK = '/tmp/tv-pkg';
const UPPER = `${WORK}/upper`;
const OVERLAY_WORK = `${WORK}/work`;
const ROOT = `${WORK}/root`;
const OUT = `${WORK}/out`;
const NS = 'tv-pkg';
/** systemd's PATH for services (no /usr/local first would change nothing here: nothing is there). */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, env });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(file: string, args: readonly string[], timeoutMs?: number): string {
  const r = run(file, args, timeoutMs);
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A command inside the installed system (chroot), with a service's environment. */
function inRoot(args: readonly string[], timeoutMs?: number): Run {
  return run('chroot', [ROOT, ...args], timeoutMs, { PATH: SYSTEMD_PATH, LANG: 'C.UTF-8' });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(500);
  }
  return check();
}

/** Every path under `dir`, relative, directories included. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    out.push(rel);
    const stat = lstatSync(path.join(dir, name));
    if (stat.isDirectory()) out.push(...walk(path.join(dir, name), rel));
  }
  return out;
}

/**
 * systemd's word splitting of one Exec line, enough for this unit: words separated by blanks, `$NAME` replaced
 * by the variable's words, `${NAME}` by its value as one word (systemd.service(5) "Command lines").
 */
function execWords(line: string, env: ReadonlyMap<string, string>): string[] {
  const words: string[] = [];
  for (const word of line.trim().split(/\s+/)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(word);
    if (whole) words.push(...(env.get(whole[1]!) ?? '').split(/\s+/).filter((w) => w !== ''));
    else if (braced) words.push(env.get(braced[1]!) ?? '');
    else words.push(word);
  }
  return words;
}

/** The unit's Exec lines and environment (EnvironmentFile= read from the installed root). */
function readUnit(): { execStartPre: string[]; execStart: string[]; runtimeDirectory: string | undefined } {
  const text = readFileSync(path.join(ROOT, 'lib/systemd/system/tslvsd.service'), 'utf8');
  const values = (key: string): string[] =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1));
  const env = new Map<string, string>();
  for (const entry of values('EnvironmentFile')) {
    const file = path.join(ROOT, entry.replace(/^-/, ''));
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(?:"(.*)"|'(.*)'|(.*))$/.exec(line.trim());
      if (m) env.set(m[1]!, m[2] ?? m[3] ?? m[4] ?? '');
    }
  }
  const pre = values('ExecStartPre');
  const start = values('ExecStart');
  expect(start).toHaveLength(1);
  return {
    execStartPre: pre.length > 0 ? execWords(pre[0]!, env) : [],
    execStart: execWords(start[0]!, env),
    runtimeDirectory: values('RuntimeDirectory')[0],
  };
}

/**
 * Whether the upper dir's entry is only a copy-up of the lower root's: a directory that is a directory
 * there too, or a link with the same target (overlayfs copies parents up when something inside is written).
 */
function copiedUp(rel: string): boolean {
  const upper = lstatSync(path.join(UPPER, rel));
  const lowerPath = `/${rel}`;
  if (!existsSync(lowerPath)) return false;
  const lower = lstatSync(lowerPath);
  if (upper.isDirectory()) return lower.isDirectory();
  if (upper.isSymbolicLink()) return lower.isSymbolicLink() && readlinkSync(lowerPath) === readlinkSync(path.join(UPPER, rel));
  return false;
}

/** Files dpkg (its database, its log) and the man-db trigger may leave changed after a purge. */
const BOOKKEEPING = [/^var\/lib\/dpkg\//, /^var\/log\/dpkg\.log$/, /^var\/log\/alternatives\.log$/, /^var\/cache\/man\//, /^var\/cache\/debconf\//];

describe.skipIf(!hasIpvs)('the Debian package, installed, run and purged in an overlay of the root', () => {
  let deb = '';
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  const mounted: string[] = [];

  beforeAll(() => {
    spawnSync('rm', ['-rf', WORK]);
    for (const dir of [UPPER, OVERLAY_WORK, ROOT, OUT]) mkdirSync(dir, { recursive: true });
    const built = must('bash', ['scripts/package-deb.sh', '--outdir', OUT], 400_000).trim().split('\n');
    deb = built[built.length - 1] ?? '';
    expect(path.basename(deb)).toMatch(/^tslvsd_\d+\.\d+\.\d+-\d+_amd64\.deb$/);

    spawnSync('modprobe', ['-d', process.env.TSLVSD_VM_MODULES_ROOT ?? '/', 'overlay']);
    must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/,upperdir=${UPPER},workdir=${OVERLAY_WORK}`, ROOT]);
    mounted.push(ROOT);
    for (const [args, at] of [
      [['-t', 'proc', 'proc'], 'proc'],
      [['--bind', '/dev'], 'dev'],
      [['-t', 'tmpfs', 'tmpfs'], 'run'],
      [['-t', 'tmpfs', 'tmpfs'], 'tmp'],
    ] as const) {
      must('mount', [...args, path.join(ROOT, at)]);
      mounted.push(path.join(ROOT, at));
    }
    must('cp', [deb, path.join(ROOT, 'tmp')]);

    // The example config's network: eth0 with the director's address, one real server (.11) that answers on :80.
    spawnSync('ip', ['netns', 'del', NS]);
    must('ip', ['netns', 'add', NS]);
    const inNs = (...args: string[]): string => must('ip', ['netns', 'exec', NS, ...args]);
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    inNs('ip', 'link', 'set', 'eth0', 'up');
    inNs('ip', 'link', 'set', 'eth0p', 'up');
    inNs('ip', 'addr', 'add', '192.168.10.2/24', 'dev', 'eth0');
    inNs('ip', 'addr', 'add', '192.168.10.11/32', 'dev', 'lo');
  }, 600_000);

  afterAll(() => {
    if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
    spawnSync('ip', ['netns', 'pids', NS]);
    spawnSync('ip', ['netns', 'del', NS]);
    for (const at of mounted.reverse()) spawnSync('umount', ['-l', at]);
    spawnSync('rm', ['-rf', WORK]);
  });

  it('installs with dpkg -i: files in place, the unit not enabled, the CLI works from /usr/bin', () => {
    expect(walk(UPPER)).toEqual([]);
    const installed = inRoot(['dpkg', '-i', `/tmp/${path.basename(deb)}`], 300_000);
    expect(installed.status, installed.stdout + installed.stderr).toBe(0);
    expect(inRoot(['dpkg-query', '-W', '-f=${Status}', 'tslvsd']).stdout).toBe('install ok installed');
    for (const file of ['usr/lib/tslvsd/tslvsd.mjs', 'etc/tslvsd.conf', 'etc/default/tslvsd', 'lib/systemd/system/tslvsd.service']) {
      expect(existsSync(path.join(ROOT, file)), file).toBe(true);
    }
    // Installed disabled: the example config would claim 192.168.10.100 on eth0.
    expect(existsSync(path.join(ROOT, 'etc/systemd/system/multi-user.target.wants/tslvsd.service'))).toBe(false);
    const version = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(inRoot(['tslvsd', '--version']).stdout.trim()).toBe(`tslvsd ${version.version}`);
    const test = inRoot(['tslvsd', '-t']);
    expect(test.status, test.stderr).toBe(0);
    expect(test.stderr).toContain('/etc/tslvsd.conf: configuration valid');
    expect(inRoot(['man', '-w', 'tslvsd.conf']).stdout.trim()).toBe('/usr/share/man/man5/tslvsd.conf.5.gz');
  });

  it("runs the unit's ExecStartPre and ExecStart: VRRP master, IPVS table from the health checks, status, reload", async () => {
    const unit = readUnit();
    expect(unit.execStart[0]).toBe('/usr/bin/tslvsd');
    if (unit.execStartPre.length > 0) {
      const pre = run('ip', ['netns', 'exec', NS, 'chroot', ROOT, ...unit.execStartPre], 120_000, { PATH: SYSTEMD_PATH });
      expect(pre.status, pre.stderr).toBe(0);
    }
    if (unit.runtimeDirectory) mkdirSync(path.join(ROOT, 'run', unit.runtimeDirectory), { recursive: true, mode: 0o750 });
    daemon = spawn('ip', ['netns', 'exec', NS, 'chroot', ROOT, ...unit.execStart], {
      env: { PATH: SYSTEMD_PATH, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));

    const status = (): Run => inRoot(['tslvsd', 'status'], 60_000);
    const up = await until(() => daemon!.exitCode === null && /VI_WEB\s+eth0\s+51\s+MASTER/.test(status().stdout), 180_000);
    expect(up, daemonLog.slice(-3000)).toBe(true);
    expect(existsSync(path.join(ROOT, 'run/tslvsd/tslvsd.pid'))).toBe(true);
    expect(must('ip', ['netns', 'exec', NS, 'ip', '-br', 'addr', 'show', 'eth0'])).toContain('192.168.10.100/24');

    // The checks (TCP_CHECKs: on the main thread, the loop in a chunk of the bundle) keep .11, which
    // answers, and take out .12, which does not.
    const server = "require('node:net').createServer((s) => s.end()).listen(80, '192.168.10.11')";
    const listener = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', server], { stdio: 'ignore' });
    try {
      const table = (): string => must('ip', ['netns', 'exec', NS, 'ipvsadm', '-Ln']);
      const settled = await until(() => {
        const t = table();
        return t.includes('192.168.10.100:80 wrr') && t.includes('192.168.10.11:80') && !t.includes('192.168.10.12:80');
      }, 180_000);
      expect(settled, `${table()}\n${daemonLog.slice(-3000)}`).toBe(true);

      // SIGHUP: the compile child (compileChild.mjs) compiles the unchanged file.
      daemon.kill('SIGHUP');
      expect(await until(() => daemonLog.includes('reload: configuration unchanged'), 120_000), daemonLog.slice(-3000)).toBe(true);
      const json = inRoot(['tslvsd', 'status', '--json'], 60_000);
      expect(json.status, json.stderr).toBe(0);
      expect(json.stdout).toContain('VI_WEB');
    } finally {
      listener.kill('SIGKILL');
    }

    const exited = new Promise<number | null>((resolve) => daemon!.once('exit', (code) => resolve(code)));
    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(must('ip', ['netns', 'exec', NS, 'ipvsadm', '-Ln'])).not.toContain('192.168.10.100:80');
  });

  it('purges with dpkg --purge and leaves nothing behind', () => {
    const files = must('dpkg-deb', ['-c', deb])
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (l.split(/\s+/)[5] ?? '').replace(/^\.\//, '').replace(/\/$/, ''))
      .filter((p) => p !== '');
    const purged = inRoot(['dpkg', '--purge', 'tslvsd'], 300_000);
    expect(purged.status, purged.stdout + purged.stderr).toBe(0);
    expect(inRoot(['dpkg-query', '-W', 'tslvsd']).status).not.toBe(0);
    // What the package shipped is gone (directories the host root has anyway stay, or links to them: /lib
    // on a merged /usr).
    const left = files.filter((p) => existsSync(path.join(ROOT, p)) && !(existsSync(`/${p}`) && statSync(`/${p}`).isDirectory()));
    expect(left).toEqual([]);
    expect(existsSync(path.join(ROOT, 'run/tslvsd'))).toBe(false);
    // Everything written anywhere is in the upper dir: only dpkg's and man-db's bookkeeping may remain, and
    // directories the lower root has (copied up when something inside was written).
    const leftovers = walk(UPPER).filter((rel) => {
      if (BOOKKEEPING.some((re) => re.test(rel))) return false;
      return !copiedUp(rel);
    });
    expect(leftovers).toEqual([]);
    expect(walk(UPPER).filter((rel) => /^var\/lib\/dpkg\/info\/tslvsd\./.test(rel))).toEqual([]);
  });
});
