/**
 * Records real kernel replies of the IPVS generic-netlink family into test/ipvs/fixtures/*.json, for the
 * codec's decoding tests. Runs inside the VM (it needs IPVS and root):
 *
 *   bash scripts/vm/run.sh node --import tsx scripts/vm/record-ipvs-fixtures.ts
 *
 * The table is written by ipvsadm (not by tslvsd's client), traffic flows through two services so the
 * counters are not zero, and every request is encoded here by hand from include/uapi/linux/ip_vs.h, so the
 * recording does not depend on the code it is meant to test. Each fixture keeps the request, every reply
 * datagram exactly as received, and what ipvsadm says of the same table as an independent reading.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawNetlinkSocket, createGenericNetlink, genl } from 'netlink';

const NETLINK_GENERIC = 16;
const NLM_F_REQUEST = 0x01;
const NLM_F_ACK = 0x04;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLA_F_NESTED = 0x8000;
// ip_vs.h
const Cmd = { GET_SERVICE: 4, GET_DEST: 8, GET_CONFIG: 13, GET_INFO: 15 } as const;
const CMD_ATTR_SERVICE = 1;
const Svc = { AF: 1, PROTOCOL: 2, ADDR: 3, PORT: 4, FWMARK: 5 } as const;

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '../../test/ipvs/fixtures/kernel-6.1');
const ns = 'tv-rec';

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

function attr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}
const u16 = (v: number): Buffer => Buffer.from([v & 0xff, v >> 8]);
const be16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

type Key = { af: 2 | 10; protocol: number; addr: Buffer; port: number } | { af: 2 | 10; fwmark: number };
function serviceKeyAttr(key: Key): Buffer {
  const parts = [attr(Svc.AF, u16(key.af))];
  if ('fwmark' in key) parts.push(attr(Svc.FWMARK, u32(key.fwmark)));
  else parts.push(attr(Svc.PROTOCOL, u16(key.protocol)), attr(Svc.ADDR, key.addr), attr(Svc.PORT, be16(key.port)));
  return attr(CMD_ATTR_SERVICE | NLA_F_NESTED, Buffer.concat(parts));
}
const v4 = (a: string): Buffer => Buffer.from(a.split('.').map(Number));
function v6(a: string): Buffer {
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => be16(parseInt(g, 16))));
}

function request(familyId: number, cmd: number, seq: number, dump: boolean, attrs: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(20 + attrs.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(familyId, 4);
  out.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0), 6);
  out.writeUInt32LE(seq, 8);
  out.writeUInt8(cmd, 16);
  out.writeUInt8(1, 17); // IPVS_GENL_VERSION
  attrs.copy(out, 20);
  return out;
}

/** Sends one request and collects every datagram until the DONE or ERROR/ACK that ends it. */
function exchange(sock: RawNetlinkSocket, message: Buffer): Promise<Buffer[]> {
  const seq = message.readUInt32LE(8);
  return new Promise((resolve, reject) => {
    const datagrams: Buffer[] = [];
    const timer = setTimeout(() => finish(new Error(`no end of reply for seq ${seq}`)), 5000);
    const onMessage = (buf: Buffer): void => {
      datagrams.push(Buffer.from(buf));
      for (let off = 0; off + 16 <= buf.length; ) {
        const len = buf.readUInt32LE(off);
        const type = buf.readUInt16LE(off + 4);
        if (buf.readUInt32LE(off + 8) === seq && (type === NLMSG_DONE || type === NLMSG_ERROR)) {
          finish(type === NLMSG_ERROR && buf.readInt32LE(off + 16) !== 0 ? new Error(`errno ${-buf.readInt32LE(off + 16)}`) : null);
          return;
        }
        if (len < 16) break;
        off += (len + 3) & ~3;
      }
    };
    function finish(err: Error | null): void {
      clearTimeout(timer);
      sock.off('message', onMessage);
      if (err) reject(err);
      else resolve(datagrams);
    }
    sock.on('message', onMessage);
    sock.send(message, { port: 0 });
  });
}

