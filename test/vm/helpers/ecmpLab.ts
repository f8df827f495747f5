/**
 * The BGP + ECMP lab of issue 11 inside the VM: a router namespace running FRR (zebra, bgpd, bfdd) with the
 * shipped etc/frr/router-frr.conf, two LVS-DR directors each running BIRD with the shipped
 * etc/bird/tslvsd-bird.conf, two DR real servers (VIPs on lo, arp_ignore/arp_announce) running the lab's
 * line echo server, and a client namespace behind the router. One LAN (a bridge in the VM's own namespace)
 * joins router, directors and real servers; the client has its own link to the router.
 *
 *   client 10.71.0.2 ── 10.71.0.1 router 192.0.2.1 ──┬── director d1 192.0.2.11 (BIRD, IPVS mh)
 *                                                     ├── director d2 192.0.2.12 (BIRD, IPVS mh)
 *                                                     ├── rs1 192.0.2.21 ─┐ VIPs on lo, answer the client
 *                                                     └── rs2 192.0.2.22 ─┘ directly through the router
 *
 * The recipes are used as shipped but for the addresses they name (director router id, logs to files).
 * Every name carries the prefix `ecmp-`; close() removes them all. Programs run by argv, never a shell.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../lab/paths.js';

export const ROUTER = '192.0.2.1';
export const DIRECTORS = { d1: '192.0.2.11', d2: '192.0.2.12' } as const;
export const REAL_SERVERS = { rs1: '192.0.2.21', rs2: '192.0.2.22' } as const;
export const VIPS = ['198.51.100.10', '198.51.100.20'] as const;
export const CLIENT = '10.71.0.2';
/**
 * BFD and BGP timers the lab runs the recipes with. The recipes ship 200 ms × 3 and 3 s / 9 s; one emulated
 * CPU on a loaded 2-core host stalls for longer than 600 ms (a first run at the shipped values flapped every
 * session and moved flows back and forth), so the lab stretches them, keeping BFD's detection far below the
 * hold time: a director gone within the BFD bound cannot have been taken out by the hold timer.
 */
export const LAB_TIMERS = { bfdIntervalMs: 1000, bfdMultiplier: 3, keepaliveS: 10, holdS: 30 };

/** A recipe's text with the lab's timers in place of the shipped ones (both daemons' spellings). */
export function withLabTimers(conf: string): string {
  const t = LAB_TIMERS;
  return conf
    .replace(/min rx interval \d+ ms;/, `min rx interval ${t.bfdIntervalMs} ms;`)
    .replace(/min tx interval \d+ ms;/, `min tx interval ${t.bfdIntervalMs} ms;`)
    .replace(/multiplier \d+;/, `multiplier ${t.bfdMultiplier};`)
    .replace(/hold time \d+;/, `hold time ${t.holdS};`)
    .replace(/keepalive time \d+;/, `keepalive time ${t.keepaliveS};`)
    .replace(/receive-interval \d+/, `receive-interval ${t.bfdIntervalMs}`)
    .replace(/transmit-interval \d+/, `transmit-interval ${t.bfdIntervalMs}`)
    .replace(/detect-multiplier \d+/, `detect-multiplier ${t.bfdMultiplier}`)
    .replace(/timers bgp \d+ \d+/, `timers bgp ${t.keepaliveS} ${t.holdS}`);
}
export const ECHO_PORT = 7;
export type DirectorName = keyof typeof DIRECTORS;
/** tslvsd's check timers in the lab: a real server is judged dead within delay_loop × (retry + 1) s. */
export const TSLVSD_TIMINGS = { delayLoop: 1, connectTimeout: 1, retry: 1, delayBeforeRetry: 1, drain: 2 };

const NS = { router: 'ecmp-rt', client: 'ecmp-cl', d1: 'ecmp-d1', d2: 'ecmp-d2', rs1: 'ecmp-rs1', rs2: 'ecmp-rs2' } as const;
export const netnsOf = NS;
const BRIDGE = 'ecmp-br';
const FRR_DAEMONS = ['zebra', 'bfdd', 'bgpd'] as const;

