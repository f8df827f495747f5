/**
 * issue 14: `virtual_server group G` with `protocol TCP` next to one with `protocol UDP` — two IPVS
 * services — keeps both checkers and both services, on a real IPVS kernel, judged by `ipvsadm -Ln` and by
 * what each listener of the real server accepted. Before, both were `group:G` on the health side: one
 * checker stopped after its first run and the TCP service followed the UDP one's health. One daemon
 * (`--check-only`, no VRRP needed), a director namespace and a real-server namespace with a TCP and a UDP
 * listener on 10.96.0.10:53, each counting what it got in a file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../daemon/nsDaemon.js';
import { TslvsdProcess } from '../ns/helpers/daemons.js';
import { hasIpvs, sh } from './helpers/kernel.js';

const DIR = '/tmp/tv-gp';
/** The daemon transpiled file by file from src/ (as test/vm/daemon-service.test.ts does: tsx is too slow under TCG). */
const BUILD = path.resolve('.tv-gp-build');
const ENTRY = path.join(BUILD, 'tv-gp-entry.js');
const D = 'tv-gp-d';
const R = 'tv-gp-r';
const RS = '10.96.0.10';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const table = (): string => sh('ip', 'netns', 'exec', D, 'ipvsadm', '-Ln');

/** `ipvsadm -Ln` as "PROTO ADDR:PORT" → its destinations ("ADDR:PORT"). */
function services(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of table().split('\n')) {
    const s = /^(TCP|UDP)\s+(\S+)\s/.exec(line);
    const d = /^\s+->\s+(\d\S+)\s/.exec(line);
    if (s) out.set(`${s[1]} ${s[2]}`, (current = []));
    else if (d && current) current.push(d[1]!);
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

const CONFIG = `virtual_server_group G {
  10.96.0.100 53
}
virtual_server group G {
  protocol TCP
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  real_server ${RS} 53 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
virtual_server group G {
  protocol UDP
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  real_server ${RS} 53 {
    UDP_CHECK {
      connect_timeout 3
      retry 1
      payload 6869
      require_reply
    }
  }
}
`;

/** A listener that counts each TCP connection accepted / UDP datagram received (and answers it). */
const LISTENER = `
const [mode, host, out] = process.argv.slice(1);
let n = 0;
const count = () => require('node:fs').writeFileSync(out, String(++n));
if (mode === 'tcp') require('node:net').createServer((s) => { count(); s.destroy(); }).listen(53, host);
else {
  const u = require('node:dgram').createSocket('udp4');
  u.on('message', (m, r) => { count(); u.send(m, r.port, r.address); });
  u.bind(53, host);
}
`;

const listeners = new Map<string, ChildProcess>();
const countFile = (mode: string): string => path.join(DIR, `${mode}.count`);
const accepted = (mode: string): number => (existsSync(countFile(mode)) ? Number(readFileSync(countFile(mode), 'utf8')) : 0);
function startListener(mode: 'tcp' | 'udp'): void {
  listeners.set(mode, spawn('ip', ['netns', 'exec', R, process.execPath, '-e', LISTENER, mode, RS, countFile(mode)], { stdio: 'ignore' }));
}
async function stopListener(mode: 'tcp' | 'udp'): Promise<void> {
  const child = listeners.get(mode);
  listeners.delete(mode);
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!hasIpvs)('virtual_server group G over TCP and over UDP on a real IPVS kernel', () => {
  let daemon: TslvsdProcess | undefined;

  beforeAll(async () => {
    rmSync(BUILD, { recursive: true, force: true });
    const { build } = await import('esbuild');
    await build({ entryPoints: ['src/**/*.ts'], outbase: 'src', outdir: BUILD, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
    writeFileSync(ENTRY, "import { main } from './cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    sh('ip', 'netns', 'add', D);
    sh('ip', 'netns', 'add', R);
    sh('ip', 'link', 'add', 'tv-gp-dx', 'type', 'veth', 'peer', 'name', 'tv-gp-rx');
    sh('ip', 'link', 'set', 'tv-gp-dx', 'netns', D);
    sh('ip', 'link', 'set', 'tv-gp-rx', 'netns', R);
    for (const [ns, dev, addr] of [[D, 'tv-gp-dx', '10.96.0.1/24'], [R, 'tv-gp-rx', `${RS}/24`]] as const) {
      sh('ip', '-n', ns, 'link', 'set', dev, 'name', 'eth0');
      sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    startListener('tcp');
    startListener('udp');
    writeFileSync(path.join(DIR, 'tslvsd.conf'), CONFIG);
  });

  afterAll(async () => {
    await daemon?.crash();
    await stopListener('tcp');
    await stopListener('udp');
    for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    rmSync(BUILD, { recursive: true, force: true });
  });

  it('two services, each with the real server, and both checkers keep running', { timeout: 700_000 }, async () => {
    const child = spawn('ip', ['netns', 'exec', D, process.execPath, ENTRY, '--config', path.join(DIR, 'tslvsd.conf'), '--status-socket', path.join(DIR, 'status.sock'), '--check-only'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon = new TslvsdProcess(D, child);
    const both = (): boolean => {
      const s = services();
      return s.get('TCP 10.96.0.100:53')?.includes(`${RS}:53`) === true && s.get('UDP 10.96.0.100:53')?.includes(`${RS}:53`) === true;
    };
    // The table comes first (real servers start up, as keepalived's); then the checker worker, which loads
    // slowly under emulation, sends its first checks. A hung VM file is bounded by the harness.
    expect(await until(() => both() && accepted('tcp') > 0 && accepted('udp') > 0, 600_000, 1000),
      `no table or no checks: tcp ${accepted('tcp')} udp ${accepted('udp')} ${daemon.stderr}\n${table()}`).toBe(true);
    // delay_loop 1: over 10 s each checker connects / sends about ten times; one that stopped after its
    // first run would add none.
    const before = { tcp: accepted('tcp'), udp: accepted('udp') };
    await sleep(10_000);
    const grew = { tcp: accepted('tcp') - before.tcp, udp: accepted('udp') - before.udp };
    expect(grew.tcp, JSON.stringify(grew)).toBeGreaterThanOrEqual(4);
    expect(grew.udp, JSON.stringify(grew)).toBeGreaterThanOrEqual(4);
    expect(both(), table()).toBe(true);
    const metrics = await scrape(D, 'http://127.0.0.1:9165/metrics');
    expect(metrics.get(`tslvsd_real_server_up{virtual_server="group:G/TCP",real_server="${RS}:53"}`)).toBe(1);
    expect(metrics.get(`tslvsd_real_server_up{virtual_server="group:G/UDP",real_server="${RS}:53"}`)).toBe(1);
  });

  it('the TCP listener gone: only the TCP service loses the real server; the UDP checker goes on', { timeout: 180_000 }, async () => {
    const from = daemon!.lines.length;
    await stopListener('tcp');
    const transitions = (): string => JSON.stringify(daemon!.lines.filter((l) => l.event === 'transition'));
    expect(await until(() => services().get('TCP 10.96.0.100:53')?.length === 0, 90_000), `${table()}\n${transitions()}`).toBe(true);
    const udpBefore = accepted('udp');
    await sleep(5_000);
    expect(services().get('TCP 10.96.0.100:53'), table()).toEqual([]);
    expect(services().get('UDP 10.96.0.100:53'), table()).toEqual([`${RS}:53`]);
    expect(accepted('udp') - udpBefore).toBeGreaterThanOrEqual(2);
    // The TCP destination's DOWN line, by its own key (the UDP one, on a machine this loaded, may time
    // out now and then; its table line above is the judge of its health).
    const down = daemon!.lines.slice(from).filter((l) => l.event === 'transition' && l.to === 'DOWN').map((l) => l.instance);
    expect(down).toContain(`group:G/TCP/${RS}:53`);
  });

  it('the TCP listener back: the TCP service has it again; SIGTERM removes both services', { timeout: 180_000 }, async () => {
    startListener('tcp');
    expect(await until(() => services().get('TCP 10.96.0.100:53')?.includes(`${RS}:53`) === true, 90_000), table()).toBe(true);
    expect(services().get('UDP 10.96.0.100:53')).toEqual([`${RS}:53`]);
    expect(await daemon!.stop(30_000)).toBe(0);
    daemon = undefined;
    expect(table()).not.toContain('10.96.0.100:53');
  });
});
