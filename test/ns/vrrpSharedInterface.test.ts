import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, mustRun, sleep } from './helpers/exec.js';
import { createVethLab, destroyLab, nsMustRun, type LabHost, labPrefix } from './helpers/netns.js';
import { BOOT_MS, startTslvsd, type TslvsdProcess } from './helpers/daemons.js';

// One tslvsd, three vrrp_instances: VI_1 and VI_2 on eth0, VI_3 on sh0 (a second veth inside the
// namespace). All three track one vrrp_script whose script appends a line to a file on every run.
//
// What "one set of sockets per interface" means (native/tslvsd_native.cc): per interface and family, one
// transport of two protocol-112 receive sockets (the priority lane and the rest; the latter also sends for
// IPv6) plus, for IPv4, one IPPROTO_RAW send socket (protocol 255, not 112). So the IPv4 instances here
// hold 2 protocol-112 sockets per interface, whatever the number of instances on it: 4 in all. (Neither
// /proc/net/raw nor ss shows the device a raw socket is bound to; but a socket set serves one interface,
// so each of the two interfaces holds at least one pair, and 4 in all means exactly one pair each. One set
// per instance, as before, was 6.)
const PREFIX = labPrefix('si');
const INTERVALS = 6;

/** Protocol-112 raw sockets of the namespace: /proc/net/raw lines whose local port (the protocol) is 0070. */
async function vrrpRawSockets(ns: string): Promise<string[]> {
  const table = await nsMustRun(ns, 'cat', ['/proc/net/raw']);
  return table
    .split('\n')
    .slice(1)
    .filter((line) => /^\s*\d+:\s+[0-9A-F]{8}:0070\s/i.test(line));
}

describe.skipIf(!isRoot)('instances sharing an interface share its sockets and their scripts', () => {
  let a: LabHost;
  let dir: string;
  let runsFile: string;
  let daemon: TslvsdProcess;

  beforeAll(async () => {
    await destroyLab(PREFIX);
    [a] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
    await mustRun('ip', ['-n', a.ns, 'link', 'add', 'sh0', 'type', 'veth', 'peer', 'name', 'sh1']);
    await mustRun('ip', ['-n', a.ns, 'addr', 'add', '10.98.0.1/24', 'dev', 'sh0']);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'sh1', 'up']);
    await mustRun('ip', ['-n', a.ns, 'link', 'set', 'sh0', 'up']);
    dir = mkdtempSync(path.join(tmpdir(), 'tv-si-'));
    runsFile = path.join(dir, 'runs.log');
    const script = path.join(dir, 'count.sh');
    writeFileSync(script, `#!/bin/sh\necho run >> ${runsFile}\n`);
    chmodSync(script, 0o755);
    const instance = (name: string, dev: string, vrid: number, vip: string) => [
      `vrrp_instance ${name} {`,
      '  state BACKUP',
      `  interface ${dev}`,
      `  virtual_router_id ${vrid}`,
      '  priority 150',
      '  advert_int 1',
      `  virtual_ipaddress {`,
      `    ${vip}`,
      '  }',
      '  track_script {',
      '    chk_shared',
      '  }',
      '}',
    ];
    const conf = path.join(dir, 'a.conf');
    writeFileSync(
      conf,
      [
        'global_defs {',
        '  router_id a',
        '  script_user root',
        '  enable_script_security',
        '}',
        'vrrp_script chk_shared {',
        `  script "${script}"`,
        '  interval 1',
        '  weight 0',
        '}',
        ...instance('VI_1', a.dev, 51, '10.99.0.201/24'),
        ...instance('VI_2', a.dev, 52, '10.99.0.202/24'),
        ...instance('VI_3', 'sh0', 53, '10.98.0.203/24'),
      ].join('\n') + '\n',
    );
    daemon = startTslvsd(a.ns, conf);
  });

  afterAll(async () => {
    await daemon?.crash();
    await destroyLab(PREFIX);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const runs = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter((l) => l === 'run').length : 0);

  it('holds one set of VRRP sockets per interface: 2 protocol-112 sockets each, not one set per instance', async () => {
    for (const name of ['VI_1', 'VI_2', 'VI_3']) expect(await daemon.waitForState('MASTER', BOOT_MS, name)).toBe(true);
    const sockets = await vrrpRawSockets(a.ns);
    console.log(`protocol-112 raw sockets: ${sockets.length} in /proc/net/raw (3 instances on 2 interfaces)`);
    expect(sockets.length).toBe(4);
  });

  it(`runs the vrrp_script tracked by all three once per interval (${INTERVALS} intervals)`, async () => {
    const before = runs();
    const t0 = performance.now();
    await sleep(INTERVALS * 1000);
    const counted = runs() - before;
    const seconds = (performance.now() - t0) / 1000;
    console.log(`vrrp_script runs: ${counted} in ${seconds.toFixed(1)} s (interval 1 s, tracked by 3 instances)`);
    // Once per interval: about INTERVALS runs; one run per tracking instance would be about 3 × INTERVALS.
    expect(counted).toBeGreaterThanOrEqual(INTERVALS / 2);
    expect(counted).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });
});