export function sh(argv: readonly string[], opts: { allowFail?: boolean } = {}): string {
  const [file, ...args] = argv;
  try {
    return execFileSync(file as string, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    if (opts.allowFail) return '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}
export const inNs = (ns: string, argv: readonly string[], opts: { allowFail?: boolean } = {}): string => sh(['ip', 'netns', 'exec', ns, ...argv], opts);
const sysctl = (ns: string, key: string, value: string | number): void => {
  inNs(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
};

export interface Daemon {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

export class EcmpLab {
  readonly workDir: string;
  private readonly daemons: Daemon[] = [];
  private birdPids = new Map<DirectorName, number>();
  private tslvsdDaemons = new Map<DirectorName, Daemon>();

  constructor() {
    this.workDir = mkdtempSync('/tmp/tslvsd-ecmp-');
    chmodSync(this.workDir, 0o755); // the FRR daemons (user frr) reach their sockets below it
  }

  private spawnIn(ns: string, name: string, argv: readonly string[]): Daemon {
    const fd = openSync(join(this.workDir, `${name}.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', fd, fd], cwd: REPO_ROOT });
    closeSync(fd);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const d = { name, child, exited };
    this.daemons.push(d);
    return d;
  }

  /** Lines of a log matching `re` (e.g. BFD or BGP sessions going down: flaps). */
  count(name: string, re: RegExp): number {
    try {
      return readFileSync(join(this.workDir, `${name}.log`), 'utf8').split('\n').filter((l) => re.test(l)).length;
    } catch {
      return -1;
    }
  }

  log(name: string): string {
    try {
      return readFileSync(join(this.workDir, `${name}.log`), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return `(no ${name} log)`;
    }
  }

  build(): void {
    sh(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
    sh(['ip', 'link', 'set', BRIDGE, 'up']);
    const lan: Array<[string, string]> = [[NS.router, ROUTER], [NS.d1, DIRECTORS.d1], [NS.d2, DIRECTORS.d2], [NS.rs1, REAL_SERVERS.rs1], [NS.rs2, REAL_SERVERS.rs2]];
    for (const ns of Object.values(NS)) {
      sh(['ip', 'netns', 'add', ns]);
      inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    for (const [ns, address] of lan) {
      const host = ns.slice(0, 15);
      sh(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'lan', 'netns', ns]);
      sh(['ip', 'link', 'set', host, 'master', BRIDGE, 'up']);
      inNs(ns, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'lan']);
      inNs(ns, ['ip', 'link', 'set', 'lan', 'up']);
      if (ns !== NS.router) inNs(ns, ['ip', 'route', 'add', 'default', 'via', ROUTER]);
    }
    sh(['ip', 'link', 'add', 'ecmp-cl0', 'netns', NS.client, 'type', 'veth', 'peer', 'name', 'cli', 'netns', NS.router]);
    inNs(NS.client, ['ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'ecmp-cl0']);
    inNs(NS.client, ['ip', 'link', 'set', 'ecmp-cl0', 'up']);
    inNs(NS.client, ['ip', 'route', 'add', 'default', 'via', '10.71.0.1']);
    // The router hashes a forwarded TCP segment by the skb's L4 hash when it has one, and across veth that is
    // the client socket's txhash, which Linux re-draws on every retransmission timeout: on a loaded host each
    // RTO moved the flow to the other director (a host test: 10 of 24 flows after a 3 s blip). A real
    // router's hash comes from the headers (the NIC's RSS); txrehash=0 keeps the lab's per-flow hash fixed.
    sysctl(NS.client, 'net.core.txrehash', 0);
    inNs(NS.router, ['ip', 'addr', 'add', '10.71.0.1/24', 'dev', 'cli']);
    inNs(NS.router, ['ip', 'link', 'set', 'cli', 'up']);
    sysctl(NS.router, 'net.ipv4.ip_forward', 1);
    // The router recipe's one kernel setting: hash flows on the L4 tuple, or one client sticks to one director.
    sysctl(NS.router, 'net.ipv4.fib_multipath_hash_policy', 1);
    for (const ns of [NS.router, NS.d1, NS.d2, NS.rs1, NS.rs2]) for (const i of ['all', 'default', 'lan']) sysctl(ns, `net.ipv4.conf.${i}.rp_filter`, 0);
    // Directors: the VIPs are local (IPVS takes packets to local addresses); the router reaches them only
    // through the BGP next hops, so the directors' ARP answers for them do not matter.
    for (const d of [NS.d1, NS.d2]) for (const vip of VIPS) inNs(d, ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
    // DR real servers: the VIPs on lo, never answered for or announced on the LAN.
    for (const rs of [NS.rs1, NS.rs2]) {
      for (const vip of VIPS) inNs(rs, ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
      for (const i of ['all', 'lan']) {
        sysctl(rs, `net.ipv4.conf.${i}.arp_ignore`, 1);
        sysctl(rs, `net.ipv4.conf.${i}.arp_announce`, 2);
      }
    }
  }

  /** IPVS takes over a flow another director started only with sloppy_tcp: a mid-stream ACK otherwise finds
   * no connection, reaches the director's own stack (the VIP is local) and is answered with a reset. */
  directorSysctls(): void {
    for (const d of [NS.d1, NS.d2]) {
      sh(['ip', 'netns', 'exec', d, 'ipvsadm', '-Ln']); // creates the namespace's IPVS (module autoload)
      sysctl(d, 'net.ipv4.vs.sloppy_tcp', 1);
    }
  }

  startRealServers(): void {
    for (const [name, ns] of [['rs1', NS.rs1], ['rs2', NS.rs2]] as const) {
      this.spawnIn(ns, `${name}.echo`, [process.execPath, join(REPO_ROOT, 'lab', 'traffic', 'echo-server.mjs'), String(ECHO_PORT), name]);
    }
  }

  startRouter(): void {
    // FRR daemons drop to the frr user: their sockets live in the work dir, which that user must own.
    const frrDir = join(this.workDir, 'frr');
    sh(['mkdir', '-p', frrDir]);
    const uid = Number(sh(['id', '-u', 'frr']).trim());
    const gid = Number(sh(['id', '-g', 'frr']).trim());
    chownSync(frrDir, uid, gid);
    writeFileSync(join(frrDir, 'empty.conf'), '');
    chownSync(join(frrDir, 'empty.conf'), uid, gid);
    for (const d of FRR_DAEMONS) {
      const extra = d === 'bfdd' ? ['--bfdctl', join(frrDir, 'bfdd.sock')] : [];
      this.spawnIn(NS.router, `router.${d}`, [`/usr/lib/frr/${d}`, '--vty_socket', frrDir, '-z', join(frrDir, 'zserv.api'), '-i', join(frrDir, `${d}.pid`), '-f', join(frrDir, 'empty.conf'), ...extra]);
    }
  }

  /** The shipped router recipe, applied by vtysh once the daemons answer (its addresses are the lab's). */
  async configureRouter(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = FRR_DAEMONS.every((d) => existsSync(join(this.workDir, 'frr', `${d}.vty`)));
      if (up) break;
      if (Date.now() > deadline) throw new Error(`FRR did not start: ${this.log('router.zebra')}\n${this.log('router.bgpd')}\n${this.log('router.bfdd')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const conf = withLabTimers(readFileSync(join(REPO_ROOT, 'etc', 'frr', 'router-frr.conf'), 'utf8'));
    const file = join(this.workDir, 'router-frr.conf');
    writeFileSync(file, conf);
    sh(['vtysh', '--vty_socket', join(this.workDir, 'frr'), '-f', file]);
  }

  vtysh(...commands: string[]): string {
    return sh(['vtysh', '--vty_socket', join(this.workDir, 'frr'), ...commands.flatMap((c) => ['-c', c])]);
  }

  /** The shipped BIRD recipe with this director's address as router id and local address. */
  startBird(d: DirectorName): void {
    const conf = withLabTimers(readFileSync(join(REPO_ROOT, 'etc', 'bird', 'tslvsd-bird.conf'), 'utf8')).replaceAll('192.0.2.11', DIRECTORS[d]);
    const file = join(this.workDir, `${d}.bird.conf`);
    writeFileSync(file, `${conf}\nlog "${join(this.workDir, `${d}.bird-events.log`)}" all;\n`);
    const daemon = this.spawnIn(NS[d], `${d}.bird`, ['bird', '-f', '-c', file, '-s', join(this.workDir, `${d}.bird.ctl`), '-P', join(this.workDir, `${d}.bird.pid`)]);
    if (daemon.child.pid !== undefined) this.birdPids.set(d, daemon.child.pid);
  }

  birdPid(d: DirectorName): number {
    const pid = this.birdPids.get(d);
    if (pid === undefined) throw new Error(`no bird for ${d}`);
    return pid;
  }

  /**
   * tslvsd on a director: both VIPs as DR virtual servers with `lb_algo mh` + `mh-port`, TCP checks every
   * second, `announce_route`. d2 lists the real servers in the reverse order of d1: tslvsd adds an mh
   * service's destinations sorted, so both kernels must still hold the same list (the first test reads it).
   * `extra` lands in the second virtual server (a reload changes it).
   */
  writeTslvsdConfig(d: DirectorName, extra = ''): string {
    const servers = Object.values(REAL_SERVERS).sort();
    if (d === 'd2') servers.reverse();
    const vs = (vip: string, more: string): string => `virtual_server ${vip} ${ECHO_PORT} {
    delay_loop ${TSLVSD_TIMINGS.delayLoop}
    lb_algo mh
    mh-port
    lb_kind DR
    protocol TCP
    inhibit_on_failure
    announce_route
${more}
${servers.map((rs) => `    real_server ${rs} ${ECHO_PORT} {
        weight 1
        TCP_CHECK {
            connect_timeout ${TSLVSD_TIMINGS.connectTimeout}
            retry ${TSLVSD_TIMINGS.retry}
            delay_before_retry ${TSLVSD_TIMINGS.delayBeforeRetry}
        }
    }`).join('\n')}
}
`;
    const file = join(this.workDir, `${d}.keepalived.conf`);
    writeFileSync(file, `global_defs {
    router_id ${d}
    announce_route_table 248
    announce_route_drain ${TSLVSD_TIMINGS.drain}
}
${vs(VIPS[0], '')}${vs(VIPS[1], extra)}`);
    return file;
  }

  /** Starts tslvsd in a director's namespace (dist/ entry, as the LVS lab runs it); its pid. */
  startTslvsd(d: DirectorName): number {
    const config = this.writeTslvsdConfig(d);
    const daemon = this.spawnIn(NS[d], `${d}.tslvsd`, [process.execPath, join(REPO_ROOT, 'bin', 'tslvsd.js'), '--config', config,
      '--pid-file', join(this.workDir, `${d}.tslvsd.pid`), '--status-socket', join(this.workDir, `${d}.tslvsd.sock`), '--metrics-listen', 'off', '--log-format', 'json']);
    if (daemon.child.pid === undefined) throw new Error(`tslvsd did not start on ${d}`);
    this.tslvsdDaemons.set(d, daemon);
    return daemon.child.pid;
  }

  tslvsd(d: DirectorName): Daemon {
    const t = this.tslvsdDaemons.get(d);
    if (!t) throw new Error(`no tslvsd on ${d}`);
    return t;
  }

  /** Health checks from a director (its own address, port 7) refused; the flows it forwards (the client's
   * source address) pass. */
  failChecksFrom(d: DirectorName, fail: boolean): void {
    if (fail) {
      inNs(NS[d], ['nft', 'add', 'table', 'ip', 'ecmp']);
      inNs(NS[d], ['nft', 'add', 'chain', 'ip', 'ecmp', 'out', '{ type filter hook output priority 0 ; }']);
      inNs(NS[d], ['nft', 'add', 'rule', 'ip', 'ecmp', 'out', 'ip', 'saddr', DIRECTORS[d], 'tcp', 'dport', String(ECHO_PORT), 'reject', 'with', 'tcp', 'reset']);
    } else inNs(NS[d], ['nft', 'delete', 'table', 'ip', 'ecmp'], { allowFail: true });
  }

  /** The next hops the router's kernel holds for a VIP (`ip route show VIP`), sorted. */
  nextHops(vip: string): string[] {
    const out = inNs(NS.router, ['ip', 'route', 'show', vip], { allowFail: true });
    return [...out.matchAll(/via (\S+)/g)].map((m) => m[1] as string).sort();
  }

  /** What tslvsd would hold while the virtual server's quorum is up (ANNOUNCE-CONTRACT.md), by hand. */
  holdRoute(d: DirectorName, vip: string): void {
    inNs(NS[d], ['ip', 'route', 'replace', `${vip}/32`, 'dev', 'lo', 'table', '248', 'proto', '249']);
  }
  dropRoute(d: DirectorName, vip: string): void {
    inNs(NS[d], ['ip', 'route', 'del', `${vip}/32`, 'table', '248'], { allowFail: true });
  }

  /** A DR virtual server with mh (hashing the ports too), destinations in sorted order, as tslvsd adds them. */
  ipvsService(d: DirectorName, vip: string): void {
    const svc = ['-t', `${vip}:${ECHO_PORT}`];
    inNs(NS[d], ['ipvsadm', '-A', ...svc, '-s', 'mh', '-b', 'mh-port']);
    for (const rs of Object.values(REAL_SERVERS).sort()) inNs(NS[d], ['ipvsadm', '-a', ...svc, '-r', `${rs}:${ECHO_PORT}`, '-g', '-w', '1']);
  }
  ipvsDeleteService(d: DirectorName, vip: string): void {
    inNs(NS[d], ['ipvsadm', '-D', '-t', `${vip}:${ECHO_PORT}`]);
  }
  /** `ipvsadm -Ln -t VIP:7` in a director: the service line and its destinations ('' when absent). */
  ipvsServiceText(d: DirectorName, vip: string): string {
    return inNs(NS[d], ['ipvsadm', '-Ln', '-t', `${vip}:${ECHO_PORT}`], { allowFail: true });
  }
  hasIpvsService(d: DirectorName, vip: string): boolean {
    return inNs(NS[d], ['ipvsadm', '-Ln', '-t', `${vip}:${ECHO_PORT}`], { allowFail: true }).includes('Route');
  }

  /** Client ports of the flows a director's IPVS holds for a VIP (`ipvsadm -Lnc`), with their real server. */
  /** A virtual server's destinations in the kernel's list order (`ipvsadm -Ln`), as `address:port`. */
  destinations(d: DirectorName, vip: string): string[] {
    const out = inNs(NS[d], ['ipvsadm', '-Ln', '-t', `${vip}:${ECHO_PORT}`]);
    return [...out.matchAll(/^\s*->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s/gm)].map((m) => m[1] as string);
  }

  flows(d: DirectorName, vip: string): Map<number, string> {
    const out = inNs(NS[d], ['ipvsadm', '-Lnc']);
    const m = new Map<number, string>();
    for (const line of out.split('\n')) {
      const w = line.trim().split(/\s+/);
      if (w[0] !== 'TCP' || w[4] !== `${vip}:${ECHO_PORT}`) continue;
      const port = Number((w[3] ?? '').split(':')[1]);
      m.set(port, (w[5] ?? '').split(':')[0] ?? '');
    }
    return m;
  }

  async close(): Promise<void> {
    for (const d of this.daemons) {
      try {
        if (d.child.pid !== undefined) process.kill(d.child.pid, 'SIGCONT');
      } catch {
        // gone
      }
      d.child.kill('SIGKILL');
    }
    await Promise.race([Promise.all(this.daemons.map((d) => d.exited)), new Promise((r) => setTimeout(r, 5000))]);
    for (const ns of Object.values(NS)) sh(['ip', 'netns', 'del', ns], { allowFail: true });
    sh(['ip', 'link', 'del', BRIDGE], { allowFail: true });
    if (process.env.TSLVSD_E2E_KEEP !== '1') rmSync(this.workDir, { recursive: true, force: true });
  }
}
