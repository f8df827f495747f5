import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/daemon/statusSocket.js';
import { scrape } from '../daemon/nsDaemon.js';
import { flood } from './helpers/connectionFlood.js';
import { BOOT_MS, TslvsdProcess } from './helpers/daemons.js';
import { isRoot, sleep, tsxArgv } from './helpers/exec.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';
import { createVethLab, destroyLab, labPrefix, type LabHost } from './helpers/netns.js';
import { VipMonitor } from './helpers/vipMonitor.js';

/**
 * Issue 17: an unprivileged user opening > 1,100 idle connections to the metrics port exhausted the
 * daemon's descriptors (systemd's default LimitNOFILE soft limit is 1024): the track script could not
 * start, the instance went to FAULT and the master dropped its VIP. Here the master runs with 1024
 * descriptors (prlimit), tracks a script that touches a file every second, and `nobody` (setpriv, argv)
 * opens 1,200 idle connections to its metrics port and 1,200 to its status socket, while root opens
 * 1,200 more to the status socket. The master must stay MASTER with its VIP and its script running.
 *
 * keepalived 2.2.7 has no metrics listener and no status socket (its SNMP and D-Bus interfaces are off
 * unless configured), so there is nothing of it to flood here; printed as such.
 */
const PREFIX = labPrefix('lf');
const VIP = '10.93.0.200';
const ENTRY = path.resolve('test/daemon/cliEntry.ts');
const CONNECTIONS = 1200;
const HOLD_MS = 16_000;

describe.skipIf(!isRoot)('idle-connection flood against a master’s metrics port and status socket', () => {
  let a: LabHost;
  let dir: string;
  let daemon: TslvsdProcess;
  let watch: VipMonitor;
  let socketPath: string;
  let ranFile: string;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a] = await createVethLab(PREFIX, 'a', 'b', '10.93.0.1/24', '10.93.0.2/24');
    dir = mkdtempSync(path.join(tmpdir(), 'tv-lf-'));
    socketPath = path.join(dir, 'status.sock');
    ranFile = path.join(dir, 'ran');
    writeFileSync(ranFile, '');
    const conf = path.join(dir, 'a.conf');
    writeFileSync(
      conf,
      keepalivedConf({
        routerId: 'a',
        state: 'MASTER',
        priority: 150,
        vips: [`${VIP}/24`],
        trackScript: { name: 'chk', argv: ['/usr/bin/touch', ranFile], interval: 1, weight: 0 },
      }),
    );
    const [node, ...args] = tsxArgv(ENTRY, ['--config', conf, '--vrrp-only', '--metrics-listen', '10.93.0.1:9165', '--status-socket', socketPath]);
    // 1024 descriptors, as a unit with systemd's default soft limit (node does not raise a hard limit).
    const child = spawn('ip', ['netns', 'exec', a.ns, 'prlimit', '--nofile=1024:1024', '--', node!, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon = new TslvsdProcess(a.ns, child);
    watch = new VipMonitor([a], VIP);
    await watch.started();
  });

  afterAll(async () => {
    await watch?.stop();
    await daemon?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stays MASTER with its VIP and its track script while 3 × 1,200 idle connections come in', async () => {
    expect(await daemon.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await watch.heldBy(a.ns, 0, 5000)).toBeDefined();
    await sleep(1000);
    const transitionsBefore = daemon.transitions().length;
    const from = performance.now();
    const ranTimes: number[] = [];
    const sampler = setInterval(() => ranTimes.push(statSync(ranFile).mtimeMs), 500);
    const [metrics, statusNobody, statusRoot] = await Promise.all([
      flood(a.ns, { tcp: { host: '10.93.0.1', port: 9165 } }, CONNECTIONS, HOLD_MS, true),
      flood(a.ns, { unix: socketPath }, CONNECTIONS, HOLD_MS, true),
      flood(a.ns, { unix: socketPath }, CONNECTIONS, HOLD_MS, false),
    ]);
    clearInterval(sampler);
    const to = performance.now();
    console.log(
      [
        `metrics port, ${CONNECTIONS} from nobody: ${JSON.stringify(metrics)}`,
        `status socket, ${CONNECTIONS} from nobody: ${JSON.stringify(statusNobody)}`,
        `status socket, ${CONNECTIONS} from root: ${JSON.stringify(statusRoot)}`,
        'keepalived 2.2.7: no metrics listener and no status socket — nothing to flood (not applicable)',
      ].join('\n'),
    );

    // Metrics: all but the cap closed at once; the rest closed by the idle timeout (10 s).
    expect(metrics.opened).toBeGreaterThan(1100);
    expect(metrics.openAt5s).toBeLessThanOrEqual(32);
    expect(metrics.closedWithin3s).toBeGreaterThanOrEqual(metrics.opened - 32 - 64);
    // The status socket is root's (0660 in a 0700 directory): nobody cannot even connect.
    expect(statusNobody.opened).toBe(0);
    expect(statusNobody.errors.EACCES).toBe(CONNECTIONS);
    // Root's connections each get their document and are closed; none is left holding a descriptor.
    // (A UNIX socket's connect fails with EAGAIN while its backlog is full: the client's side of it.)
    expect(statusRoot.opened + (statusRoot.errors.EAGAIN ?? 0)).toBe(CONNECTIONS);
    expect(statusRoot.opened).toBeGreaterThan(500);
    expect(statusRoot.closedWithin3s).toBeGreaterThanOrEqual(statusRoot.opened - 32);
    expect(statusRoot.openAt5s).toBeLessThanOrEqual(32);

    // The master did not move, kept its VIP the whole time, and its script kept running every second.
    expect(daemon.transitions().slice(transitionsBefore)).toEqual([]);
    expect(daemon.state()).toBe('MASTER');
    expect(watch.fractionHeldOnlyBy(a.ns, from, to)).toBe(1);
    const runs = new Set(ranTimes).size;
    expect(runs).toBeGreaterThanOrEqual(Math.floor(HOLD_MS / 1000) - 4);
    expect(daemon.lines.some((l) => l.event === 'track_script_result' && l.ok === false)).toBe(false);

    // Afterwards both listeners answer, and the flood is counted.
    const series = await scrape(a.ns, 'http://10.93.0.1:9165/metrics');
    const rejected = series.get('tslvsd_listener_connections_rejected_total{listener="metrics"}') ?? 0;
    console.log(`metrics rejected ${rejected}, timed out ${series.get('tslvsd_listener_connections_timed_out_total{listener="metrics"}')}, status rejected ${series.get('tslvsd_listener_connections_rejected_total{listener="status"}')}; track script ran ${runs} times in ${((to - from) / 1000).toFixed(1)} s`);
    expect(rejected).toBeGreaterThanOrEqual(metrics.opened - 32 - metrics.openAt5s);
    expect(series.get('keepalived_script_status{name="chk"}')).toBe(1);
    expect((await readStatus(socketPath)).vrrpInstances[0]?.state).toBe('MASTER');
  }, BOOT_MS + HOLD_MS + 40_000);
});
