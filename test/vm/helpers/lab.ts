/**
 * A minimal traffic lab inside the VM: one real server in a network namespace behind a veth (IPv4 and IPv6,
 * busybox httpd on port 80), the VM as its gateway, and virtual addresses on the VM's loopback so a local
 * client (curl) goes through IPVS in NAT mode. Every name carries the prefix of the suite that made it.
 */
import { execFileSync } from 'node:child_process';
import { spawn, type ChildProcess } from 'node:child_process';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface TrafficLab {
  /** Real server addresses. */
  realServer4: string;
  realServer6: string;
  /** Virtual addresses on the VM's loopback. */
  vip4: string;
  vip6: string;
  /** One HTTP GET through a VIP; resolves to the HTTP status (0 when it failed). */
  get(vip: string, port?: number): number;
  close(): void;
}

export function startTrafficLab(prefix: string, subnet: number): TrafficLab {
  const ns = `${prefix}-rs`;
  const link = `${prefix}-d`.slice(0, 15);
  const lab = {
    realServer4: `10.${subnet}.1.2`,
    realServer6: `fd00:${subnet}:1::2`,
    vip4: `10.${subnet}.0.1`,
    vip6: `fd00:${subnet}::1`,
  };
  let server: ChildProcess | undefined;
  const close = (): void => {
    server?.kill('SIGKILL');
    for (const args of [['netns', 'del', ns], ['link', 'del', link], ['addr', 'del', `${lab.vip4}/32`, 'dev', 'lo'], ['-6', 'addr', 'del', `${lab.vip6}/128`, 'dev', 'lo']]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'rs0', 'netns', ns);
    ip('addr', 'add', `10.${subnet}.1.1/24`, 'dev', link);
    ip('-6', 'addr', 'add', `fd00:${subnet}:1::1/64`, 'dev', link, 'nodad');
    ip('link', 'set', link, 'up');
    ip('-n', ns, 'addr', 'add', `${lab.realServer4}/24`, 'dev', 'rs0');
    ip('-n', ns, '-6', 'addr', 'add', `${lab.realServer6}/64`, 'dev', 'rs0', 'nodad');
    ip('-n', ns, 'link', 'set', 'rs0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', `10.${subnet}.1.1`);
    ip('-n', ns, '-6', 'route', 'add', 'default', 'via', `fd00:${subnet}:1::1`);
    ip('addr', 'add', `${lab.vip4}/32`, 'dev', 'lo');
    ip('-6', 'addr', 'add', `${lab.vip6}/128`, 'dev', 'lo');
    server = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'], { stdio: 'ignore' });
  } catch (e) {
    close();
    throw e;
  }
  const get = (vip: string, port = 80): number => {
    const host = vip.includes(':') ? `[${vip}]` : vip;
    try {
      return Number(execFileSync('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${host}:${port}/hostname`], { encoding: 'utf8' }));
    } catch {
      return 0;
    }
  };
  // The server is ready when it answers directly (not through IPVS).
  for (let i = 0; i < 50 && get(lab.realServer4) !== 200; i++) execFileSync('sleep', ['0.1']);
  return { ...lab, get, close };
}