function setUpTable(): ChildProcess {
  // A real server in a namespace behind a veth (IPv4 and IPv6); VIPs on the VM's loopback, so local clients
  // go through IPVS (NAT back through this host, which is the real server's gateway).
  const sh = (line: string): void => void run(line.split(' ')[0], line.split(' ').slice(1));
  sh(`ip netns add ${ns}`);
  sh(`ip link add tv-rec0 type veth peer name rs0 netns ${ns}`);
  sh('ip addr add 10.99.1.1/24 dev tv-rec0');
  sh('ip -6 addr add fd00:98::1/64 dev tv-rec0 nodad');
  sh('ip link set tv-rec0 up');
  sh(`ip -n ${ns} addr add 10.99.1.2/24 dev rs0`);
  sh(`ip -n ${ns} -6 addr add fd00:98::2/64 dev rs0 nodad`);
  sh(`ip -n ${ns} link set rs0 up`);
  sh(`ip -n ${ns} link set lo up`);
  sh(`ip -n ${ns} route add default via 10.99.1.1`);
  sh(`ip -n ${ns} -6 route add default via fd00:98::1`);
  sh('ip addr add 10.99.0.1/32 dev lo');
  sh('ip -6 addr add fd00:99::1/128 dev lo');
  const server = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'], { stdio: 'ignore' });

  // Only reachable NAT destinations while traffic flows (drive()); the rest is added afterwards.
  for (const line of [
    '-A -t 10.99.0.1:80 -s wlc -p 300 -M 255.255.255.0',
    '-a -t 10.99.0.1:80 -r 10.99.1.2:80 -m -w 5 -x 1000 -y 100',
    '-A -t [fd00:99::1]:80 -s rr -p 120 -M 64',
    '-a -t [fd00:99::1]:80 -r [fd00:98::2]:80 -m -w 7',
  ]) run('ipvsadm', line.split(' '));
  return server;
}

function completeTable(): void {
  const table = [
    '-a -t 10.99.0.1:80 -r 10.99.1.3:80 -g -w 0',
    '-a -t 10.99.0.1:80 -r 10.99.1.4:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-nocsum',
    '-a -t 10.99.0.1:80 -r 10.99.1.5:80 -i -w 3 --tun-type gre --tun-csum',
    '-A -u 10.99.0.2:53 -s rr -o',
    '-a -u 10.99.0.2:53 -r 10.99.1.2:53 -m -w 1',
    '--add-service --sctp-service 10.99.0.3:3868 -s sh -b sh-port,sh-fallback',
    '-a --sctp-service 10.99.0.3:3868 -r 10.99.1.2:3868 -g',
    '-A -f 7 -s mh -b mh-fallback -p 60',
    '-a -f 7 -r 10.99.1.2:0 -g -w 4',
    '-a -t [fd00:99::1]:80 -r [fd00:98::3]:8080 -g -w 1',
    '-A -f 9 -6 -s lc',
    '-a -f 9 -6 -r [fd00:98::2]:0 -i -w 1',
  ];
  for (const line of table) run('ipvsadm', line.split(' '));
  run('ipvsadm', ['--set', '900', '120', '300']);
}

function drive(): void {
  // Connections through both TCP services so the counters and rates move; the estimator publishes them
  // every 2 s, so wait past one tick before reading.
  for (let i = 0; i < 5; i++) {
    run('curl', ['-s', '-m', '5', '-o', '/dev/null', 'http://10.99.0.1/hostname']);
    run('curl', ['-s', '-m', '5', '-o', '/dev/null', 'http://[fd00:99::1]/hostname']);
  }
  execFileSync('sleep', ['2.5']);
}

interface Fixture {
  description: string;
  request: string;
  replies: string[];
}

