/**
 * The CLI contract, run through the real installed entry point `bin/tslvsd.js` (which imports dist/): the
 * suite builds dist/ first when it is missing or older than the sources it exercises.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_LISTEN, parseCliOptions, parseListenAddress } from '../src/cliOptions.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/tslvsd.js');
const example = join(root, 'etc/tslvsd.conf.example');
const work = mkdtempSync(join(tmpdir(), 'tslvsd-cli-'));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  const built = join(root, 'dist/cli.js');
  // The whole of src/: the foreground-run tests reach the daemon's start-up checks too.
  const sources = newestMtime(join(root, 'src'));
  if (!existsSync(built) || statSync(built).mtimeMs < sources) {
    // Other rooms' type errors must not stop the CLI tests: tsc still emits, so only the output matters.
    spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'ignore' });
  }
  expect(existsSync(built)).toBe(true);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function tslvsd(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function configFile(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

describe('tslvsd --version / --help', () => {
  it('runs as an executable through its shebang (env -S node in the memory-saving mode of V8)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(readFileSync(bin, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env -S node --optimize-for-size');
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(`tslvsd ${pkg.version}`);
  });

  it('prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const out = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(`tslvsd ${pkg.version}`);
  });

  it('--help lists the contract and exits 0', () => {
    const r = tslvsd(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--config', '--config-test', '--dump-config', '--strict', '--config-id', '--pid-file', '--metrics-listen', 'status']) {
      expect(r.out).toContain(flag);
    }
  });

  it('an unknown option is a usage error (exit 2)', () => {
    const r = tslvsd(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/frobnicate/);
  });
});

describe('tslvsd --config-test', () => {
  it('accepts the annotated example (exit 0)', () => {
    const r = tslvsd(['--config-test', '--config', example]);
    expect(r.err).toContain('configuration valid: 0 error(s), 0 warning(s)');
    expect(r.code).toBe(0);
  });

  it('exits 1 with located errors; warnings alone still exit 0', () => {
    const bad = configFile('bad.conf', 'vrrp_instance X {\n  interface eth0\n  virtual_router_id 300\n}\n');
    const r = tslvsd(['-t', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}:3:21: error: virtual_router_id: 300 is out of range 1..255`);
    const warn = configFile('warn.conf', 'global_defs {\n  frobnicate\n}\n');
    const w = tslvsd(['-t', '-f', warn]);
    expect(w.code).toBe(0);
    expect(w.err).toContain(`${warn}:2:3: warning: unknown keyword 'frobnicate' in global_defs`);
  });

  it('--strict makes warnings fatal', () => {
    const warn = configFile('warn2.conf', 'global_defs {\n  frobnicate\n}\n');
    const r = tslvsd(['-t', '--strict', '-f', warn]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--strict');
  });

  it('defaults to /etc/tslvsd.conf', () => {
    const r = tslvsd(['-t']);
    if (existsSync('/etc/tslvsd.conf')) expect(r.err).toContain('/etc/tslvsd.conf');
    else expect(r.err).toContain('cannot read /etc/tslvsd.conf');
  });

  it('writes nothing to disk', () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    const r = tslvsd(['-t', '-f', example], cwd);
    expect(r.code).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('tslvsd (foreground run)', () => {
  it('refuses to start on an invalid configuration: exit 1 with located errors, no daemon', () => {
    const bad = configFile('run-bad.conf', 'vrrp_instance X {\n  interface eth0\n  virtual_router_id 0\n}\n');
    const r = tslvsd(['-f', bad, '--metrics-listen', 'off']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}:3:21: error: virtual_router_id: 0 is out of range 1..255`);
    expect(r.err).toContain('configuration invalid');
  });
});

describe('tslvsd --dump-config', () => {
  it('prints the model with the contract names', () => {
    const r = tslvsd(['--dump-config', '-f', example]);
    expect(r.code).toBe(0);
    const model = JSON.parse(r.out);
    expect(Object.keys(model)).toEqual(expect.arrayContaining(['global', 'vrrpInstances', 'vrrpSyncGroups', 'vrrpScripts', 'virtualServers']));
    expect(model.vrrpInstances[0]).toMatchObject({ name: 'VI_WEB', interface: 'eth0', virtualRouterId: 51, priority: 150, advertInt: 1, state: 'MASTER' });
    expect(model.vrrpInstances[0].virtualIpAddresses[0]).toMatchObject({ address: '192.168.10.100', prefixLength: 24 });
    expect(model.virtualServers[0]).toMatchObject({ address: '192.168.10.100', port: 80, protocol: 'TCP', lbAlgo: 'wrr', lbKind: 'DR' });
    expect(model.virtualServers[0].realServers.map((rs: { address: string; port: number; weight: number; checkers: Array<{ type: string }> }) =>
      [rs.address, rs.port, rs.weight, rs.checkers[0].type])).toEqual([['192.168.10.11', 80, 1, 'TCP_CHECK'], ['192.168.10.12', 80, 1, 'TCP_CHECK']]);
  });

  it('includes globs relative to the including file on the real file system', () => {
    const dir = mkdtempSync(join(work, 'inc-'));
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'main.conf'), 'global_defs {\n  router_id MAIN\n}\ninclude conf.d/*.conf\n');
    writeFileSync(join(dir, 'conf.d', '20-b.conf'), 'vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  virtual_ipaddress { 10.0.0.2 }\n}\n');
    writeFileSync(join(dir, 'conf.d', '10-a.conf'), 'vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress { 10.0.0.1 }\n}\n');
    writeFileSync(join(dir, 'conf.d', 'notes.txt'), 'not included {');
    const r = tslvsd(['--dump-config', '-f', 'main.conf'], dir);
    expect(r.err).toBe('');
    const model = JSON.parse(r.out);
    expect(model.vrrpInstances.map((i: { name: string; loc: { file: string } }) => [i.name, i.loc.file])).toEqual([['A', 'conf.d/10-a.conf'], ['B', 'conf.d/20-b.conf']]);
  });

  it('--config-id selects @id lines', () => {
    const f = configFile('ids.conf', 'global_defs {\n@lb1 router_id ONE\n@lb2 router_id TWO\n}\n');
    expect(JSON.parse(tslvsd(['--dump-config', '-f', f, '-i', 'lb2']).out).global.routerId).toBe('TWO');
    expect(JSON.parse(tslvsd(['--dump-config', '-f', f, '--config-id', 'lb1']).out).global.routerId).toBe('ONE');
  });

  it('prints nothing on stdout when the config is invalid', () => {
    const bad = configFile('bad2.conf', 'virtual_server 10.0.0.1 80 {\n');
    const r = tslvsd(['--dump-config', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${bad}:1:28: error: 'virtual_server' block opened here is never closed`);
  });
});

describe('tslvsd status', () => {
  it('hands over to the status command (no daemon here: exit 1 with a message)', () => {
    const r = tslvsd(['status', '--json', '--status-socket', join(work, 'none.sock')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tslvsd status: /);
  });
});

describe('one-sentence answers (the whole process: exit code and stderr)', () => {
  const isRoot = process.getuid?.() === 0;
  const minimal = () => configFile('minimal.conf', 'global_defs {\n  router_id cli-test\n}\n');
  const oneLine = (text: string): string => {
    const lines = text.trimEnd().split('\n').filter((l) => !l.startsWith('{')); // the JSON log lines aside
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };

  it('an unknown flag: one line naming it, exit 2, no help text dump', () => {
    const r = tslvsd(['--frob']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("tslvsd: unknown option '--frob' (tslvsd --help lists the options)\n");
  });

  it('a status socket path longer than sun_path holds: one line with the limit, exit 2', () => {
    const long = `/run/${'x'.repeat(110)}.sock`;
    const r = tslvsd(['-f', minimal(), '--status-socket', long]);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(`tslvsd: --status-socket: the status socket path ${long} is 120 bytes long, more than the 107 a UNIX socket path can hold (sun_path is 108 bytes): choose a shorter path`);
    const s = tslvsd(['status', '--status-socket', long]);
    expect(s.code).toBe(2);
    expect(s.err).toContain('more than the 107 a UNIX socket path can hold');
  });

  it('without CAP_NET_ADMIN/CAP_NET_RAW: one line naming both, exit 1, before anything starts', () => {
    // As root, drop both from the bounding set for the child (setpriv, util-linux); otherwise we lack them already.
    const argv = [process.execPath, bin, '-f', minimal(), '--metrics-listen', 'off', '--status-socket', join(work, 'caps.sock'), '--log-level', 'silent'];
    const r = isRoot
      ? spawnSync('setpriv', ['--bounding-set=-net_admin,-net_raw', ...argv], { encoding: 'utf8', timeout: 60_000 })
      : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      "tslvsd: this process lacks CAP_NET_ADMIN and CAP_NET_RAW (VIPs and IPVS need CAP_NET_ADMIN, VRRP's raw sockets CAP_NET_RAW): run tslvsd as root, or grant them (systemd: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)",
    );
    expect(existsSync(join(work, 'caps.sock'))).toBe(false);
  });

  it('a pid file under /proc: one line, exit 1 at once (it used to spin at 100 % CPU, deaf to SIGTERM)', () => {
    const begun = Date.now();
    const r = tslvsd(['-f', minimal(), '--metrics-listen', 'off', '--status-socket', join(work, 'pid.sock'), '--pid-file', '/proc/nope/x.pid', '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(Date.now() - begun).toBeLessThan(30_000);
    // Without root the capability check answers first (the pid file is never reached): that sentence is tested above.
    expect(oneLine(r.err)).toBe(isRoot ? 'tslvsd: --pid-file /proc/nope/x.pid: cannot create the directory /proc/nope (ENOENT)' : expect.stringContaining('lacks CAP_NET_ADMIN'));
  });
});

describe("keepalived's command line through the real entry point", () => {
  /** The modules (file: URLs) a run of bin/tslvsd.js loads, recorded by a module-loading hook. */
  function loadedModules(args: string[]): string[] {
    const log = join(work, `loaded-${args.join('_').replace(/[^a-z]/gi, '')}.txt`);
    const hook = join(work, 'load-hook.mjs');
    const hooks = "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(process.env.TSLVSD_LOADED_LOG, url + '\\n'); return next(url, context); }";
    writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));\n`);
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', hook, bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TSLVSD_LOADED_LOG: log } });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((u) => u.slice(`file://${root}`.length));
  }

  it('--version and --help load five modules of dist/ and nothing of node_modules (issue 16)', () => {
    for (const flag of ['--version', '-v', '--help', '-h']) {
      // packageLayout: where package.json lies, in dist/, the sources or the bundle.
      expect(loadedModules([flag]).sort(), flag).toEqual(['bin/tslvsd.js', 'dist/cli.js', 'dist/cliOptions.js', 'dist/daemon/socketPath.js', 'dist/util/packageLayout.js', 'dist/version.js']);
    }
  });

  it('-t loads the config compiler, never the runtime (daemon, VRRP, IPVS, health checks, metrics)', () => {
    const loaded = loadedModules(['-t', '-f', example]);
    expect(loaded).toContain('dist/config/load.js');
    // -t checks the host too (script users, SSL files): those two small modules, and nothing they would start.
    const hostChecks = new Set(['dist/daemon/socketPath.js', 'dist/daemon/hostChecks.js', 'dist/healthcheck/tlsFiles.js']);
    const runtime = loaded.filter((m) => !hostChecks.has(m) && /^dist\/(daemon\.js|daemon\/|vrrp\/|ipvs\/|healthcheck\/|metrics\/|net\/|systemd\/|notify\/)/.test(m));
    expect(runtime).toEqual([]);
  });

  it('-tLOG: the check written to LOG (appended), nothing on stderr', () => {
    const log = join(work, 'check.log');
    const r = tslvsd([`-t${log}`, '-f', example]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(readFileSync(log, 'utf8')).toContain('configuration valid: 0 error(s), 0 warning(s)');
    tslvsd([`--config-test=${log}`, '-f', example]);
    expect(readFileSync(log, 'utf8').match(/configuration valid/g)).toHaveLength(2);
  });

  it('-t -d prints the model; --signum prints the signal number', () => {
    const r = tslvsd(['-t', '-d', '-f', example]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { vrrpInstances: { name: string }[] }).vrrpInstances[0]!.name).toBe('VI_WEB');
    expect(tslvsd(['--signum=RELOAD']).out).toBe('1\n');
    expect(tslvsd(['--signum', 'STOP']).out).toBe('15\n');
  });

  it('a refused keepalived flag: one line with the reason, exit 2', () => {
    const r = tslvsd(['-n', '-l', '-x', '-f', example]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('tslvsd: -x/--snmp is not supported: tslvsd has no SNMP agent; it exports its state to Prometheus (--metrics-listen)\n');
  });
});

