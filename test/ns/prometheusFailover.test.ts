import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../daemon/nsDaemon.js';
import type { TslvsdProcess } from './helpers/daemons.js';
import { isRoot, runCommand, sleep, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, type LabHost } from './helpers/netns.js';

// A real Prometheus server (Debian's) scrapes two tslvsd through a failover and records BACKUP → MASTER.
// Prometheus runs inside namespace A and reaches both daemons' listeners on their veth addresses.
const PREFIX = 'td-pm-';
const VIP = '10.96.0.200';
const PROM_PORT = 19090;

function conf(priority: number): string {
  return `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

describe.skipIf(!isRoot)('Prometheus scrapes two tslvsd through a failover', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let pa: TslvsdProcess;
  let pb: TslvsdProcess;
  let prometheus: ChildProcess | undefined;
  let promLog = '';

  /** One API query; retried, because a loaded machine can make a single request miss its deadline. */
  async function query(pathAndQuery: string, attempts = 3): Promise<unknown> {
    for (let i = 0; i < attempts; i++) {
      const r = await runCommand('ip', ['netns', 'exec', a.ns, 'curl', '-sf', '--max-time', '10', `http://127.0.0.1:${PROM_PORT}${pathAndQuery}`]);
      if (r.code === 0) {
        const body = JSON.parse(r.stdout) as { status: string; data: { result: unknown } };
        if (body.status === 'success') return body.data.result;
      }
      await sleep(500);
    }
    return undefined;
  }

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.96.0.1/24', '10.96.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), PREFIX));
    writeFileSync(path.join(dir, 'a.conf'), conf(150));
    writeFileSync(path.join(dir, 'b.conf'), conf(100));
    pa = startDaemon(a.ns, ['--config', path.join(dir, 'a.conf'), '--metrics-listen', '10.96.0.1:9165', '--status-socket', path.join(dir, 'a.sock')]);
    // The backup starts once the primary is MASTER: started together on a loaded machine, the backup could
    // finish booting first and win the first election, and become_master_total would count that too.
    if (!(await pa.waitForState('MASTER', 30_000))) throw new Error('director a never became MASTER');
    pb = startDaemon(b.ns, ['--config', path.join(dir, 'b.conf'), '--metrics-listen', '10.96.0.2:9165', '--status-socket', path.join(dir, 'b.sock')]);
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: tslvsd
    static_configs:
      - targets: ['10.96.0.1:9165']
        labels: { director: a }
      - targets: ['10.96.0.2:9165']
        labels: { director: b }
`,
    );
  });

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await Promise.all([pa?.crash(), pb?.crash()]);
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the exposition of a running daemon passes promtool check metrics', async () => {
    expect(await pa.waitForState('MASTER', 15_000)).toBe(true);
    expect(await pb.waitForState('BACKUP', 15_000)).toBe(true);
    // Retried: on a loaded machine the first connection can race the listener's accept queue.
    const r = await runCommand('ip', ['netns', 'exec', b.ns, 'curl', '-sf', '--retry', '3', '--retry-connrefused', 'http://10.96.0.2:9165/metrics']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="61",ip_address="10.96.0.200/24"} 1');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: r.stdout, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('records keepalived_vrrp_state of the backup going 1 (BACKUP) → 2 (MASTER) when the master crashes', async () => {
    prometheus = spawn(
      'ip',
      [
        'netns', 'exec', a.ns, 'prometheus',
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${PROM_PORT}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (c: Buffer) => (promLog += c.toString()));
    prometheus.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));
    const bothUp = await waitFor(
      async () => {
        const result = (await query('/api/v1/query?query=up')) as Array<{ metric: { director: string }; value: [number, string] }> | undefined;
        return result && result.length === 2 && result.every((r) => r.value[1] === '1');
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(bothUp, promLog).toBe(true);
    await sleep(3000); // a few scrapes of the steady state
    const start = Date.now() / 1000 - 5;

    await pa.crash();
    expect(await pb.waitForState('MASTER', 10_000)).toBe(true);
    await sleep(4000); // a few scrapes of the new state
    const end = Date.now() / 1000;

    const range = (await query(
      `/api/v1/query_range?query=${encodeURIComponent('keepalived_vrrp_state{director="b",iname="VI_1"}')}&start=${start}&end=${end}&step=1`,
    )) as PromSeries[];
    expect(range, promLog).toHaveLength(1);
    const values = range[0]!.values.map(([, v]) => Number(v));
    const firstMaster = values.indexOf(2);
    console.log(`director b keepalived_vrrp_state per second: ${values.join(' ')}`);
    expect(firstMaster, values.join(' ')).toBeGreaterThan(0);
    expect(values.slice(0, firstMaster).every((v) => v === 1), values.join(' ')).toBe(true);
    expect(values.slice(firstMaster).every((v) => v === 2), values.join(' ')).toBe(true);

    const became = (await query(`/api/v1/query?query=${encodeURIComponent('keepalived_become_master_total{director="b"}')}`)) as Array<{ value: [number, string] }>;
    expect(Number(became[0]!.value[1]), JSON.stringify(became)).toBe(1);
    const upA = (await query(`/api/v1/query?query=${encodeURIComponent('up{director="a"}')}`)) as Array<{ value: [number, string] }>;
    expect(upA[0]!.value[1], JSON.stringify(upA)).toBe('0');
  });
});
