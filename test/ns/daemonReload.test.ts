import { existsSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifyListener, type NotifyListener } from '../daemon/notifyListener.js';
import { scrape, startDaemon, statusOf } from '../daemon/nsDaemon.js';
import type { DaemonStatus } from '../../src/daemon/status.js';
import type { TslvsdProcess } from './helpers/daemons.js';
import { isRoot, sleep, waitFor } from './helpers/exec.js';
import { addressesOf, createVethLab, destroyLab, labPrefix, type LabHost } from './helpers/netns.js';
import { VipWatch } from './helpers/vipWatch.js';

// The daemon in production, for real: two tslvsd (the CLI, composed daemon) on a veth pair, A priority 150
// and B priority 100, two VRRP instances each. A runs under a stand-in for systemd's notify socket.
const PREFIX = labPrefix('rl');
const VIP1 = '10.97.0.200';
const VIP2 = '10.97.0.210';
const VIP3 = '10.97.0.211';
const METRICS = 'http://127.0.0.1:9165/metrics';

function conf(priority: number, vi2Vips: string[], brokenLine = false): string {
  return `global_defs {
  router_id r${priority}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP1}/24
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id ${brokenLine ? 999 : 52}
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
${vi2Vips.map((v) => `    ${v}/24`).join('\n')}
  }
}
`;
}

