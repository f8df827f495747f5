// tslvsd-vm-timeout: 1200
// tslvsd-vm-expected: 90
/**
 * The shipped monitoring against the real thing: a real Prometheus (Debian's) scrapes a running tslvsd (the
 * real CLI: VRRP + TCP_CHECK + IPVS, so every series exists) with etc/prometheus/tslvsd.rules.yml loaded;
 * every rule must load healthy and every query of etc/grafana/tslvsd.json must return data. In the VM
 * because the dashboard shows the IPVS table (this host's kernel has none). Director namespace runs tslvsd and
 * Prometheus; a real-server namespace runs busybox httpd.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TslvsdProcess } from '../ns/helpers/daemons.js';
import { hasIpvs, sh } from './helpers/kernel.js';

const DIR = '/tmp/tv-pd';
const BUILD = path.resolve('.tv-pd-build');
const ENTRY = path.join(BUILD, 'tv-pd-entry.js');
const D = 'tv-pd-d';
const R = 'tv-pd-r';
const PROM = 'http://127.0.0.1:19090';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One Prometheus API GET from inside the director's namespace; the `data` field, or undefined. */
function api(pathAndQuery: string): unknown {
  const r = spawnSync('ip', ['netns', 'exec', D, 'curl', '-sf', '--max-time', '20', `${PROM}${pathAndQuery}`], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const body = JSON.parse(r.stdout) as { status: string; data: unknown };
  return body.status === 'success' ? body.data : undefined;
}
const query = (expr: string): Array<{ metric: Record<string, string>; value: [number, string] }> =>
  ((api(`/api/v1/query?query=${encodeURIComponent(expr)}`) as { result?: [] } | undefined)?.result ?? []) as Array<{ metric: Record<string, string>; value: [number, string] }>;

async function until(check: () => boolean, timeoutMs: number, stepMs = 1000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (check()) return true;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

const dashboardExprs = (): string[] =>
  (JSON.parse(readFileSync('etc/grafana/tslvsd.json', 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> }).panels.flatMap((p) => p.targets.map((t) => t.expr));

describe.skipIf(!hasIpvs)('shipped rules and dashboard on a real Prometheus scraping tslvsd', () => {
  let daemon: TslvsdProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let promLog = '';
  let httpd: ChildProcess | undefined;

  beforeAll(async () => {
    rmSync(BUILD, { recursive: true, force: true });
    const { build } = await import('esbuild');
    await build({ entryPoints: ['src/**/*.ts'], outbase: 'src', outdir: BUILD, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
    writeFileSync(ENTRY, "import { main } from './cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(path.join(DIR, 'www'), { recursive: true });
    writeFileSync(path.join(DIR, 'www', 'index.html'), 'rs\n');
    sh('ip', 'netns', 'add', D);
    sh('ip', 'netns', 'add', R);
    sh('ip', 'link', 'add', 'tv-pd-dx', 'type', 'veth', 'peer', 'name', 'tv-pd-rx');
    sh('ip', 'link', 'set', 'tv-pd-dx', 'netns', D);
    sh('ip', 'link', 'set', 'tv-pd-rx', 'netns', R);
    for (const [ns, dev, addr] of [
      [D, 'tv-pd-dx', '10.94.0.1/24'],
      [R, 'tv-pd-rx', '10.94.0.10/24'],
    ] as const) {
      sh('ip', '-n', ns, 'link', 'set', dev, 'name', 'eth0');
      sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', '-n', R, 'route', 'add', 'default', 'via', '10.94.0.1');
    httpd = spawn('ip', ['netns', 'exec', R, 'busybox', 'httpd', '-f', '-p', '10.94.0.10:80', '-h', path.join(DIR, 'www')], { stdio: 'ignore' });
    const conf = path.join(DIR, 'tslvsd.conf');
    writeFileSync(
      conf,
      `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 73
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.94.0.100
  }
}
virtual_server 10.94.0.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.94.0.10 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`,
    );
    daemon = new TslvsdProcess(D, spawn('ip', ['netns', 'exec', D, process.execPath, ENTRY, '--config', conf, '--status-socket', path.join(DIR, 's.sock')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    writeFileSync(
      path.join(DIR, 'prometheus.yml'),
      `global:
  scrape_interval: 2s
  scrape_timeout: 1900ms
  evaluation_interval: 1s
rule_files:
  - ${path.resolve('etc/prometheus/tslvsd.rules.yml')}
scrape_configs:
  - job_name: tslvsd
    static_configs:
      - targets: ['127.0.0.1:9165']
`,
    );
    prometheus = spawn(
      'ip',
      ['netns', 'exec', D, 'prometheus', `--config.file=${path.join(DIR, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(DIR, 'tsdb')}`, '--web.listen-address=127.0.0.1:19090'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (c: Buffer) => (promLog = (promLog + c.toString()).slice(-4000)));
  });

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await daemon?.crash();
    httpd?.kill('SIGKILL');
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    rmSync(BUILD, { recursive: true, force: true });
  });

  // Generous: under the VM's emulation on a loaded 2-core machine, the daemon's start alone took minutes.
  it('loads every rule healthy, and every dashboard query returns data', { timeout: 1_000_000 }, async () => {
    const begun = Date.now();
    const at = (what: string): void => void process.stderr.write(`prometheus-dashboard: ${what} after ${((Date.now() - begun) / 1000).toFixed(0)} s\n`);
    expect(await daemon!.waitForState('MASTER', 500_000), daemon!.stderr).toBe(true);
    at('tslvsd MASTER');
    // A little traffic through the VIP, so connection counters move.
    for (let i = 0; i < 3; i++) spawnSync('ip', ['netns', 'exec', R, 'curl', '-s', '-o', '/dev/null', '--max-time', '1', 'http://10.94.0.100/'], { stdio: 'ignore' });
    const scraped = await until(() => query('up{job="tslvsd"} == 1').length === 1 && query('node_ipvs_backend_weight').length > 0, 300_000);
    expect(scraped, `Prometheus never scraped tslvsd with its IPVS table: ${promLog}\n${daemon!.stderr}`).toBe(true);
    at('scraped with the IPVS table');
    // rate() and increase() need two samples inside their window.
    await sleep(10_000);

    const groups = (api('/api/v1/rules') as { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }).groups;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).toEqual(['TslvsdVrrpSplitBrain', 'TslvsdVrrpNoMaster', 'TslvsdVrrpFlapping', 'TslvsdVirtualServerQuorumLost', 'TslvsdRealServerDown', 'TslvsdConfigReloadFailed']);
    expect(rules.filter((r) => r.health !== 'ok'), JSON.stringify(rules)).toEqual([]);

    const empty: string[] = [];
    for (const expr of dashboardExprs()) {
      const ok = await until(() => query(expr).length > 0, 30_000);
      if (!ok) empty.push(expr);
    }
    expect(empty, 'dashboard queries without data').toEqual([]);
    at('every dashboard query answered');
    // And what they show is right: one MASTER for VRID 73, the VIP as keepalived writes it, the real server
    // up, node_exporter's labels (Prometheus drops the empty local_mark). Polled: under emulation a scrape
    // can miss its timeout, and a missed one leaves a query empty for a moment.
    const shows = async (expr: string, check: (r: ReturnType<typeof query>) => boolean): Promise<string> => {
      let last: ReturnType<typeof query> = [];
      const ok = await until(() => check((last = query(expr))), 60_000);
      return ok ? 'ok' : `${expr}: ${JSON.stringify(last)}`;
    };
    expect(await shows('count by (vrid) (keepalived_vrrp_state == 2)', (r) => r[0]?.value[1] === '1')).toBe('ok');
    expect(await shows('keepalived_vrrp_state', (r) => r[0]?.metric.ip_address === '10.94.0.100')).toBe('ok');
    expect(
      await shows('node_ipvs_backend_weight', (r) => {
        const m = r[0]?.metric;
        return m?.local_address === '10.94.0.100' && m.local_port === '80' && m.remote_address === '10.94.0.10' && m.remote_port === '80' && m.proto === 'TCP' && r[0]?.value[1] === '1';
      }),
    ).toBe('ok');
    expect(await shows('tslvsd_real_server_up', (r) => r[0]?.value[1] === '1')).toBe('ok');
    expect(await shows('tslvsd_build_info', (r) => r[0]?.metric.node_version === process.versions.node)).toBe('ok');
    // A healthy director raises no alert (firing or pending).
    expect((api('/api/v1/alerts') as { alerts: unknown[] }).alerts).toEqual([]);
  });
});