describe('parseCliOptions (pure)', () => {
  it('defaults', () => {
    const r = parseCliOptions([]);
    expect(r).toEqual({
      ok: true,
      options: {
        command: 'run', configFile: '/etc/tslvsd.conf', strict: false, configId: undefined, pidFile: undefined,
        vrrpPidFile: undefined, checkersPidFile: undefined,
        vrrpOnly: false, checkOnly: false, logLevel: 'info', logFormat: 'json', logFile: undefined, configTestLogFile: undefined,
        dumpConf: false, umask: undefined, metricsListen: DEFAULT_METRICS_LISTEN,
        keepIpvsOnExit: false, statusSocket: undefined, json: false, statusArgs: [], signum: undefined, notes: [],
      },
    });
  });

  it('runtime flags pass through', () => {
    const r = parseCliOptions(['-f', '/x.conf', '-P', '--log-level', 'debug', '--log-format', 'pretty', '--metrics-listen', '[::1]:9200',
      '--keep-ipvs-on-exit', '--pid-file', '/run/t.pid']);
    expect(r.ok && r.options).toMatchObject({
      command: 'run', configFile: '/x.conf', vrrpOnly: true, logLevel: 'debug', logFormat: 'pretty',
      metricsListen: { host: '::1', port: 9200 }, keepIpvsOnExit: true, pidFile: '/run/t.pid',
    });
    expect(parseCliOptions(['--metrics-listen', 'off']).ok && (parseCliOptions(['--metrics-listen', 'off']) as { options: { metricsListen: unknown } }).options.metricsListen).toBeUndefined();
    expect(parseCliOptions(['status', '--json'])).toMatchObject({ ok: true, options: { command: 'status', json: true, statusArgs: ['--json'] } });
  });

  it('rejects bad values and contradictions with a message', () => {
    for (const argv of [['--log-level', 'loud'], ['--log-format', 'xml'], ['--metrics-listen', 'nowhere'], ['-P', '-C'], ['-t', '--dump-config'],
      ['restart'], ['--json']]) {
      const r = parseCliOptions(argv);
      expect(r.ok, argv.join(' ')).toBe(false);
    }
    expect(parseListenAddress('127.0.0.1:0')).toBe('invalid');
    expect(parseListenAddress('0.0.0.0:9165')).toEqual({ host: '0.0.0.0', port: 9165 });
  });
});
