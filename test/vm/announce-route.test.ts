// tslvsd-vm-expected: 100
/**
 * announce_route end to end on a real IPVS kernel (issue 11), judged by iproute2 and ipvsadm in the
 * director's namespace: the real CLI (`--check-only`: TCP_CHECK + IPVS, no VRRP) holds
 * `10.96.0.100 dev lo scope link` in table 248 proto 249 while the real server answers; the route goes within
 * delay_loop × (retry + 1) + 1 s of the server no longer listening and comes back with it; on SIGTERM the
 * route goes first and the IPVS service only announce_route_drain seconds later (both polled, timestamps
 * recorded); kill -9 leaves route and service; the next start deletes the route no longer configured at once,
 * also when the new config has no announce_route at all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/daemon/statusSocket.js';
import { scrape } from '../daemon/nsDaemon.js';
import { TslvsdProcess } from '../ns/helpers/daemons.js';
import { hasIpvs, sh } from './helpers/kernel.js';

const DIR = '/tmp/tv-ar';
/** Plain JS transpiled from src/ at the depth of dist/ (as test/vm/daemon-service.test.ts says why). */
const BUILD = path.resolve('.tv-ar-build');
const ENTRY = path.join(BUILD, 'tv-ar-entry.js');
const D = 'tv-ar-d';
const R = 'tv-ar-r';
const METRICS = 'http://127.0.0.1:9165/metrics';
const DELAY_LOOP = 2;
const RETRY = 1;
const DRAIN = 3;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const routes = (): string => sh('ip', '-n', D, 'route', 'show', 'table', '248', 'proto', '249');
const service = (): string => sh('ip', 'netns', 'exec', D, 'ipvsadm', '-Ln');
const announced = (vip: string): boolean => routes().split('\n').some((l) => l.trim() === `${vip} dev lo scope link`);
const hasService = (vip: string): boolean => new RegExp(`TCP\\s+${vip.replaceAll('.', '\\.')}:80 mh`).test(service());

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
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

function virtualServer(vip: string, announce: boolean): string {
  return `virtual_server ${vip} 80 {
  delay_loop ${DELAY_LOOP}
  lb_algo mh
  lb_kind NAT
  protocol TCP
${announce ? '  announce_route\n' : ''}  real_server 10.96.0.10 80 {
    TCP_CHECK {
      connect_timeout 1
      retry ${RETRY}
      delay_before_retry 1
    }
  }
}
`;
}

const conf = path.join(DIR, 'tslvsd.conf');
const sock = path.join(DIR, 'status.sock');
const writeConfig = (body: string): void => writeFileSync(conf, `global_defs {\n  announce_route_drain ${DRAIN}\n}\n${body}`);