describe.skipIf(!isRoot)('tslvsd as a service: notify, status, metrics, reload, stop (namespaces)', () => {
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  let notify: NotifyListener;
  let pa: TslvsdProcess;
  let pb: TslvsdProcess;
  let confA: string;
  const files = () => ({ statusA: path.join(dir, 'a.sock'), statusB: path.join(dir, 'b.sock'), pidA: path.join(dir, 'a.pid') });
  let dumpExisted = false;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.97.0.1/24', '10.97.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), PREFIX));
    dumpExisted = existsSync('/run/tslvsd/tslvsd.state.json');
    notify = await startNotifyListener(path.join(dir, 'notify.sock'));
    confA = path.join(dir, 'a.conf');
    writeFileSync(confA, conf(150, [VIP2]));
    writeFileSync(path.join(dir, 'b.conf'), conf(100, [VIP2]));
    const { statusA, statusB, pidA } = files();
    pa = startDaemon(a.ns, ['--config', confA, '--status-socket', statusA, '--pid-file', pidA], {
      NOTIFY_SOCKET: path.join(dir, 'notify.sock'),
      WATCHDOG_USEC: '2000000',
    });
    pb = startDaemon(b.ns, ['--config', path.join(dir, 'b.conf'), '--status-socket', statusB]);
  });

  afterAll(async () => {
    await Promise.all([pa?.crash(), pb?.crash()]);
    notify?.close();
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
    if (!dumpExisted) {
      rmSync('/run/tslvsd/tslvsd.state.json', { force: true });
      try {
        rmdirSync('/run/tslvsd');
      } catch {
        /* not empty or absent: not ours to remove */
      }
    }
  });

  it('starts: READY=1 after start-up, WATCHDOG=1 at half of WatchdogSec; status and metrics answer; pid file written', async () => {
    expect(await pa.waitForState('MASTER', 30_000, 'VI_1')).toBe(true);
    expect(await pa.waitForState('MASTER', 30_000, 'VI_2')).toBe(true);
    expect(await pb.waitForState('BACKUP', 30_000, 'VI_2')).toBe(true);
    await notify.waitFor((m) => m.startsWith('READY=1'));
    const started = notify.messages.findIndex((m) => m.startsWith('READY=1'));
    await notify.waitFor((m) => m === 'WATCHDOG=1', 5000, started);

    const status = JSON.parse(await statusOf(files().statusA)) as DaemonStatus;
    expect(readFileSync(files().pidA, 'utf8').trim()).toBe(String(status.pid));
    expect(status.vrrpInstances.map((i) => [i.name, i.state, i.effectivePriority, i.masterAddress])).toEqual([
      ['VI_1', 'MASTER', 150, '10.97.0.1'],
      ['VI_2', 'MASTER', 150, '10.97.0.1'],
    ]);
    const statusB = JSON.parse(await statusOf(files().statusB)) as DaemonStatus;
    expect(statusB.vrrpInstances.map((i) => [i.state, i.masterAddress])).toEqual([
      ['BACKUP', '10.97.0.1'],
      ['BACKUP', '10.97.0.1'],
    ]);

    const metrics = await scrape(a.ns, METRICS);
    expect(metrics.get(`keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="${VIP1}/24"}`)).toBe(2);
    expect((await scrape(b.ns, METRICS)).get(`keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="${VIP1}/24"}`)).toBe(1);
    expect(metrics.get('tslvsd_config_last_reload_successful')).toBe(1);
  });

  it('100 SIGHUPs in 10 s (unchanged config): no VIP lost, no transition, no priority-0 advert, the backup never takes over', async () => {
    const watch = new VipWatch([a, b], VIP1, 50);
    const beforeB = await scrape(b.ns, METRICS);
    const transitionsBefore = pa.transitions().length;
    const reloadingBefore = notify.messages.filter((m) => m.startsWith('RELOADING=1')).length;
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      pa.signal('SIGHUP');
      await sleep(100);
    }
    await sleep(3000);
    const t1 = performance.now();
    await watch.stop();

    const window = watch.samples.filter((s) => s.at >= t0 && s.at <= t1);
    expect(window.length).toBeGreaterThan(20);
    expect(window.every((s) => s.holders.length === 1 && s.holders[0] === a.ns)).toBe(true);
    expect(pa.transitions().length).toBe(transitionsBefore);
    expect(pa.running).toBe(true);
    const afterB = await scrape(b.ns, METRICS);
    for (const name of ['keepalived_priority_zero_received_total', 'keepalived_become_master_total']) {
      const key = `${name}{iname="VI_1",intf="eth0",vrid="51"}`;
      expect(afterB.get(key)).toBe(beforeB.get(key));
    }
    // Reloads are coalesced: each one is RELOADING=1 … READY=1, fewer than the signals, never zero.
    const reloads = notify.messages.filter((m) => m.startsWith('RELOADING=1')).length - reloadingBefore;
    expect(reloads).toBeGreaterThan(0);
    expect(reloads).toBeLessThanOrEqual(100);
    expect(notify.messages[notify.messages.length - 1]).not.toMatch(/^RELOADING/);
    expect((await scrape(a.ns, METRICS)).get('tslvsd_config_last_reload_successful')).toBe(1);
  });

  it('a changed config applies exactly its diff: the new VIP arrives, the untouched instance keeps its state', async () => {
    const watch = new VipWatch([a, b], VIP1, 50);
    const vi1Before = pa.transitions().filter((t) => t.instance === 'VI_1').length;
    const lineCount = pa.lines.length;
    writeFileSync(confA, conf(150, [VIP2, VIP3]));
    const t0 = performance.now();
    pa.signal('SIGHUP');
    const applied = await pa.waitForLine((l) => l.msg === 'VRRP reload applied' && pa.lines.indexOf(l) >= lineCount, 10_000);
    expect(applied).toMatchObject({ restarted: [], reconfigured: ['eth0/vrid 52/inet'], kept: ['eth0/vrid 51/inet'] });
    expect(await waitFor(async () => (await addressesOf(a.ns, 'eth0')).includes(VIP3), { timeoutMs: 15_000, intervalMs: 100 })).toBe(true);
    expect(await pa.waitForState('MASTER', 15_000, 'VI_2')).toBe(true);
    await sleep(500);
    await watch.stop();
    expect(watch.samples.filter((s) => s.at >= t0).every((s) => s.holders.length === 1 && s.holders[0] === a.ns)).toBe(true);
    expect(pa.transitions().filter((t) => t.instance === 'VI_1').length).toBe(vi1Before);
    expect(await addressesOf(b.ns, 'eth0')).not.toContain(VIP3);
  });

  it('a broken config on reload keeps the running one; errors logged FILE:LINE; metric and status say it failed', async () => {
    writeFileSync(confA, conf(150, [VIP2, VIP3], true));
    const before = pa.transitions().length;
    const reloadingBefore = notify.messages.length;
    pa.signal('SIGHUP');
    const rejected = await pa.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('reload rejected'), 10_000);
    expect(rejected).toBeDefined();
    expect(pa.lines.some((l) => l.level === 'error' && typeof l.msg === 'string' && new RegExp(`^${confA}:\\d+(:\\d+)?: error: `).test(l.msg))).toBe(true);
    await notify.waitFor((m) => m.startsWith('READY=1'), 5000, reloadingBefore);
    expect((await scrape(a.ns, METRICS)).get('tslvsd_config_last_reload_successful')).toBe(0);
    const status = JSON.parse(await statusOf(files().statusA)) as DaemonStatus;
    expect(status.lastReload?.successful).toBe(false);
    expect(status.lastReload?.errors[0]).toMatch(new RegExp(`^${confA}:\\d+`));
    expect(status.vrrpInstances.map((i) => i.state)).toEqual(['MASTER', 'MASTER']);
    expect(await addressesOf(a.ns, 'eth0')).toEqual(expect.arrayContaining([VIP1, VIP2, VIP3]));
    expect(pa.transitions().length).toBe(before);
  });

  it('SIGUSR1 writes the JSON state dump to /run/tslvsd/tslvsd.state.json', async () => {
    const since = Date.now() - 1000;
    pa.signal('SIGUSR1');
    const file = '/run/tslvsd/tslvsd.state.json';
    expect(await waitFor(() => existsSync(file) && statSync(file).mtimeMs >= since, { timeoutMs: 5000 })).toBe(true);
    const dump = JSON.parse(readFileSync(file, 'utf8')) as DaemonStatus;
    expect(dump.configFile).toBe(confA);
    expect(dump.vrrpInstances).toHaveLength(2);
  });

  it('SIGTERM: STOPPING=1, VIPs released, pid file and status socket removed, exit 0; the backup takes over', async () => {
    const t0 = performance.now();
    expect(await pa.stop()).toBe(0);
    await notify.waitFor((m) => m.startsWith('STOPPING=1'));
    const addresses = await addressesOf(a.ns, 'eth0');
    for (const vip of [VIP1, VIP2, VIP3]) expect(addresses).not.toContain(vip);
    expect(existsSync(files().pidA)).toBe(false);
    expect(existsSync(files().statusA)).toBe(false);
    expect(await pb.waitForState('MASTER', 5000, 'VI_1')).toBe(true);
    const took = performance.now() - t0;
    console.log(`graceful stop → backup MASTER in ${took.toFixed(0)} ms`);
    expect(await pb.stop()).toBe(0);
  });
});