async function main(): Promise<void> {
  if (!existsSync('/proc/net/ip_vs')) throw new Error('no IPVS in this kernel: run inside the VM (scripts/vm/run.sh)');
  const server = setUpTable();
  try {
    drive();
    completeTable();
    const g = createGenericNetlink();
    const [family] = await g.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: 'IPVS' });
    g.socket.close();
    const familyId = family?.familyId;
    if (familyId === undefined) throw new Error('generic netlink family IPVS not found');
    const sock = new RawNetlinkSocket(NETLINK_GENERIC);
    let seq = 1000;
    const fixtures: Record<string, Fixture> = {};
    const record = async (name: string, description: string, message: Buffer): Promise<void> => {
      fixtures[name] = { description, request: message.toString('hex'), replies: (await exchange(sock, message)).map((d) => d.toString('hex')) };
    };
    await record('get-info', 'GET_INFO: version 1.2.1, connection table size 4096', request(familyId, Cmd.GET_INFO, seq++, false));
    await record('get-config', 'GET_CONFIG after `ipvsadm --set 900 120 300`', request(familyId, Cmd.GET_CONFIG, seq++, false));
    await record('get-service-dump', 'GET_SERVICE dump of the whole table (see ipvsadm.txt)', request(familyId, Cmd.GET_SERVICE, seq++, true));
    await record('get-service-ipv4-tcp', 'GET_SERVICE (not a dump) of TCP 10.99.0.1:80', request(familyId, Cmd.GET_SERVICE, seq++, false, serviceKeyAttr({ af: 2, protocol: 6, addr: v4('10.99.0.1'), port: 80 })));
    const dests: Array<[string, string, Key]> = [
      ['get-dest-dump-ipv4-tcp', 'TCP 10.99.0.1:80: NAT with thresholds and traffic, DR weight 0, TUN gue and gre', { af: 2, protocol: 6, addr: v4('10.99.0.1'), port: 80 }],
      ['get-dest-dump-ipv4-udp', 'UDP 10.99.0.2:53 (one-packet scheduling)', { af: 2, protocol: 17, addr: v4('10.99.0.2'), port: 53 }],
      ['get-dest-dump-ipv4-sctp', 'SCTP 10.99.0.3:3868', { af: 2, protocol: 132, addr: v4('10.99.0.3'), port: 3868 }],
      ['get-dest-dump-ipv4-fwmark', 'FWM 7 (IPv4)', { af: 2, fwmark: 7 }],
      ['get-dest-dump-ipv6-tcp', 'TCP [fd00:99::1]:80: NAT with traffic, DR', { af: 10, protocol: 6, addr: v6('fd00:99::1'), port: 80 }],
      ['get-dest-dump-ipv6-fwmark', 'FWM 9 (IPv6), tunnel', { af: 10, fwmark: 9 }],
    ];
    for (const [name, description, key] of dests) await record(name, `GET_DEST dump of ${description}`, request(familyId, Cmd.GET_DEST, seq++, true, serviceKeyAttr(key)));
    // The kernel answers this with an empty dump (NLMSG_DONE only), not an error: worth a fixture.
    await record('get-dest-missing-service', 'GET_DEST dump of a service that does not exist (TCP 10.99.0.99:80)', request(familyId, Cmd.GET_DEST, seq++, true, serviceKeyAttr({ af: 2, protocol: 6, addr: v4('10.99.0.99'), port: 80 })));
    sock.close();

    const kernel = run('uname', ['-r']).trim();
    const ipvsadmText = [
      `# kernel ${kernel}, recorded ${new Date().toISOString()} by scripts/vm/record-ipvs-fixtures.ts`,
      '# ipvsadm -Sn',
      run('ipvsadm', ['-Sn']),
      '# ipvsadm -Ln --exact --stats',
      run('ipvsadm', ['-Ln', '--exact', '--stats']),
      '# ipvsadm -Ln --exact --rate',
      run('ipvsadm', ['-Ln', '--exact', '--rate']),
      '# ipvsadm -Ln --exact --thresholds',
      run('ipvsadm', ['-Ln', '--exact', '--thresholds']),
      '# ipvsadm -Ln --exact --persistent-conn',
      run('ipvsadm', ['-Ln', '--exact', '--persistent-conn']),
      '# ipvsadm -Ln --exact --tun-info',
      run('ipvsadm', ['-Ln', '--exact', '--tun-info']),
      '# ipvsadm -Ln --timeout',
      run('ipvsadm', ['-Ln', '--timeout']),
    ].join('\n');
    mkdirSync(fixturesDir, { recursive: true });
    for (const [name, f] of Object.entries(fixtures)) {
      writeFileSync(join(fixturesDir, `${name}.json`), `${JSON.stringify({ kernel, familyId, ...f }, null, 2)}\n`);
    }
    writeFileSync(join(fixturesDir, 'ipvsadm.txt'), ipvsadmText);
    console.log(`recorded ${Object.keys(fixtures).length} fixtures into ${fixturesDir}`);
    console.log(ipvsadmText);
  } finally {
    server.kill();
    run('ipvsadm', ['-C']);
    run('ip', ['netns', 'del', ns]);
  }
}

await main();
