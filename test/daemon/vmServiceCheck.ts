/**
 * The whole daemon against a real IPVS kernel, run inside the project's VM:
 *
 *   bash scripts/vm/run.sh node --import tsx test/daemon/vmServiceCheck.ts
 *
 * A director namespace runs tslvsd (VRRP + TCP_CHECK health checks + IPVS), a real-server namespace runs
 * busybox httpd, and the dead one (.11) has no host. Checks, judged by ipvsadm and the daemon's own
 * status: the table after start; 100 SIGHUPs in 10 s change nothing in the table and cause no IPVS
 * operation; the real server's death removes it; SIGTERM removes the service. Prints `tslvsd status` and
 * exits non-zero on the first failed check.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatStatusText, type DaemonStatus } from '../../src/daemon/status.js';
import { readStatus } from '../../src/daemon/statusSocket.js';
import { startDaemon, scrape } from './nsDaemon.js';

// Status is read in-process (node:net): spawning a second node per look is far too slow under TCG.
const statusOf = async (socket: string, json = true): Promise<string> => {
  const status: DaemonStatus = await readStatus(socket, 30_000);
  return json ? JSON.stringify(status) : formatStatusText(status);
};

const DIR = '/tmp/td-vm';
const D = 'td-vm-d';
const R = 'td-vm-r';
const run = (file: string, args: string[]): string => {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
const check = (ok: boolean, what: string): void => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};
const table = (): string => run('ip', ['netns', 'exec', D, 'ipvsadm', '-Ln']);

for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
rmSync(DIR, { recursive: true, force: true });
mkdirSync(path.join(DIR, 'www'), { recursive: true });
writeFileSync(path.join(DIR, 'www', 'index.html'), 'rs1\n');
run('ip', ['netns', 'add', D]);
run('ip', ['netns', 'add', R]);
run('ip', ['link', 'add', 'td-vm-dx', 'type', 'veth', 'peer', 'name', 'td-vm-rx']);
run('ip', ['link', 'set', 'td-vm-dx', 'netns', D]);
run('ip', ['link', 'set', 'td-vm-rx', 'netns', R]);
for (const [ns, dev, addr] of [
  [D, 'td-vm-dx', '10.95.0.1/24'],
  [R, 'td-vm-rx', '10.95.0.10/24'],
] as const) {
  run('ip', ['-n', ns, 'link', 'set', dev, 'name', 'eth0']);
  run('ip', ['-n', ns, 'addr', 'add', addr, 'dev', 'eth0']);
  run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}
const httpd = spawn('ip', ['netns', 'exec', R, 'busybox', 'httpd', '-f', '-p', '80', '-h', path.join(DIR, 'www')], { stdio: 'ignore' });

const conf = path.join(DIR, 'tslvsd.conf');
writeFileSync(
  conf,
  `vrrp_instance VI_1 {
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
  real_server 10.95.0.10 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.95.0.11 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`,
);
const sock = path.join(DIR, 'status.sock');
const daemon = startDaemon(D, ['--config', conf, '--status-socket', sock, '--pid-file', path.join(DIR, 'tslvsd.pid')]);
try {
  let up = false;
  for (let i = 0; i < 120 && !up; i++) {
    await sleep(1000);
    try {
      const s = JSON.parse(await statusOf(sock)) as { vrrpInstances: { state: string }[]; virtualServers: { realServers: { address: string; up: boolean }[] }[] };
      const rs = s.virtualServers[0]?.realServers ?? [];
      up = s.vrrpInstances[0]?.state === 'MASTER' && rs.some((r) => r.address === '10.95.0.10' && r.up) && rs.some((r) => r.address === '10.95.0.11' && !r.up);
    } catch {
      /* not up yet */
    }
  }
  check(up, 'VI_1 MASTER, 10.95.0.10 up, 10.95.0.11 down');
  if (!up) console.log(daemon.lines.slice(-30).map((l) => JSON.stringify(l)).join('\n'), daemon.stderr);
  console.log(await statusOf(sock, false));
  const before = table();
  console.log(before);
  check(/TCP\s+10\.95\.0\.100:80 rr/.test(before) && before.includes('10.95.0.10:80') && !before.includes('10.95.0.11:80'), 'ipvsadm: the service with only the live real server');
  const metrics = await scrape(D, 'http://127.0.0.1:9165/metrics');
  check(metrics.get('tslvsd_real_server_up{virtual_server="10.95.0.100:80/TCP",real_server="10.95.0.10:80"}') === 1, 'metric tslvsd_real_server_up for .10 is 1');
  check([...metrics.keys()].some((k) => k.startsWith('tslvsd_ipvs_service_connections_total{')), 'IPVS per-service counters are exported');

  const linesBefore = daemon.lines.length;
  for (let i = 0; i < 100; i++) {
    daemon.signal('SIGHUP');
    await sleep(100);
  }
  await sleep(3000);
  const after = table();
  const newLines = daemon.lines.slice(linesBefore);
  check(after === before, '100 SIGHUPs in 10 s: the IPVS table is unchanged');
  check(!newLines.some((l) => l.msg === 'IPVS reload applied' || l.part === 'ipvs' && l.level !== 'info'), '100 SIGHUPs: no IPVS operation, no IPVS error');
  check(!newLines.some((l) => l.event === 'transition'), '100 SIGHUPs: no transition');
  check(newLines.some((l) => l.msg === 'reload: configuration unchanged'), 'the reloads ran (configuration unchanged)');

  httpd.kill('SIGKILL');
  spawnSync('ip', ['netns', 'exec', R, 'pkill', '-x', 'busybox']);
  let removed = false;
  for (let i = 0; i < 20 && !removed; i++) {
    await sleep(500);
    removed = !table().includes('10.95.0.10:80');
  }
  check(removed, 'real server killed: removed from the table');
  check(daemon.lines.some((l) => l.event === 'transition' && l.kind === 'real_server' && l.to === 'DOWN'), 'one transition line for the real server going DOWN');

  const code = await daemon.stop(20_000);
  check(code === 0, 'SIGTERM: exit 0');
  check(!table().includes('10.95.0.100:80'), 'SIGTERM: our service removed from the kernel');
} finally {
  await daemon.crash();
  httpd.kill('SIGKILL');
  for (const ns of [D, R]) spawnSync('ip', ['netns', 'del', ns]);
}
console.log(failures === 0 ? 'vmServiceCheck: all checks passed' : `vmServiceCheck: ${failures} check(s) FAILED`);
process.exit(failures === 0 ? 0 : 1);
