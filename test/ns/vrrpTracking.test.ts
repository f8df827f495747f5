import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, mustRun, waitFor } from './helpers/exec.js';
import { createVethLab, destroyLab, hasAddress, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';
import { keepalivedConf } from './helpers/keepalivedConf.js';

// One tslvsd with a notify script, a track_script (weight 0: failure = FAULT) and a tracked interface.
const PREFIX = labPrefix('tr');
const VIP = '10.99.0.200';

describe.skipIf(!isRoot)('tracking and notify scripts', () => {
  let a: LabHost;
  let dir: string;
  let daemon: TslvsdProcess;
  let notifyLog: string;
  let healthFile: string;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    // (No dummy module on every kernel: a veth pair inside the namespace is the tracked link.)
    await mustRun('ip', ['-n', a.ns, 'link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1']);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk1', 'up']);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'up']);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-tr-'));
    notifyLog = path.join(dir, 'notify.log');
    healthFile = path.join(dir, 'healthy');
    writeFileSync(healthFile, '');
    const notify = path.join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$*" >> ${notifyLog}\n`);
    chmodSync(notify, 0o755);
    const conf = path.join(dir, 'a.conf');
    writeFileSync(
      conf,
      keepalivedConf({
        routerId: 'a',
        priority: 150,
        vips: [`${VIP}/24`],
        notify: [notify],
        trackInterfaces: ['trk0'],
        trackScript: { name: 'chk_file', argv: ['/usr/bin/test', '-e', healthFile], interval: 1, weight: 0, fall: 2, rise: 1 },
      }),
    );
    daemon = startTslvsd(a.ns, conf);
  });

  afterAll(async () => {
    await daemon?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const notified = () => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').trim().split('\n') : []);

  it('runs notify with INSTANCE name state priority on each transition', async () => {
    expect(await daemon.waitForState('MASTER', BOOT_MS)).toBe(true);
    expect(await waitFor(() => notified().includes('INSTANCE VI_1 MASTER 150'), { timeoutMs: 5000 })).toBe(true);
    // Until the track script has reported once the instance waits in FAULT (keepalived's "FAULT (init)").
    expect(notified()[0]).toBe('INSTANCE VI_1 FAULT 150');
    expect(daemon.transitions()[0]).toMatchObject({ from: 'INIT', to: 'FAULT', reason: expect.stringContaining('track_script chk_file (init)') });
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(true);
  });

  it('track_interface without weight: the tracked link going down means FAULT and the VIP is released', async () => {
    const from = daemon.lines.length;
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'down']);
    expect(await daemon.waitForLine((l) => l.event === 'transition' && l.to === 'FAULT' && String(l.reason).includes('track_interface trk0'), 5000, from)).toBeDefined();
    expect(await waitFor(async () => !(await hasAddress(a.ns, 'eth0', VIP)), { timeoutMs: 3000 })).toBe(true);
    expect(await waitFor(() => notified().includes('INSTANCE VI_1 FAULT 150'), { timeoutMs: 5000 })).toBe(true);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'trk0', 'up']);
    expect(await waitFor(() => daemon.state() === 'MASTER', { timeoutMs: 10_000 })).toBe(true);
    expect(await waitFor(() => hasAddress(a.ns, 'eth0', VIP), { timeoutMs: 3000 })).toBe(true);
  });

  it('track_script with weight 0: after `fall` failures the instance goes FAULT; after `rise` successes it recovers', async () => {
    const t0 = performance.now();
    const from = daemon.lines.length;
    rmSync(healthFile);
    const fault = await daemon.waitForLine((l) => l.event === 'transition' && l.to === 'FAULT' && String(l.reason).includes('track_script'), 6000, from);
    expect(fault).toBeDefined();
    // fall 2 at interval 1 s: not before ~1 s.
    expect(performance.now() - t0).toBeGreaterThan(900);
    expect(await waitFor(async () => !(await hasAddress(a.ns, 'eth0', VIP)), { timeoutMs: 3000 })).toBe(true);
    writeFileSync(healthFile, '');
    expect(await waitFor(() => daemon.state() === 'MASTER', { timeoutMs: 10_000 })).toBe(true);
  });

  it('graceful stop runs notify with STOP and leaves no VIP', async () => {
    expect(await daemon.stop()).toBe(0);
    expect(await waitFor(() => notified().includes('INSTANCE VI_1 STOP 150'), { timeoutMs: 5000 })).toBe(true);
    expect(await hasAddress(a.ns, 'eth0', VIP)).toBe(false);
  });
});
