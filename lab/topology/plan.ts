// The classic LVS tutorial networks as data: which namespaces exist, how they are wired and addressed.
// Pure: turns (mode, prefix) into the address plan and the ordered `ip -batch`/`sysctl` steps that build it,
// so the plan can be read and tested without touching the kernel. `build.ts` executes it.

export type LvsMode = 'nat' | 'dr' | 'tun';
export const LVS_MODES: readonly LvsMode[] = ['nat', 'dr', 'tun'];

export type DirectorRole = 'primary' | 'backup';
export type RealServerName = 'rs1' | 'rs2';
export type HostRole = 'client' | DirectorRole | RealServerName;
export const HOST_ROLES: readonly HostRole[] = ['client', 'primary', 'backup', 'rs1', 'rs2'];

export interface RealServerPlan {
  name: RealServerName;
  address: string;
  weight: number;
  /** keepalived's inhibit_on_failure: a failed server keeps its entry with weight 0. */
  inhibitOnFailure: boolean;
}

export interface LabPlan {
  mode: LvsMode;
  prefix: string;
  /** Network namespace of each host; `switch` holds the bridges so the lab never touches the root namespace. */
  netns: Record<HostRole | 'switch', string>;
  clientAddress: string;
  vip: string;
  port: number;
  /** NAT only: the real servers' default gateway, a second VRRP address that moves with the VIP. */
  gatewayVip?: string;
  directorAddress: Record<DirectorRole, string>;
  /** NAT only: the directors' addresses on the private real-server network. */
  directorPrivateAddress?: Record<DirectorRole, string>;
  realServers: RealServerPlan[];
  /** Director interface facing the client (VRRP runs here) and, for NAT, the one facing the real servers. */
  directorLan: string;
  directorPrivate?: string;
  /** Ordered steps that build the lab. */
  steps: LabStep[];
}

/**
 * One step of the build. `ip` steps are run as one `ip -batch` per step (every process start costs
 * ~250 ms in the emulated VM, so the lab is built with a dozen processes, not a hundred).
 */
export type LabStep =
  | { kind: 'ip'; /** namespace to run in; undefined: the namespace the lab is driven from */ netns?: string; lines: string[] }
  | { kind: 'sysctl'; netns: string; settings: [key: string, value: number][] };

const LAN = '10.10.0';
const PRIVATE = '10.20.0';

export function planLab(mode: LvsMode, prefix: string): LabPlan {
  const ns = (role: string): string => `${prefix}-${role}`;
  const netns = {
    switch: ns('sw'), client: ns('client'), primary: ns('primary'), backup: ns('backup'), rs1: ns('rs1'), rs2: ns('rs2'),
  };
  const nat = mode === 'nat';
  const rsNet = nat ? PRIVATE : LAN;
  const plan: LabPlan = {
    mode,
    prefix,
    netns,
    clientAddress: `${LAN}.1`,
    vip: `${LAN}.100`,
    port: 80,
    directorAddress: { primary: `${LAN}.2`, backup: `${LAN}.3` },
    realServers: [
      { name: 'rs1', address: `${rsNet}.11`, weight: 2, inhibitOnFailure: false },
      { name: 'rs2', address: `${rsNet}.12`, weight: 1, inhibitOnFailure: true },
    ],
    directorLan: 'eth0',
    steps: [],
  };
  if (nat) {
    plan.gatewayVip = `${PRIVATE}.254`;
    plan.directorPrivateAddress = { primary: `${PRIVATE}.2`, backup: `${PRIVATE}.3` };
    plan.directorPrivate = 'eth1';
  }

  // Collect per phase and namespace, then emit in phase order: namespaces, bridges, veths, ports, hosts, sysctls.
  const root: string[] = Object.values(netns).map((n) => `netns add ${n}`);
  const sw: string[] = [];
  const veths: string[] = [];
  const ports: string[] = [];
  const hosts = new Map<string, string[]>();
  const sysctls = new Map<string, [string, number][]>();
  const hostLine = (n: string, line: string): void => {
    hosts.set(n, [...(hosts.get(n) ?? []), line]);
  };
  const sysctl = (n: string, key: string, value: number): void => {
    sysctls.set(n, [...(sysctls.get(n) ?? []), [key, value]]);
  };
  // One bridge per L2 segment, inside the switch namespace; multicast snooping off so VRRP adverts always flood.
  for (const br of nat ? ['br0', 'br1'] : ['br0']) {
    sw.push(`link add ${br} type bridge mcast_snooping 0 forward_delay 0`, `link set ${br} up`);
  }
  // veth: `eth<N>` inside the host, `<role><N>` on the switch side.
  const attach = (role: HostRole, ifIndex: number, bridge: string, cidr: string): void => {
    const inside = `eth${ifIndex}`;
    const outside = `${role}${ifIndex}`;
    veths.push(`link add ${outside} netns ${netns.switch} type veth peer name ${inside} netns ${netns[role]}`);
    ports.push(`link set ${outside} master ${bridge} up`);
    hostLine(netns[role], `addr add ${cidr} dev ${inside}`);
    hostLine(netns[role], `link set ${inside} up`);
  };
  for (const role of HOST_ROLES) hostLine(netns[role], 'link set lo up');
  attach('client', 0, 'br0', `${plan.clientAddress}/24`);
  for (const d of ['primary', 'backup'] as const) {
    attach(d, 0, 'br0', `${plan.directorAddress[d]}/24`);
    if (nat && plan.directorPrivateAddress) {
      attach(d, 1, 'br1', `${plan.directorPrivateAddress[d]}/24`);
      // NAT: replies from the real servers are forwarded (and de-NATed) by the director.
      sysctl(netns[d], 'net.ipv4.ip_forward', 1);
    }
  }
  for (const rs of plan.realServers) {
    attach(rs.name, 0, nat ? 'br1' : 'br0', `${rs.address}/24`);
    const n = netns[rs.name];
    if (nat) {
      // The director (whichever holds the gateway VIP) is the real server's gateway.
      hostLine(n, `route add default via ${plan.gatewayVip as string}`);
      continue;
    }
    // DR and TUN: the real server accepts packets for the VIP but must never answer ARP for it,
    // or the client's ARP entry would point at a real server instead of the director.
    for (const scope of ['all', 'eth0']) {
      sysctl(n, `net.ipv4.conf.${scope}.arp_ignore`, 1);
      sysctl(n, `net.ipv4.conf.${scope}.arp_announce`, 2);
    }
    if (mode === 'dr') {
      hostLine(n, `addr add ${plan.vip}/32 dev lo`);
    } else {
      // TUN: the director wraps the client's packet in IPIP; tunl0 (the fallback ipip device) unwraps it.
      // The inner source is the client, which is not reachable via tunl0: rp_filter must be off (the
      // effective value is the max of `all` and the interface's).
      hostLine(n, 'link set tunl0 up');
      hostLine(n, `addr add ${plan.vip}/32 dev tunl0`);
      for (const scope of ['all', 'default', 'tunl0', 'eth0']) sysctl(n, `net.ipv4.conf.${scope}.rp_filter`, 0);
    }
  }
  plan.steps.push({ kind: 'ip', lines: root }, { kind: 'ip', netns: netns.switch, lines: sw },
    { kind: 'ip', lines: veths }, { kind: 'ip', netns: netns.switch, lines: ports });
  for (const [n, lines] of hosts) plan.steps.push({ kind: 'ip', netns: n, lines });
  for (const [n, settings] of sysctls) plan.steps.push({ kind: 'sysctl', netns: n, settings });
  return plan;
}
