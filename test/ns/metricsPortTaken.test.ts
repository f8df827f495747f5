import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/daemon/status.js';
import { scrape, startDaemon, statusOf } from '../daemon/nsDaemon.js';
import type { TslvsdProcess } from './helpers/daemons.js';
import { isRoot, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, labPrefix, type LabHost } from './helpers/netns.js';

// The metrics port is taken when tslvsd starts (another process listens on it): the daemon must still come
// up MASTER with its VIP, log the failure once, show it in `tslvsd status`, and bind the port by itself once
// the other process lets it go.
const PREFIX = labPrefix('mp');
const LISTEN = '10.97.0.1:9165';

describe.skipIf(!isRoot)('a taken metrics port does not stop the daemon', () => {
  let a: LabHost;
  let dir: string;
  let daemon: TslvsdProcess | undefined;
  let holder: ChildProcess | undefined;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a] = await createVethLab(PREFIX, 'a', 'b', '10.97.0.1/24', '10.97.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), PREFIX));
    writeFileSync(
      path.join(dir, 'a.conf'),
      `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 62
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.97.0.200/24
  }
}
`,
    );
    // The squatter: a plain listener on the daemon's metrics address.
    holder = spawn('ip', ['netns', 'exec', a.ns, 'python3', '-c', "import socket,time\ns=socket.socket()\ns.bind(('10.97.0.1',9165))\ns.listen()\nprint('bound',flush=True)\ntime.sleep(600)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.once('data', () => resolve());
      holder!.once('exit', (code) => reject(new Error(`port holder exited ${code}`)));
    });
  });

  afterAll(async () => {
    await daemon?.stop();
    holder?.kill('SIGKILL');
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs MASTER, logs the failure, shows it in status; binds once the port is free', async () => {
    const sock = path.join(dir, 'a.sock');
    daemon = startDaemon(a.ns, ['--config', path.join(dir, 'a.conf'), '--metrics-listen', LISTEN, '--status-socket', sock]);
    expect(await daemon.waitForState('MASTER', 60_000), daemon.stderr).toBe(true);
    expect(daemon.running).toBe(true);
    const warning = daemon.lines.find((l) => l.event === 'metrics_listener' && l.level === 'warn');
    expect(warning, JSON.stringify(daemon.lines.slice(0, 10))).toBeDefined();
    expect(String(warning!.err)).toMatch(/EADDRINUSE/);

    const before = JSON.parse(await statusOf(sock)) as DaemonStatus;
    expect(before.metricsListener).toMatchObject({ listen: LISTEN, state: 'retrying' });
    expect(before.metricsListener!.error).toMatch(/EADDRINUSE/);
    expect(await statusOf(sock, false)).toMatch(/metrics listener 10\.97\.0\.1:9165: NOT UP \(.*EADDRINUSE/);

    const exited = new Promise((r) => holder!.once('exit', r));
    holder!.kill('SIGKILL');
    await exited;
    // The backoff is capped at 30 s: the port is bound within that (plus slack for a loaded machine).
    const series = await waitFor(async () => (await scrape(a.ns, `http://${LISTEN}/metrics`).catch(() => undefined)), { timeoutMs: 60_000, intervalMs: 500 });
    expect(series?.get('keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="62",ip_address="10.97.0.200/24"}')).toBe(2);
    const after = JSON.parse(await statusOf(sock)) as DaemonStatus;
    expect(after.metricsListener).toMatchObject({ listen: LISTEN, state: 'up' });
    expect(daemon.lines.some((l) => l.event === 'metrics_listener' && /after \d+ failed attempt/.test(String(l.msg)))).toBe(true);
    expect(daemon.state('VI_1')).toBe('MASTER');
  });
});
