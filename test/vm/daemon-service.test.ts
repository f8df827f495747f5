// tslvsd-vm-expected: 120
/**
 * The whole daemon (the real CLI: config → VRRP + TCP_CHECK health checks + IPVS + metrics) on a real IPVS
 * kernel, judged by `ipvsadm` run in the director's namespace. A director namespace runs tslvsd; a real-server
 * namespace runs two busybox httpd (10.95.0.10 and .12); .11 has no host. Checks, in order, on one full
 * daemon: the table after start; 100 SIGHUPs cause no IPVS operation; a reload changing one weight edits
 * exactly that destination (its counters survive, so nothing was deleted and re-added); a broken config
 * leaves table and daemon running and the reload metric at 0; a killed real server leaves the table; SIGTERM
 * removes the service. Then one daemon with `--check-only --keep-ipvs-on-exit`: no VRRP socket, no VIP, no
 * adverts; the table follows real-server health; SIGTERM leaves the table.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/daemon/statusSocket.js';
import type { DaemonStatus } from '../../src/daemon/status.js';
import { scrape } from '../daemon/nsDaemon.js';
import { TslvsdProcess } from '../ns/helpers/daemons.js';
import { hasIpvs, sh } from './helpers/kernel.js';

const DIR = '/tmp/tv-ds';
/**
 * The daemon runs as plain JS transpiled from src/ (esbuild, file by file, no bundling) into a directory at
 * the depth of dist/, so its paths to build/ and package.json hold. Under tsx the checker worker transpiles
 * the checkers again on the emulated CPU and first checks only after ~2 minutes.
 */
const BUILD = path.resolve('.tv-ds-build');
const ENTRY = path.join(BUILD, 'tv-ds-entry.js');
const D = 'tv-ds-d';
const R = 'tv-ds-r';
const METRICS = 'http://127.0.0.1:9165/metrics';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** `ipvsadm ARGS` in the director's namespace (IPVS tables are per network namespace). */
const ipvsadm = (...args: string[]): string => sh('ip', 'netns', 'exec', D, 'ipvsadm', ...args);
const table = (): string => ipvsadm('-Ln');

/** `ipvsadm -Ln --exact --stats` for our service: "service" / "-> dest" → [conns, inpkts, outpkts]. */
function statsOf(): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
  for (const line of ipvsadm('-Ln', '--exact', '--stats').split('\n')) {
    const s = /^TCP\s+10\.95\.0\.100:80\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    const d = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (s) out.set('service', [Number(s[1]), Number(s[2]), Number(s[3])]);
    else if (d) out.set(`-> ${d[1]}`, [Number(d[2]), Number(d[3]), Number(d[4])]);
  }
  return out;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      /* not there yet */
    }
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

function config(weightOf12: number): string {
  const rs = (addr: string, weight: number): string => `  real_server ${addr} 80 {
    weight ${weight}
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
`;
  return `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 71
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.95.0.100/24
  }
}
virtual_server 10.95.0.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${rs('10.95.0.10', 1)}${rs('10.95.0.11', 1)}${rs('10.95.0.12', weightOf12)}}
`;
}