async function transpileDaemon(): Promise<void> {
  rmSync(BUILD, { recursive: true, force: true });
  const { build } = await import('esbuild');
  await build({ entryPoints: ['src/**/*.ts'], outbase: 'src', outdir: BUILD, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  writeFileSync(ENTRY, "import { main } from './cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
}

function startDaemon(): TslvsdProcess {
  const child = spawn('ip', ['netns', 'exec', D, process.execPath, ENTRY, '--config', conf, '--status-socket', sock, '--check-only'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new TslvsdProcess(D, child);
}

let httpd: ChildProcess | undefined;
function startHttpd(): void {
  httpd = spawn('ip', ['netns', 'exec', R, 'busybox', 'httpd', '-f', '-p', '10.96.0.10:80', '-h', path.join(DIR, 'www')], { stdio: 'ignore' });
}
async function killHttpd(): Promise<void> {
  const child = httpd;
  httpd = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!hasIpvs)('announce_route on a real IPVS kernel', () => {
  let daemon: TslvsdProcess | undefined;

  beforeAll(async () => {
    await transpileDaemon();
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(path.join(DIR, 'www'), { recursive: true });
    writeFileSync(path.join(DIR, 'www', 'index.html'), 'rs\n');
    sh('ip', 'netns', 'add', D);
    sh('ip', 'netns', 'add', R);
    sh('ip', 'link', 'add', 'tv-ar-dx', 'type', 'veth', 'peer', 'name', 'tv-ar-rx');
    sh('ip', 'link', 'set', 'tv-ar-dx', 'netns', D);
    sh('ip', 'link', 'set', 'tv-ar-rx', 'netns', R);
    for (const [ns, dev, addr] of [[D, 'tv-ar-dx', '10.96.0.1/24'], [R, 'tv-ar-rx', '10.96.0.10/24']] as const) {
      sh('ip', '-n', ns, 'link', 'set', dev, 'name', 'eth0');
      sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    // The VIPs are local addresses of the director (on lo, as the ECMP lab puts them); tslvsd does not add them.
    sh('ip', '-n', D, 'addr', 'add', '10.96.0.100/32', 'dev', 'lo');
    sh('ip', '-n', D, 'addr', 'add', '10.96.0.101/32', 'dev', 'lo');
    sh('ip', '-n', R, 'route', 'add', 'default', 'via', '10.96.0.1');
    startHttpd();
    writeConfig(virtualServer('10.96.0.100', true));
  });

  afterAll(async () => {
    await daemon?.crash();
    await killHttpd();
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    rmSync(BUILD, { recursive: true, force: true });
  });

  it('holds VIP/32 in table 248 proto 249 while the real server is up; status and metrics show it', async () => {
    daemon = startDaemon();
    const up = await until(() => announced('10.96.0.100') && hasService('10.96.0.100'), 150_000, 500);
    expect(up, `never announced: ${daemon.stderr}\n${routes()}\n${service()}`).toBe(true);
    expect(routes().trim()).toBe('10.96.0.100 dev lo scope link');
    expect(sh('ip', '-n', D, 'route', 'show', 'table', 'main', 'proto', '249')).toBe('');
    const status = await readStatus(sock, 30_000);
    expect(status.announcedRoutes).toEqual([{ virtualServer: '10.96.0.100:80/TCP', prefix: '10.96.0.100/32', table: 248, announced: true }]);
    const metrics = await scrape(D, METRICS);
    expect(metrics.get('tslvsd_announced_route{virtual_server="10.96.0.100:80/TCP",prefix="10.96.0.100/32"}')).toBe(1);
    expect(metrics.get('tslvsd_announce_route_changes_total')).toBeGreaterThanOrEqual(1);
  });

  it(`withdraws within delay_loop × (retry + 1) + 1 s = ${DELAY_LOOP * (RETRY + 1) + 1} s of the server no longer listening, and re-announces`, async () => {
    const t0 = Date.now();
    await killHttpd();
    const gone = await until(() => !announced('10.96.0.100'), 60_000, 100);
    const withdrawnMs = Date.now() - t0;
    console.log(`announce-route: withdrawn ${withdrawnMs} ms after the real server stopped (bound ${(DELAY_LOOP * (RETRY + 1) + 1) * 1000} ms)`);
    expect(gone, routes()).toBe(true);
    expect(withdrawnMs).toBeLessThanOrEqual((DELAY_LOOP * (RETRY + 1) + 1) * 1000);
    expect(hasService('10.96.0.100')).toBe(true); // the service stays (IPVS keeps its entry, quorum is only the route)
    expect((await scrape(D, METRICS)).get('tslvsd_announced_route{virtual_server="10.96.0.100:80/TCP",prefix="10.96.0.100/32"}')).toBe(0);
    startHttpd();
    expect(await until(() => announced('10.96.0.100'), 30_000, 100), routes()).toBe(true);
  });

  it(`SIGTERM: the route goes first, the IPVS service ${DRAIN} s later`, async () => {
    let routeGoneAt: number | undefined;
    let serviceGoneAt: number | undefined;
    const t0 = Date.now();
    const stopped = daemon!.stop(60_000);
    await until(() => {
      const now = Date.now();
      if (routeGoneAt === undefined && !announced('10.96.0.100')) routeGoneAt = now;
      if (serviceGoneAt === undefined && !hasService('10.96.0.100')) serviceGoneAt = now;
      return routeGoneAt !== undefined && serviceGoneAt !== undefined;
    }, 60_000, 50);
    expect(await stopped).toBe(0);
    daemon = undefined;
    console.log(`announce-route: SIGTERM → route gone ${routeGoneAt! - t0} ms, IPVS service gone ${serviceGoneAt! - t0} ms`);
    expect(routeGoneAt).toBeDefined();
    expect(serviceGoneAt).toBeDefined();
    expect(routeGoneAt!).toBeLessThan(serviceGoneAt!);
    // The drain is a timer: the service outlives the route by at least that, less the poll step.
    expect(serviceGoneAt! - routeGoneAt!).toBeGreaterThanOrEqual(DRAIN * 1000 - 200);
  });

  it('kill -9 leaves the route and the service; the next start deletes the route no longer configured at once', async () => {
    await daemon?.crash(); // only if the test before failed half-way: one daemon at a time
    daemon = startDaemon();
    expect(await until(() => announced('10.96.0.100') && hasService('10.96.0.100'), 240_000, 500), `${daemon.stderr}\n${routes()}`).toBe(true);
    await daemon.crash();
    daemon = undefined;
    await sleep(1000);
    expect(announced('10.96.0.100'), routes()).toBe(true);
    expect(hasService('10.96.0.100')).toBe(true);
    // 10.96.0.100 no longer announces, 10.96.0.101 does: the stale route goes at start, the new one comes.
    writeConfig(virtualServer('10.96.0.100', false) + virtualServer('10.96.0.101', true));
    daemon = startDaemon();
    const restarted = daemon;
    const settled = await until(() => !announced('10.96.0.100') && announced('10.96.0.101'), 240_000, 200);
    const storyOf = (): string => restarted.lines.filter((l) => l.event === 'announce_route' || l.level === 50 || l.event === 'started').map((l) => JSON.stringify(l)).join('\n');
    expect(settled, `${restarted.stderr}\n${routes()}\n${storyOf()}`).toBe(true);
    // The log line follows the kernel's change (the route is gone before the line is read here): wait for it too.
    const isDelete = (l: (typeof restarted.lines)[number]): boolean => l.event === 'announce_route' && l.action === 'delete' && l.prefix === '10.96.0.100/32';
    expect(await until(() => restarted.lines.some(isDelete), 30_000, 100), storyOf()).toBe(true);
    expect(restarted.lines.find(isDelete)?.reason).toBe('start');
    expect(await daemon.stop(60_000)).toBe(0);
    daemon = undefined;
    expect(routes()).toBe('');
  });

  it('kill -9, then a start whose config has no announce_route at all: the route the crashed run left goes', async () => {
    await daemon?.crash(); // only if the test before failed half-way: one daemon at a time
    writeConfig(virtualServer('10.96.0.101', true));
    daemon = startDaemon();
    expect(await until(() => announced('10.96.0.101'), 240_000, 500), `${daemon.stderr}\n${routes()}`).toBe(true);
    await daemon.crash();
    daemon = undefined;
    expect(announced('10.96.0.101'), routes()).toBe(true);
    writeConfig(virtualServer('10.96.0.101', false));
    const restarted = startDaemon();
    daemon = restarted;
    const cleared = await until(() => routes() === '' && hasService('10.96.0.101'), 240_000, 200);
    expect(cleared, `${restarted.stderr}\n${routes()}`).toBe(true);
    // The log line follows the kernel's change (and `ip route` polls block this loop): wait for it too.
    const isDelete = (l: (typeof restarted.lines)[number]): boolean => l.event === 'announce_route' && l.action === 'delete' && l.prefix === '10.96.0.101/32';
    const logged = await until(() => restarted.lines.some(isDelete), 30_000, 100);
    const story = restarted.lines.filter((l) => l.event === 'announce_route').map((l) => JSON.stringify(l)).join('\n');
    expect(logged, story).toBe(true);
    expect(restarted.lines.find(isDelete)?.reason).toBe('start');
    expect(await restarted.stop(60_000)).toBe(0);
    daemon = undefined;
  });
});