async function transpileDaemon(): Promise<void> {
  rmSync(BUILD, { recursive: true, force: true });
  const { build } = await import('esbuild');
  await build({ entryPoints: ['src/**/*.ts'], outbase: 'src', outdir: BUILD, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  writeFileSync(ENTRY, "import { main } from './cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
}

/** `tslvsd ARGS` in the director's namespace. */
function startDaemon(args: string[]): TslvsdProcess {
  const child = spawn('ip', ['netns', 'exec', D, process.execPath, ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new TslvsdProcess(D, child);
}

const httpds = new Map<string, ChildProcess>();
function startHttpd(addr: string): void {
  httpds.get(addr)?.kill('SIGKILL');
  httpds.set(addr, spawn('ip', ['netns', 'exec', R, 'busybox', 'httpd', '-f', '-p', `${addr}:80`, '-h', path.join(DIR, 'www')], { stdio: 'ignore' }));
}
async function killHttpd(addr: string): Promise<void> {
  const child = httpds.get(addr);
  httpds.delete(addr);
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const conf = path.join(DIR, 'tslvsd.conf');
const sock = path.join(DIR, 'status.sock');
const status = (): Promise<DaemonStatus> => readStatus(sock, 30_000);
const liveTable = (t: string): boolean => /TCP\s+10\.95\.0\.100:80 rr/.test(t) && t.includes('10.95.0.10:80') && t.includes('10.95.0.12:80') && !t.includes('10.95.0.11:80');

describe.skipIf(!hasIpvs)('the whole daemon on a real IPVS kernel', () => {
  let daemon: TslvsdProcess | undefined;

  beforeAll(async () => {
    await transpileDaemon();
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(path.join(DIR, 'www'), { recursive: true });
    writeFileSync(path.join(DIR, 'www', 'index.html'), 'rs\n');
    sh('ip', 'netns', 'add', D);
    sh('ip', 'netns', 'add', R);
    sh('ip', 'link', 'add', 'tv-ds-dx', 'type', 'veth', 'peer', 'name', 'tv-ds-rx');
    sh('ip', 'link', 'set', 'tv-ds-dx', 'netns', D);
    sh('ip', 'link', 'set', 'tv-ds-rx', 'netns', R);
    for (const [ns, dev, addrs] of [
      [D, 'tv-ds-dx', ['10.95.0.1/24']],
      [R, 'tv-ds-rx', ['10.95.0.10/24', '10.95.0.12/24']],
    ] as const) {
      sh('ip', '-n', ns, 'link', 'set', dev, 'name', 'eth0');
      for (const addr of addrs) sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    // NAT: the real servers answer through the director.
    sh('ip', '-n', R, 'route', 'add', 'default', 'via', '10.95.0.1');
    startHttpd('10.95.0.10');
    startHttpd('10.95.0.12');
    writeFileSync(conf, config(1));
  });

  afterAll(async () => {
    await daemon?.crash();
    for (const addr of [...httpds.keys()]) await killHttpd(addr);
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    rmSync(BUILD, { recursive: true, force: true });
  });

  describe('full daemon', () => {
    it('starts MASTER with only the live real servers in the kernel table', async () => {
      daemon = startDaemon(['--config', conf, '--status-socket', sock]);
      const up = await until(async () => {
        const s = await status();
        const rs = s.virtualServers[0]?.realServers ?? [];
        const isUp = (a: string): boolean | undefined => rs.find((r) => r.address === a)?.up;
        return s.vrrpInstances[0]?.state === 'MASTER' && isUp('10.95.0.10') === true && isUp('10.95.0.12') === true && isUp('10.95.0.11') === false;
      }, 120_000, 1000);
      expect(up, `daemon never settled: ${daemon.stderr}\n${table()}\n${JSON.stringify(await status().catch(String))}`).toBe(true);
      expect(liveTable(table()), table()).toBe(true);
      const metrics = await scrape(D, METRICS);
      expect(metrics.get('tslvsd_real_server_up{virtual_server="10.95.0.100:80/TCP",real_server="10.95.0.10:80"}')).toBe(1);
      expect(metrics.get('tslvsd_real_server_up{virtual_server="10.95.0.100:80/TCP",real_server="10.95.0.11:80"}')).toBe(0);
      expect([...metrics.keys()].some((k) => k.startsWith('tslvsd_ipvs_service_connections_total{'))).toBe(true);
    });

    it('100 SIGHUPs in 10 s change nothing: no IPVS operation, no transition', async () => {
      const before = table();
      const from = daemon!.lines.length;
      for (let i = 0; i < 100; i++) {
        daemon!.signal('SIGHUP');
        await sleep(100);
      }
      await sleep(3000);
      const lines = daemon!.lines.slice(from);
      expect(table()).toBe(before);
      expect(lines.filter((l) => l.msg === 'IPVS reload applied')).toEqual([]);
      expect(lines.filter((l) => l.part === 'ipvs' && l.level !== 30 && l.level !== 'info')).toEqual([]);
      expect(lines.filter((l) => l.event === 'transition')).toEqual([]);
      expect(lines.some((l) => l.msg === 'reload: configuration unchanged')).toBe(true);
      expect(daemon!.running).toBe(true);
    });

    it("a reload changing one real server's weight edits exactly that destination in place", async () => {
      // Traffic through the service (from the director itself and from the real-server namespace), so that
      // counters are non-zero: a deleted and re-created service or destination would start again from 0.
      // Only the SYN has to pass IPVS to be counted, so a client whose answer goes astray is enough.
      for (const ns of [R, D]) {
        for (let i = 0; i < 4; i++) {
          spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '--max-time', '1', 'http://10.95.0.100/'], { stdio: 'ignore' });
        }
      }
      const statsBefore = statsOf();
      expect(statsBefore.get('service')?.[0] ?? 0, ipvsadm('-Ln', '--stats')).toBeGreaterThan(0);
      expect(statsBefore.get('-> 10.95.0.12:80')?.[0] ?? 0, ipvsadm('-Ln', '--stats')).toBeGreaterThan(0);
      const before = table().split('\n');
      const from = daemon!.lines.length;
      writeFileSync(conf, config(3));
      daemon!.signal('SIGHUP');
      expect(await until(() => daemon!.lines.slice(from).some((l) => l.msg === 'IPVS reload applied'), 60_000)).toBe(true);
      const applied = daemon!.lines.slice(from).find((l) => l.msg === 'IPVS reload applied') as { report: { failed: number } };
      expect(applied.report.failed).toBe(0);
      // The weight reaches the kernel through the reload or the health part's next decision.
      expect(await until(() => /10\.95\.0\.12:80\s+Masq\s+3\s/.test(table()), 20_000), table()).toBe(true);
      const after = table().split('\n');
      expect(after.length).toBe(before.length);
      const changed = after.map((line, i) => [before[i], line]).filter(([b, a]) => b !== a);
      expect(changed.length, table()).toBe(1);
      expect(changed[0]![0]).toMatch(/->\s+10\.95\.0\.12:80\s+Masq\s+1\s/);
      expect(changed[0]![1]).toMatch(/->\s+10\.95\.0\.12:80\s+Masq\s+3\s/);
      const statsAfter = statsOf();
      for (const key of ['service', '-> 10.95.0.10:80', '-> 10.95.0.12:80']) {
        expect(statsAfter.get(key)?.[0] ?? -1, key).toBeGreaterThanOrEqual(statsBefore.get(key)?.[0] ?? 0);
      }
      expect(daemon!.lines.slice(from).filter((l) => l.event === 'transition')).toEqual([]);
    });

    it('a reload with a broken config leaves the table and the daemon running; the reload metric drops to 0', async () => {
      const before = table();
      const good = readFileSync(conf, 'utf8');
      expect((await scrape(D, METRICS)).get('tslvsd_config_last_reload_successful')).toBe(1);
      const from = daemon!.lines.length;
      writeFileSync(conf, good.replace('lb_algo rr', 'lb_algo no_such_scheduler').replace('priority 150', 'priority 300'));
      daemon!.signal('SIGHUP');
      expect(await until(() => daemon!.lines.slice(from).some((l) => typeof l.msg === 'string' && l.msg.startsWith('reload rejected')), 60_000)).toBe(true);
      expect((await scrape(D, METRICS)).get('tslvsd_config_last_reload_successful')).toBe(0);
      await sleep(2000);
      expect(table()).toBe(before);
      expect(daemon!.running).toBe(true);
      expect((await status()).vrrpInstances[0]?.state).toBe('MASTER');
      expect(daemon!.lines.slice(from).filter((l) => l.msg === 'IPVS reload applied' || l.event === 'transition')).toEqual([]);
      writeFileSync(conf, good);
    });

    it('a killed real server leaves the table, with one transition line', async () => {
      await killHttpd('10.95.0.10');
      try {
        expect(await until(() => !table().includes('10.95.0.10:80'), 20_000)).toBe(true);
        expect(table()).toContain('10.95.0.12:80');
        const down = (): Record<string, unknown>[] =>
          daemon!.lines.filter((l) => l.event === 'transition' && l.kind === 'real_server' && l.to === 'DOWN' && l.instance === '10.95.0.100:80/TCP/10.95.0.10:80');
        expect(await until(() => down().length > 0, 10_000)).toBe(true);
        await sleep(2000);
        expect(down().length).toBe(1);
      } finally {
        startHttpd('10.95.0.10');
      }
    });

    it('SIGTERM exits 0 and removes the service from the kernel', async () => {
      expect(await daemon!.stop(30_000)).toBe(0);
      expect(table()).not.toContain('10.95.0.100:80');
      daemon = undefined;
    });
  });

  describe('--check-only --keep-ipvs-on-exit', () => {
    it('programs IPVS from the checks without any VRRP: no raw socket, no VIP, no adverts', async () => {
      writeFileSync(conf, config(1));
      daemon = startDaemon(['--config', conf, '--status-socket', sock, '--check-only', '--keep-ipvs-on-exit']);
      expect(await until(() => liveTable(table()), 120_000, 1000), `table never built: ${daemon.stderr}\n${table()}`).toBe(true);
      const s = await status();
      expect(s.mode).toBe('check-only');
      expect(s.vrrpInstances).toEqual([]);
      // /proc/net/raw is per namespace: a VRRP socket would show protocol 112 (0x70) as its local port.
      const raw = sh('ip', 'netns', 'exec', D, 'cat', '/proc/net/raw');
      expect(raw.split('\n').slice(1).filter((l) => /^\s*\d+: [0-9A-F]{8}:0070 /.test(l))).toEqual([]);
      expect(sh('ip', '-n', D, '-4', 'addr', 'show', 'dev', 'eth0')).not.toContain('10.95.0.100');
      const metrics = await scrape(D, METRICS);
      expect([...metrics.keys()].filter((k) => k.startsWith('keepalived_advertisements_sent_total') && metrics.get(k)! > 0)).toEqual([]);
      expect(metrics.get('tslvsd_real_server_up{virtual_server="10.95.0.100:80/TCP",real_server="10.95.0.10:80"}')).toBe(1);
    });

    it('the table follows real-server health', async () => {
      await killHttpd('10.95.0.12');
      expect(await until(() => !table().includes('10.95.0.12:80'), 20_000)).toBe(true);
      startHttpd('10.95.0.12');
      expect(await until(() => liveTable(table()), 20_000)).toBe(true);
    });

    it('SIGTERM exits 0 and leaves the table in the kernel', async () => {
      // Services, destinations, forwarding and weights; not the connection counters, which the kernel
      // moves on its own while the daemon stops (an ActiveConn 2 → 1 failed this once).
      const withoutCounters = (t: string): string => t.split('\n').map((l) => l.replace(/^(\s+->\s+\S+\s+\S+\s+\d+)\s+\d+\s+\d+\s*$/, '$1')).join('\n');
      const before = table();
      expect(await daemon!.stop(30_000)).toBe(0);
      daemon = undefined;
      expect(withoutCounters(table())).toBe(withoutCounters(before));
      expect(liveTable(before)).toBe(true);
      ipvsadm('-C');
    });
  });
});
