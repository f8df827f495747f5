import { describe, expect, it } from 'vitest';
import type { AddressChange, InterfaceAddress, LinkControl, LinkEvent, LinkInfo, MacvlanSpec, RtNetlink } from '../../src/net/rtnetlink.js';
import type { RouteEntry, RuleEntry } from '../../src/net/routeCodec.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { decodeAdvert } from '../../src/vrrp/codec/advertCodec.js';
import type { ReceiveFilterSpec } from '../../src/vrrp/codec/receiveFilter.js';
import type { TransportCounters, TransportOptions, VrrpTransport } from '../../src/vrrp/edge/rawSocketTransport.js';
import type { ScriptInvocation, ScriptOutcome } from '../../src/vrrp/edge/scriptRunner.js';
import { VrrpService, type VrrpNotification, type VrrpServiceDeps } from '../../src/vrrp/service.js';
import { model } from '../config/helpers.js';

// The service's wiring on fakes: which effect reaches which edge, in which order. The real edges are judged
// in test/ns/ (namespaces, tcpdump, keepalived).

type Event = string;

class FakeNetlink implements RtNetlink {
  readonly addrs: InterfaceAddress[] = [{ address: '10.0.0.1', prefixLength: 24, ifindex: 2 }];
  private listener: ((e: LinkEvent) => void) | undefined;
  constructor(private readonly log: Event[]) {}
  readonly eth0: LinkInfo = { index: 2, name: 'eth0', mac: Buffer.from('02005e000001', 'hex'), adminUp: true, up: true };
  async links(): Promise<LinkInfo[]> {
    return [this.eth0];
  }
  async linkByName(name: string): Promise<LinkInfo | undefined> {
    return name === 'eth0' ? this.eth0 : undefined;
  }
  async linkByIndex(index: number): Promise<LinkInfo | undefined> {
    return index === 2 ? this.eth0 : undefined;
  }
  async addresses(): Promise<InterfaceAddress[]> {
    return [...this.addrs];
  }
  async addAddress(a: InterfaceAddress): Promise<AddressChange> {
    this.log.push(`add ${a.address}/${a.prefixLength}`);
    if (this.addrs.some((x) => x.address === a.address)) return 'unchanged';
    this.addrs.push(a);
    return 'changed';
  }
  async removeAddress(a: InterfaceAddress): Promise<AddressChange> {
    this.log.push(`remove ${a.address}`);
    const i = this.addrs.findIndex((x) => x.address === a.address);
    if (i < 0) return 'unchanged';
    this.addrs.splice(i, 1);
    return 'changed';
  }
  readonly kernelRoutes: RouteEntry[] = [];
  readonly kernelRules: RuleEntry[] = [];
  async routes(): Promise<RouteEntry[]> {
    return [...this.kernelRoutes];
  }
  async addRoute(r: RouteEntry): Promise<AddressChange> {
    this.log.push(`route add ${r.destination}/${r.prefixLength}`);
    if (this.kernelRoutes.some((x) => x.destination === r.destination && x.table === r.table)) return 'unchanged';
    this.kernelRoutes.push(r);
    return 'changed';
  }
  async removeRoute(r: RouteEntry): Promise<AddressChange> {
    this.log.push(`route remove ${r.destination}/${r.prefixLength}`);
    const i = this.kernelRoutes.findIndex((x) => x.destination === r.destination && x.table === r.table);
    if (i < 0) return 'unchanged';
    this.kernelRoutes.splice(i, 1);
    return 'changed';
  }
  async rules(): Promise<RuleEntry[]> {
    return [...this.kernelRules];
  }
  async addRule(r: RuleEntry): Promise<AddressChange> {
    this.log.push(`rule add ${r.priority}`);
    if (this.kernelRules.some((x) => x.priority === r.priority)) return 'unchanged';
    this.kernelRules.push(r);
    return 'changed';
  }
  async removeRule(r: RuleEntry): Promise<AddressChange> {
    this.log.push(`rule remove ${r.priority}`);
    const i = this.kernelRules.findIndex((x) => x.priority === r.priority);
    if (i < 0) return 'unchanged';
    this.kernelRules.splice(i, 1);
    return 'changed';
  }
  onLinkChange(listener: (e: LinkEvent) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  emit(up: boolean): void {
    this.listener?.({ link: { ...this.eth0, up }, removed: false });
  }
  close(): void {}
}

class FakeTransport implements VrrpTransport {
  readonly counters: TransportCounters = { packetsReceived: 0, packetsSent: 0, sendErrors: 0, socketErrors: 0, receiveBufferDrops: 0, oversizedReceived: 0, receiveBatches: 0, preferredReceived: 0, preferredBufferDrops: 0 };
  handler: (packet: Buffer) => void = () => undefined;
  closed = false;
  /** Destinations the "kernel" refuses to send to. */
  refuse = new Set<string>();
  filters: ReceiveFilterSpec[] = [];
  constructor(
    readonly options: TransportOptions,
    private readonly log: Event[],
  ) {}
  onPacket(handler: (packet: Buffer) => void): void {
    this.handler = handler;
  }
  send(message: Buffer, src: string, dst: string): boolean {
    const decoded = decodeAdvert(message, { srcIp: src, dstIp: dst });
    this.log.push(decoded.ok ? `advert prio ${decoded.advert.priority} ${src}>${dst}` : `bad advert ${decoded.reason}`);
    return !this.refuse.has(dst);
  }
  acceptOnly(spec: ReceiveFilterSpec): void {
    this.filters.push(spec);
  }
  onError(): void {}
  async flush(): Promise<void> {
    this.log.push('flush');
  }
  close(): void {
    this.closed = true;
    this.log.push('close');
  }
}

function setup(conf: string, extra: Partial<VrrpServiceDeps> = {}) {
  const log: Event[] = [];
  const clock = new FakeClock();
  const netlink = new FakeNetlink(log);
  const transports: FakeTransport[] = [];
  const scripts: ScriptInvocation[] = [];
  const transitions: string[] = [];
  const service = new VrrpService(model(conf), {
    onTransition: (instance, from, to) => transitions.push(`${instance} ${from}->${to}`),
    clock,
    logger: silentLogger(),
    netlink,
    frameSender: {
      sendFrame: (ifindex: number, frame: Buffer) => {
        log.push(`garp ${ifindex} ${[...frame.subarray(28, 32)].join('.')}`);
        return frame.length;
      },
    },
    openTransport: (options) => {
      const t = new FakeTransport(options, log);
      transports.push(t);
      return t;
    },
    runScript: async (inv): Promise<ScriptOutcome> => {
      scripts.push(inv);
      return { exitCode: 0, timedOut: false };
    },
    ...extra,
  });
  return { log, clock, netlink, transports, scripts, service, transitions };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

const BASE = `
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  garp_master_repeat 2
  garp_master_delay 0
  virtual_ipaddress {
    10.0.0.200/24
  }
  notify "/usr/local/bin/notify.sh arg1"
}
`;

describe('VrrpService wiring', () => {
  it('at start removes leftover VIPs, opens one transport joined to the group, sources from the primary address', async () => {
    const t = setup(BASE);
    t.netlink.addrs.push({ address: '10.0.0.200', prefixLength: 24, ifindex: 2 }); // left by a previous run
    await t.service.start();
    expect(t.log[0]).toBe('remove 10.0.0.200');
    expect(t.netlink.addrs.map((a) => a.address)).toEqual(['10.0.0.1']);
    expect(t.transports).toHaveLength(1);
    expect(t.transports[0]!.options).toEqual({ ifname: 'eth0', ifindex: 2, family: 'inet', multicastGroups: ['224.0.0.18'], accept: { destinations: ['224.0.0.18'], vrids: [51], preferredSources: [] } });
    // After every instance is built, the socket's kernel filter is set from all of them.
    expect(t.transports[0]!.filters).toEqual([{ destinations: ['224.0.0.18'], vrids: [51], preferredSources: [] }]);
    expect(t.service.status()[0]).toMatchObject({ state: 'BACKUP', sourceIp: '10.0.0.1', vips: ['10.0.0.200/24'] });
  });

  it('becoming master: advert first, then the VIP, then the gratuitous ARPs; notify with INSTANCE name state priority', async () => {
    const t = setup(BASE);
    await t.service.start();
    t.log.length = 0;
    t.clock.advance(3 * 1000 + ((256 - 150) / 256) * 1000 + 1);
    await settle();
    expect(t.log.slice(0, 4)).toEqual(['advert prio 150 10.0.0.1>224.0.0.18', 'add 10.0.0.200/24', 'garp 2 10.0.0.200', 'garp 2 10.0.0.200']);
    expect(t.service.status()[0]!.state).toBe('MASTER');
    expect(t.scripts.map((s) => s.argv)).toContainEqual(['/usr/local/bin/notify.sh', 'arg1', 'INSTANCE', 'VI_1', 'MASTER', '150']);
    // the daemon's hook (IPVS sync daemons) hears every transition
    expect(t.transitions).toEqual(['VI_1 INIT->BACKUP', 'VI_1 BACKUP->MASTER']);
  });

  it('routes a received higher-priority advert to the machine: master yields and releases the VIP', async () => {
    const t = setup(BASE);
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    t.log.length = 0;
    const { encodeAdvert } = await import('../../src/vrrp/codec/advertCodec.js');
    const { encodeIpv4Header } = await import('../../src/vrrp/codec/ipv4Header.js');
    const msg = encodeAdvert({ version: 2, vrid: 51, priority: 200, addresses: ['10.0.0.200'], advertInt: 1, maxAdvertIntCs: 100, authType: 0, authData: new Uint8Array(8) }, { srcIp: '10.0.0.2', dstIp: '224.0.0.18' });
    t.transports[0]!.handler(Buffer.concat([encodeIpv4Header({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', protocol: 112, payloadLength: msg.length }), msg]));
    t.transports[0]!.handler(Buffer.from('garbage')); // counted, never thrown
    await settle();
    expect(t.service.status()[0]).toMatchObject({ state: 'BACKUP', masterIp: '10.0.0.2' });
    expect(t.log).toContain('remove 10.0.0.200');
    expect(t.service.interfaceStatus()[0]!.dispatcher.undecodable).toBe(1);
  });

  it('a BACKUP following a master gives that master the priority lane; as MASTER it follows nobody', async () => {
    const t = setup(BASE);
    await t.service.start();
    const { encodeAdvert } = await import('../../src/vrrp/codec/advertCodec.js');
    const { encodeIpv4Header } = await import('../../src/vrrp/codec/ipv4Header.js');
    const from = (src: string, priority: number) => {
      const msg = encodeAdvert({ version: 2, vrid: 51, priority, addresses: ['10.0.0.200'], advertInt: 1, maxAdvertIntCs: 100, authType: 0, authData: new Uint8Array(8) }, { srcIp: src, dstIp: '224.0.0.18' });
      t.transports[0]!.handler(Buffer.concat([encodeIpv4Header({ srcIp: src, dstIp: '224.0.0.18', protocol: 112, payloadLength: msg.length }), msg]));
    };
    from('10.0.0.2', 200);
    expect(t.transports[0]!.filters.at(-1)!.preferredSources).toEqual(['10.0.0.2']);
    const updates = t.transports[0]!.filters.length;
    from('10.0.0.2', 200); // the same master again: no new filter
    expect(t.transports[0]!.filters.length).toBe(updates);
    t.clock.advance(4000); // its adverts stop: we become master, following nobody
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    expect(t.transports[0]!.filters.at(-1)!.preferredSources).toEqual([]);
  });

  it('unicast peers: one advert per peer from unicast_src_ip, no multicast membership', async () => {
    const t = setup(BASE.replace('advert_int 1', 'advert_int 1\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n    10.0.0.3\n  }'));
    await t.service.start();
    expect(t.transports[0]!.options.multicastGroups).toEqual([]);
    t.clock.advance(4000);
    await settle();
    expect(t.log).toContain('advert prio 150 10.0.0.1>10.0.0.2');
    expect(t.log).toContain('advert prio 150 10.0.0.1>10.0.0.3');
  });

  it('unicast: the kernel filter accepts adverts to our source address, for our VRID; the peers get the priority lane', async () => {
    const t = setup(BASE.replace('advert_int 1', 'advert_int 1\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }'));
    await t.service.start();
    expect(t.transports[0]!.filters).toEqual([{ destinations: ['10.0.0.1'], vrids: [51], preferredSources: ['10.0.0.2'] }]);
  });

  it('two instances on one interface share one socket whose filter takes both VRIDs', async () => {
    const second = BASE.replace('VI_1', 'VI_2').replace('virtual_router_id 51', 'virtual_router_id 52').replace('10.0.0.200/24', '10.0.0.201/24');
    const t = setup(BASE + second);
    await t.service.start();
    expect(t.transports).toHaveLength(1);
    expect(t.transports[0]!.filters.at(-1)).toEqual({ destinations: ['224.0.0.18'], vrids: [51, 52], preferredSources: [] });
  });

  it('services given one shared runtime (one per unit) share the socket and run a shared vrrp_script once per interval', async () => {
    const script = `vrrp_script chk {\n  script "/usr/local/bin/chk"\n  interval 2\n  weight 10\n}\n`;
    const tracked = (text: string) => text.replace('  notify "', '  track_script {\n    chk\n  }\n  notify "');
    const second = tracked(BASE.replace('VI_1', 'VI_2').replace('virtual_router_id 51', 'virtual_router_id 52').replace('10.0.0.200/24', '10.0.0.201/24'));
    const t = setup(script + tracked(BASE));
    const { VrrpInterfaces } = await import('../../src/vrrp/runtime/interfaceRuntime.js');
    const { TrackScripts } = await import('../../src/vrrp/runtime/trackScriptRuntime.js');
    const shared = {
      interfaces: new VrrpInterfaces(t.service['deps'].openTransport, silentLogger(), t.clock),
      trackScripts: new TrackScripts(t.clock, silentLogger(), t.service['deps'].runScript),
    };
    const one = new VrrpService(model(script + tracked(BASE)), { ...t.service['deps'], shared });
    const two = new VrrpService(model(script + second), { ...t.service['deps'], shared });
    await one.start();
    await two.start();
    expect(t.transports).toHaveLength(1);
    expect(t.transports[0]!.filters.at(-1)).toMatchObject({ vrids: [51, 52] });
    const runs = () => t.scripts.filter((s) => s.argv[0] === '/usr/local/bin/chk').length;
    expect(runs()).toBe(1);
    for (let i = 0; i < 5; i++) {
      t.clock.advance(2000);
      await settle();
    }
    expect(runs()).toBe(6);
    // Both tracking instances got the shared verdict: weight 10 on each.
    expect([...one.status(), ...two.status()].map((s) => s.effectivePriority)).toEqual([160, 160]);
    expect(one.scriptStatus()).toEqual([{ name: 'chk', good: true, runs: 6, failures: 0, timeouts: 0 }]);
    // Another VRID 51 on that socket is refused by the shared socket set, naming the instance.
    const three = new VrrpService(model(BASE.replace('VI_1', 'VI_3')), { ...t.service['deps'], shared });
    await expect(three.start()).rejects.toThrow(/vrrp_instance VI_3: VRID 51 already used on eth0/);
    await three.stop();
    // The socket closes with its last instance; the script stops with its last subscriber.
    await one.stop();
    expect(t.transports[0]!.closed).toBe(false);
    await two.stop();
    expect(t.transports[0]!.closed).toBe(true);
    t.clock.advance(10_000);
    await settle();
    expect(runs()).toBe(6);
  });

  it('adverts count as sent only when the kernel took every copy; each refused copy is a send error', async () => {
    const t = setup(BASE.replace('advert_int 1', 'advert_int 1\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n    10.0.0.3\n  }'));
    await t.service.start();
    t.clock.advance(4000); // master, first advert
    await settle();
    const first = t.service.status()[0]!;
    expect(first.state).toBe('MASTER');
    expect(first.send).toEqual({ advertisementsSent: first.machine.advertisementsRequested, priorityZeroSent: 0, sendErrors: 0 });
    expect(first.send.advertisementsSent).toBeGreaterThan(0);
    t.transports[0]!.refuse.add('10.0.0.3');
    t.clock.advance(3000); // three more adverts asked for, each with one copy refused
    await settle();
    const later = t.service.status()[0]!;
    expect(later.machine.advertisementsRequested - first.machine.advertisementsRequested).toBe(3);
    expect(later.send.advertisementsSent).toBe(first.send.advertisementsSent);
    expect(later.send.sendErrors).toBe(3);
    t.transports[0]!.refuse.clear();
    await t.service.stop(); // the goodbye (priority 0) is taken: counted
    const end = t.service.status()[0]!;
    expect(end.send).toEqual({ advertisementsSent: first.send.advertisementsSent + 1, priorityZeroSent: 1, sendErrors: 3 });
  });

  it('stop: priority 0 advert, VIP released, sends flushed before the socket closes, notify STOP', async () => {
    const t = setup(BASE);
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    t.log.length = 0;
    await t.service.stop();
    const order = ['advert prio 0 10.0.0.1>224.0.0.18', 'remove 10.0.0.200', 'flush', 'close'].map((e) => t.log.indexOf(e));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(t.netlink.addrs.map((a) => a.address)).toEqual(['10.0.0.1']);
    expect(t.scripts.map((s) => s.argv.slice(2).join(' '))).toContain('INSTANCE VI_1 STOP 150');
  });

  it('the interface going down means FAULT (VIP released), coming back means BACKUP', async () => {
    const t = setup(BASE);
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    t.netlink.emit(false);
    await settle();
    expect(t.service.status()[0]!.state).toBe('FAULT');
    expect(t.netlink.addrs.map((a) => a.address)).toEqual(['10.0.0.1']);
    t.netlink.emit(true);
    expect(t.service.status()[0]!.state).toBe('BACKUP');
  });

  it('refuses an instance on an interface that does not exist', async () => {
    const t = setup(BASE.replace('interface eth0', 'interface eth9'));
    await expect(t.service.start()).rejects.toThrow(/interface eth9 does not exist/);
  });
});

describe('VrrpService virtual_routes / virtual_rules', () => {
  const withRoutes = (routes: string[]) => BASE.replace('  notify "/usr/local/bin/notify.sh arg1"\n', `  virtual_routes {\n${routes.map((r) => `    ${r}\n`).join('')}  }\n  virtual_rules {\n    from 10.0.0.200 table 100 priority 100\n  }\n`);

  async function master(routes: string[]) {
    const t = setup(withRoutes(routes));
    await t.service.start();
    expect(t.log.filter((l) => l.startsWith('route') || l.startsWith('rule'))).toEqual([]); // nothing while BACKUP
    t.log.length = 0;
    t.clock.advance(4000);
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    return t;
  }

  it('MASTER adds VIPs, then routes, then rules, then sends GARP; leaving MASTER removes rules, routes, then VIPs', async () => {
    const t = await master(['10.98.0.0/24 via 10.0.0.2 dev eth0', 'blackhole 10.97.0.0/16 table 100']);
    expect(t.log.slice(1, 6)).toEqual(['add 10.0.0.200/24', 'route add 10.98.0.0/24', 'route add 10.97.0.0/16', 'rule add 100', 'garp 2 10.0.0.200']);
    expect(t.netlink.kernelRoutes.map((r) => [r.destination, r.protocol, r.type, r.table, r.gateway, r.oif])).toEqual([
      ['10.98.0.0', 18, 'unicast', 254, '10.0.0.2', 2], ['10.97.0.0', 18, 'blackhole', 100, undefined, undefined],
    ]);
    expect(t.service.status()[0]).toMatchObject({ routes: ['10.98.0.0/24 via 10.0.0.2 dev eth0', 'blackhole 10.97.0.0/16 table 100'], rules: ['100: from 10.0.0.200 lookup 100'] });
    t.log.length = 0;
    await t.service.stop();
    // (stop's own sweep then removes the VIPs again, idempotently; the routes it knows are gone already)
    expect(t.log.filter((l) => !l.startsWith('advert'))).toEqual(['rule remove 100', 'route remove 10.98.0.0/24', 'route remove 10.97.0.0/16', 'remove 10.0.0.200', 'remove 10.0.0.200', 'flush', 'close']);
    expect(t.netlink.kernelRoutes).toEqual([]);
    expect(t.service.status()[0]).toMatchObject({ routes: [], rules: [] });
  });

  it('a reload that changes one route touches only that route', async () => {
    const t = await master(['10.98.0.0/24 via 10.0.0.2 dev eth0', '10.96.0.0/24 via 10.0.0.2 dev eth0']);
    t.log.length = 0;
    await t.service.reconfigure(model(withRoutes(['10.98.0.0/24 via 10.0.0.2 dev eth0', '10.96.0.0/24 via 10.0.0.3 dev eth0'])));
    await settle();
    expect(t.log.filter((l) => !l.startsWith('advert'))).toEqual(['route remove 10.96.0.0/24', 'route add 10.96.0.0/24']);
  });

  it('a reload while BACKUP changes nothing in the kernel; the next MASTER adds the new set', async () => {
    const t = setup(withRoutes(['10.98.0.0/24 dev eth0']));
    await t.service.start();
    await t.service.reconfigure(model(withRoutes(['10.95.0.0/24 dev eth0'])));
    expect(t.log.filter((l) => l.startsWith('route'))).toEqual([]);
    t.clock.advance(4000);
    await settle();
    expect(t.netlink.kernelRoutes.map((r) => r.destination)).toEqual(['10.95.0.0']);
  });
});

describe('VrrpService.reconfigure (SIGHUP in place)', () => {
  const conf = (opts: { name?: string; vrid?: number; priority?: number; vips: string[] }) =>
    BASE.replace('VI_1', opts.name ?? 'VI_1')
      .replace('virtual_router_id 51', `virtual_router_id ${opts.vrid ?? 51}`)
      .replace('priority 150', `priority ${opts.priority ?? 150}`)
      .replace('    10.0.0.200/24', opts.vips.map((v) => `    ${v}/24`).join('\n'));

  async function master(vips: string[]) {
    const t = setup(conf({ vips }));
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    t.log.length = 0;
    return t;
  }

  it('a master’s VIP list changes as a diff: the removed one goes, the new one comes with its own ARPs, the kept one is untouched', async () => {
    const t = await master(['10.0.0.200', '10.0.0.202']);
    const result = await t.service.reconfigure(model(conf({ vips: ['10.0.0.200', '10.0.0.201'] })));
    expect(result).toEqual({ inPlace: true, vipsAdded: ['10.0.0.201'], vipsRemoved: ['10.0.0.202'] });
    await settle();
    expect(t.log).toEqual(['remove 10.0.0.202', 'add 10.0.0.201/24', 'garp 2 10.0.0.201', 'garp 2 10.0.0.201']);
    expect(t.netlink.addrs.map((a) => a.address).sort()).toEqual(['10.0.0.1', '10.0.0.200', '10.0.0.201']);
    const status = t.service.status()[0]!;
    expect(status).toMatchObject({ state: 'MASTER', vips: ['10.0.0.200/24', '10.0.0.201/24'] });
    expect(status.machine).toMatchObject({ becomeMaster: 1, priorityZeroRequested: 0 });
    expect(status.send.priorityZeroSent).toBe(0);
    // The adverts carry the new list from the next one on.
    t.clock.advance(1000);
    expect(t.log.at(-1)).toBe('advert prio 150 10.0.0.1>224.0.0.18');
  });

  it('a changed unicast_src_ip replaces the kernel filter: adverts are accepted at the new address', async () => {
    const unicast = (src: string) => BASE.replace('advert_int 1', `advert_int 1\n  unicast_src_ip ${src}\n  unicast_peer {\n    10.0.0.2\n  }`);
    const t = setup(unicast('10.0.0.1'));
    await t.service.start();
    expect(t.transports[0]!.filters.at(-1)).toEqual({ destinations: ['10.0.0.1'], vrids: [51], preferredSources: ['10.0.0.2'] });
    expect((await t.service.reconfigure(model(unicast('10.0.0.9')))).inPlace).toBe(true);
    expect(t.transports[0]!.filters.at(-1)).toEqual({ destinations: ['10.0.0.9'], vrids: [51], preferredSources: ['10.0.0.2'] });
  });

  it('a new priority goes out in the next advert; no transition, no priority 0', async () => {
    const t = await master(['10.0.0.200']);
    expect((await t.service.reconfigure(model(conf({ priority: 120, vips: ['10.0.0.200'] })))).inPlace).toBe(true);
    t.clock.advance(1000);
    await settle();
    expect(t.log).toEqual(['advert prio 120 10.0.0.1>224.0.0.18']);
    expect(t.service.status()[0]).toMatchObject({ state: 'MASTER', basePriority: 120, effectivePriority: 120 });
  });

  it('a renamed instance on the same interface and VRID keeps its state; notify uses the new name', async () => {
    const t = await master(['10.0.0.200']);
    const before = t.service.status()[0]!.lastTransition;
    expect((await t.service.reconfigure(model(conf({ name: 'VI_NEW', vips: ['10.0.0.200'] })))).inPlace).toBe(true);
    expect(t.service.status()[0]).toMatchObject({ name: 'VI_NEW', state: 'MASTER', lastTransition: before });
    await t.service.stop();
    expect(t.scripts.map((s) => s.argv)).toContainEqual(['/usr/local/bin/notify.sh', 'arg1', 'INSTANCE', 'VI_NEW', 'STOP', '150']);
  });

  it('another VRID is another instance: refused, nothing touched', async () => {
    const t = await master(['10.0.0.200']);
    const result = await t.service.reconfigure(model(conf({ vrid: 52, vips: ['10.0.0.200'] })));
    expect(result.inPlace).toBe(false);
    await settle();
    expect(t.log).toEqual([]);
    expect(t.service.status()[0]).toMatchObject({ vrid: 51, state: 'MASTER' });
  });

  it('a track_script added by reload starts running and its weight applies', async () => {
    const t = await master(['10.0.0.200']);
    const tracked = conf({ vips: ['10.0.0.200'] }).replace('  notify "', '  track_script {\n    chk\n  }\n  notify "');
    const withScript = `vrrp_script chk {\n  script "/usr/local/bin/chk"\n  interval 1\n  weight 10\n}\n${tracked}`;
    expect((await t.service.reconfigure(model(withScript))).inPlace).toBe(true);
    await settle();
    expect(t.scripts.map((s) => s.argv)).toContainEqual(['/usr/local/bin/chk']);
    expect(t.service.status()[0]).toMatchObject({ state: 'MASTER', effectivePriority: 160 });
  });
});

describe('VIPs left by a previous run (core/leftoverVips.ts)', () => {
  const MASTER = BASE.replace('state BACKUP', 'state MASTER');
  const higherAdvert = async (t: ReturnType<typeof setup>, priority: number): Promise<void> => {
    const { encodeAdvert } = await import('../../src/vrrp/codec/advertCodec.js');
    const { encodeIpv4Header } = await import('../../src/vrrp/codec/ipv4Header.js');
    const msg = encodeAdvert({ version: 2, vrid: 51, priority, addresses: ['10.0.0.200'], advertInt: 1, maxAdvertIntCs: 100, authType: 0, authData: new Uint8Array(8) }, { srcIp: '10.0.0.2', dstIp: '224.0.0.18' });
    t.transports[0]!.handler(Buffer.concat([encodeIpv4Header({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', protocol: 112, payloadLength: msg.length }), msg]));
  };
  const leftover = (t: ReturnType<typeof setup>): void => {
    t.netlink.addrs.push({ address: '10.0.0.200', prefixLength: 24, ifindex: 2 });
  };
  const holds = (t: ReturnType<typeof setup>): boolean => t.netlink.addrs.some((a) => a.address === '10.0.0.200');

  it('state MASTER alone: the VIP is kept through the start-up wait and adopted as master — never removed', async () => {
    const t = setup(MASTER);
    leftover(t);
    await t.service.start();
    expect(t.service.status()[0]!.state).toBe('BACKUP');
    expect(holds(t)).toBe(true);
    t.clock.advance(1000 + 1000 / 256 + 1);
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    expect(holds(t)).toBe(true);
    expect(t.log.filter((e) => e.startsWith('remove'))).toEqual([]);
    expect(t.log).toContain('garp 2 10.0.0.200');
    // Adopted: a later loss of mastership releases it the normal way.
    await higherAdvert(t, 200);
    await settle();
    expect(holds(t)).toBe(false);
  });

  it('priority 255 (owner): master at once with the VIP it found, no remove', async () => {
    const t = setup(BASE.replace('priority 150', 'priority 255'));
    leftover(t);
    await t.service.start();
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    expect(t.log.filter((e) => e.startsWith('remove'))).toEqual([]);
    expect(holds(t)).toBe(true);
  });

  it('state MASTER hearing a higher-priority master during the start-up wait: the leftover goes at once', async () => {
    const t = setup(MASTER);
    leftover(t);
    await t.service.start();
    expect(holds(t)).toBe(true);
    await higherAdvert(t, 200);
    await settle();
    expect(t.service.status()[0]).toMatchObject({ state: 'BACKUP', masterIp: '10.0.0.2' });
    expect(holds(t)).toBe(false);
    // …and it stays a backup without the VIP while that master speaks.
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      await higherAdvert(t, 200);
    }
    await settle();
    expect(t.service.status()[0]!.state).toBe('BACKUP');
    expect(holds(t)).toBe(false);
  });

  it('state MASTER hearing a lower-priority master: the leftover goes too (that master holds the VIP until preempted)', async () => {
    const t = setup(MASTER);
    leftover(t);
    await t.service.start();
    await higherAdvert(t, 100);
    await settle();
    expect(holds(t)).toBe(false);
    t.clock.advance(1000 + 1000 / 256 + 1);
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    expect(holds(t)).toBe(true);
  });

  it('state MASTER starting with its interface down (FAULT): the leftover goes at once', async () => {
    const t = setup(MASTER);
    leftover(t);
    (t.netlink.eth0 as { up: boolean }).up = false;
    await t.service.start();
    await settle();
    expect(t.service.status()[0]!.state).toBe('FAULT');
    expect(holds(t)).toBe(false);
  });
});

describe('VrrpService track_file and notify events', () => {
  /** A fake watch per path: `set` plays the file changing. */
  function fakeFiles(initial: Record<string, number>) {
    const watches = new Map<string, { onValue: (v: number) => void; closed: boolean }>();
    return {
      watches,
      set: (file: string, v: number) => watches.get(file)!.onValue(v),
      watchTrackFile: (file: string, onValue: (v: number) => void) => {
        const w = { onValue, closed: false };
        watches.set(file, w);
        return { initialValue: initial[file] ?? 0, close: () => { w.closed = true; } };
      },
    };
  }
  const withFile = (file: string, weight: string) =>
    `track_file f {\n  file ${file}\n  weight ${weight}\n}\n${BASE.replace('  notify "', '  track_file {\n    f\n  }\n  notify "')}`;

  it('the file value × weight moves the advertised priority; weight 0 and a non-zero value is FAULT; notifications in order', async () => {
    const files = fakeFiles({ '/run/prio': 1 });
    const notes: VrrpNotification[] = [];
    const t = setup(withFile('/run/prio', '-10'), { watchTrackFile: files.watchTrackFile, onNotify: (n) => notes.push(n) });
    await t.service.start();
    expect(t.service.status()[0]).toMatchObject({ effectivePriority: 140 });
    t.clock.advance(4000);
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    files.set('/run/prio', 3);
    t.log.length = 0;
    t.clock.advance(1000);
    expect(t.log).toContain('advert prio 120 10.0.0.1>224.0.0.18');
    await t.service.stop();
    expect(files.watches.get('/run/prio')!.closed).toBe(true);
    expect(notes).toEqual([
      { type: 'INSTANCE', name: 'VI_1', state: 'BACKUP', priority: 140 },
      { type: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 140 },
      { type: 'INSTANCE', name: 'VI_1', state: 'STOP', priority: 120 },
    ]);
  });

  it('weight 0: FAULT while the file is non-zero, and back', async () => {
    const files = fakeFiles({});
    const t = setup(withFile('/run/stop', '0'), { watchTrackFile: files.watchTrackFile });
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    expect(t.service.status()[0]!.state).toBe('MASTER');
    files.set('/run/stop', 1);
    await settle();
    expect(t.service.status()[0]!.state).toBe('FAULT');
    files.set('/run/stop', 0);
    await settle();
    expect(t.service.status()[0]!.state).toBe('BACKUP');
  });

  it('a reload that points the track_file elsewhere watches the new file and closes the old watch', async () => {
    const files = fakeFiles({ '/run/b': 2 });
    const t = setup(withFile('/run/a', '-10'), { watchTrackFile: files.watchTrackFile });
    await t.service.start();
    expect((await t.service.reconfigure(model(withFile('/run/b', '-10')))).inPlace).toBe(true);
    expect(files.watches.get('/run/a')!.closed).toBe(true);
    expect(files.watches.get('/run/b')!.closed).toBe(false);
    expect(t.service.status()[0]).toMatchObject({ effectivePriority: 130 });
    await t.service.stop();
  });
});


describe('VrrpService: a burst of gratuitous ARPs under way', () => {
  // vrrp_garp_interval 10: the second of garp_master_repeat 2 ARPs waits 10 s on the clock.
  const SLOW = `global_defs {\n  vrrp_garp_interval 10\n}\n${BASE}`;
  const garps = (log: Event[]) => log.filter((e) => e.startsWith('garp '));

  it('a master that yields mid-burst sends no more ARPs and releases its VIP without waiting out the gap', async () => {
    const t = setup(SLOW);
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    expect(garps(t.log)).toEqual(['garp 2 10.0.0.200']);
    t.log.length = 0;
    const { encodeAdvert } = await import('../../src/vrrp/codec/advertCodec.js');
    const { encodeIpv4Header } = await import('../../src/vrrp/codec/ipv4Header.js');
    const msg = encodeAdvert({ version: 2, vrid: 51, priority: 200, addresses: ['10.0.0.200'], advertInt: 1, maxAdvertIntCs: 100, authType: 0, authData: new Uint8Array(8) }, { srcIp: '10.0.0.2', dstIp: '224.0.0.18' });
    const peerAdvert = () => t.transports[0]!.handler(Buffer.concat([encodeIpv4Header({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', protocol: 112, payloadLength: msg.length }), msg]));
    peerAdvert();
    await settle();
    expect(t.service.status()[0]!.state).toBe('BACKUP');
    expect(t.log).toContain('remove 10.0.0.200'); // queued behind the burst, yet not 10 s later
    for (let s = 0; s < 11; s++) {
      // Past the gap's end, the peer still master: the yielded burst never resumes.
      t.clock.advance(1000);
      peerAdvert();
      await settle();
    }
    expect(t.service.status()[0]!.state).toBe('BACKUP');
    expect(garps(t.log)).toEqual([]);
    await t.service.stop();
  });

  it('stop mid-burst: no more ARPs, and the stop does not wait out the gap', async () => {
    const t = setup(SLOW);
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    expect(garps(t.log)).toHaveLength(1);
    t.log.length = 0;
    await t.service.stop(); // the clock stands still: a stop waiting for the gap would never end
    expect(t.log).toContain('remove 10.0.0.200');
    expect(garps(t.log)).toEqual([]);
    expect(t.clock.pending).toBe(0);
  });
});

describe('VrrpService: unsolicited NAs and VMAC', () => {
  it('an IPv6 excluded VIP gets NAs on the GARP schedule, spaced by vrrp_gna_interval; IPv4 ARPs are not', async () => {
    const frames: { at: number; frame: Buffer }[] = [];
    const conf = `global_defs {\n  vrrp_gna_interval 0.05\n}\n${BASE.replace('    10.0.0.200/24\n  }', '    10.0.0.200/24\n  }\n  virtual_ipaddress_excluded {\n    fd00::200/64\n  }')}`;
    const t = setup(conf, { frameSender: { sendFrame: (_i: number, frame: Buffer) => (frames.push({ at: t.clock.now(), frame }), frame.length) } });
    await t.service.start();
    t.clock.advance(4000);
    await settle();
    const { decodeNeighbourAdvertFrame } = await import('../../src/net/neighbourAdvertFrame.js');
    const arps = frames.filter((f) => f.frame.readUInt16BE(12) === 0x0806);
    const nas = () => frames.filter((f) => f.frame.readUInt16BE(12) === 0x86dd);
    expect(arps).toHaveLength(2); // garp_master_repeat 2
    expect(nas()).toHaveLength(1); // the second waits vrrp_gna_interval on the service's clock
    t.clock.advance(49);
    await settle();
    expect(nas()).toHaveLength(1);
    t.clock.advance(1);
    await settle();
    expect(nas()).toHaveLength(2);
    expect(decodeNeighbourAdvertFrame(nas()[0]!.frame)).toMatchObject({ target: 'fd00::200', override: true, sourceMac: '02:00:5e:00:00:01', checksumValid: true });
    expect(nas()[1]!.at - nas()[0]!.at).toBe(50); // vrrp_gna_interval 50 ms
    expect(arps[1]!.at - arps[0]!.at).toBe(0); // vrrp_garp_interval 0
    expect(t.service.status()[0]).toMatchObject({ garp: { garpSent: 2, garpErrors: 0 }, na: { naSent: 2, naErrors: 0 } });
  });

  class VmacNetlink extends FakeNetlink implements LinkControl {
    readonly extra: LinkInfo[] = [];
    override async links(): Promise<LinkInfo[]> {
      return [this.eth0, ...this.extra];
    }
    override async linkByName(name: string): Promise<LinkInfo | undefined> {
      return (await this.links()).find((l) => l.name === name);
    }
    async addMacvlan(spec: MacvlanSpec): Promise<LinkInfo> {
      const link: LinkInfo = { index: 10 + this.extra.length, name: spec.name, mac: spec.mac, adminUp: false, up: false, kind: 'macvlan', parentIndex: spec.parentIndex, macvlanMode: spec.mode };
      this.extra.push(link);
      return link;
    }
    async setLinkUp(index: number): Promise<void> {
      const link = this.extra.find((l) => l.index === index)!;
      link.adminUp = link.up = true;
    }
    async deleteLink(index: number): Promise<AddressChange> {
      const i = this.extra.findIndex((l) => l.index === index);
      if (i < 0) return 'unchanged';
      this.extra.splice(i, 1);
      return 'changed';
    }
  }

  function vmacSetup(instanceLines: string, leftover?: LinkInfo) {
    const netlink = new VmacNetlink([]);
    if (leftover) netlink.extra.push(leftover);
    const sysctls = new Map<string, number>([['net/ipv4/conf/eth0/arp_ignore', 0], ['net/ipv4/conf/eth0/arp_filter', 0]]);
    const sysctl = { read: (p: string) => sysctls.get(p), write: (p: string, v: number) => void sysctls.set(p, v) };
    const t = setup(BASE.replace('  notify ', `${instanceLines}\n  notify `), { netlink, linkControl: netlink, sysctl });
    return { ...t, netlink, sysctls };
  }

  it('use_vmac: creates vrrp.51 (00:00:5e:00:01:33), puts the VIP and the adverts on it, sysctls set; stop removes it and restores', async () => {
    const t = vmacSetup('  use_vmac');
    await t.service.start();
    expect(t.netlink.extra).toMatchObject([{ name: 'vrrp.51', parentIndex: 2, macvlanMode: 1, up: true }]);
    expect(t.netlink.extra[0]!.mac.toString('hex')).toBe('00005e000133');
    expect(t.transports[0]!.options).toMatchObject({ ifname: 'vrrp.51', ifindex: 10 });
    expect(t.sysctls.get('net/ipv4/conf/vrrp.51/arp_ignore')).toBe(1);
    expect(t.sysctls.get('net/ipv4/conf/eth0/arp_filter')).toBe(1);
    t.clock.advance(4000);
    await settle();
    expect(t.netlink.addrs).toContainEqual({ address: '10.0.0.200', prefixLength: 24, ifindex: 10 });
    expect(t.service.status()[0]).toMatchObject({ state: 'MASTER', sourceIp: '10.0.0.1' });
    await t.service.stop();
    expect(t.netlink.extra).toEqual([]);
    expect([t.sysctls.get('net/ipv4/conf/eth0/arp_ignore'), t.sysctls.get('net/ipv4/conf/eth0/arp_filter')]).toEqual([0, 0]);
  });

  it('vmac_xmit_base: VIPs on the VMAC, adverts on the base interface', async () => {
    const t = vmacSetup('  use_vmac vmac51\n  vmac_xmit_base');
    await t.service.start();
    expect(t.netlink.extra.map((l) => l.name)).toEqual(['vmac51']);
    expect(t.transports[0]!.options).toMatchObject({ ifname: 'eth0', ifindex: 2 });
    await t.service.stop();
  });

  it('a leftover macvlan is taken over; a wrong one recreated; a non-macvlan of that name refused and kept', async () => {
    const mac = Buffer.from('00005e000133', 'hex');
    const same = vmacSetup('  use_vmac', { index: 7, name: 'vrrp.51', mac, adminUp: true, up: true, kind: 'macvlan', parentIndex: 2, macvlanMode: 1 });
    await same.service.start();
    expect(same.netlink.extra.map((l) => l.index)).toEqual([7]);
    await same.service.stop();
    const wrong = vmacSetup('  use_vmac', { index: 7, name: 'vrrp.51', mac, adminUp: true, up: true, kind: 'macvlan', parentIndex: 2, macvlanMode: 4 });
    await wrong.service.start();
    expect(wrong.netlink.extra.map((l) => [l.index, l.macvlanMode])).toEqual([[10, 1]]);
    await wrong.service.stop();
    const dummy = vmacSetup('  use_vmac', { index: 7, name: 'vrrp.51', mac, adminUp: true, up: true, kind: 'dummy' });
    await expect(dummy.service.start()).rejects.toThrow(/vrrp.51 exists and is not a macvlan \(dummy\)/);
    expect(dummy.netlink.extra.map((l) => l.index)).toEqual([7]);
    await dummy.service.stop();
  });

  const eth1: LinkInfo = { index: 3, name: 'eth1', mac: Buffer.from('02005e000002', 'hex'), adminUp: true, up: true };
  function vmacAddrSetup(instanceLines: string, leftover?: LinkInfo) {
    const t = vmacSetup(instanceLines, { ...eth1 });
    if (leftover) t.netlink.extra.push(leftover);
    t.sysctls.set('net/ipv4/conf/eth1/arp_ignore', 0).set('net/ipv4/conf/eth1/arp_filter', 0);
    return t;
  }
  const OTHER_VIPS = '  virtual_ipaddress {\n    10.0.0.200/24\n    10.1.0.200/24 dev eth1\n  }\n  virtual_ipaddress_excluded {\n    fd00::200/64\n  }';
  const vipsOn = (t: ReturnType<typeof vmacSetup>) => Object.fromEntries(t.netlink.addrs.map((a) => [a.address, (t.netlink.extra.find((l) => l.index === a.ifindex) ?? t.netlink.eth0).name]));

  it('use_vmac + use_vmac_addr: an address VMAC per other interface and family (keepalived names), VIPs on them, all removed at stop', async () => {
    const t = vmacAddrSetup(`  use_vmac\n  use_vmac_addr\n${OTHER_VIPS}`);
    await t.service.start();
    expect(t.netlink.extra.map((l) => [l.name, l.parentIndex, l.mac.toString('hex'), l.macvlanMode, l.up])).toEqual([
      ['eth1', undefined, '02005e000002', undefined, true],
      ['vrrp.51', 2, '00005e000133', 1, true],
      ['vrrp1.51', 3, '00005e000133', 1, true],
      ['vrrp6.51', 2, '00005e000233', 1, true],
    ]);
    expect(t.sysctls.get('net/ipv4/conf/eth1/arp_filter')).toBe(1);
    expect(t.sysctls.get('net/ipv6/conf/vrrp6.51/addr_gen_mode')).toBe(1);
    expect(t.transports.map((x) => x.options.ifname)).toEqual(['vrrp.51']);
    t.clock.advance(4000);
    await settle();
    expect(t.service.status()[0]).toMatchObject({ state: 'MASTER' });
    // The IPv6 VMAC got the parent's link-local (here derived from eth0's MAC: the fake parent has none).
    expect(vipsOn(t)).toEqual({ '10.0.0.1': 'eth0', 'fe80::5eff:fe00:1': 'vrrp6.51', '10.0.0.200': 'vrrp.51', '10.1.0.200': 'vrrp1.51', 'fd00::200': 'vrrp6.51' });
    await t.service.stop();
    expect(t.netlink.extra.map((l) => l.name)).toEqual(['eth1']);
    expect([t.sysctls.get('net/ipv4/conf/eth1/arp_ignore'), t.sysctls.get('net/ipv4/conf/eth1/arp_filter')]).toEqual([0, 0]);
  });

  it('use_vmac_addr alone: own-family VIPs stay on the interface; a leftover private macvlan with the MAC is taken over', async () => {
    const t = vmacAddrSetup(`  use_vmac_addr\n${OTHER_VIPS}`);
    await t.service.start();
    expect(t.netlink.extra.map((l) => l.name)).toEqual(['eth1', 'vrrp.51', 'vrrp6.51']);
    t.clock.advance(4000);
    await settle();
    expect(vipsOn(t)).toEqual({ '10.0.0.1': 'eth0', 'fe80::5eff:fe00:1': 'vrrp6.51', '10.0.0.200': 'eth0', '10.1.0.200': 'vrrp.51', 'fd00::200': 'vrrp6.51' });
    await t.service.stop();

    const leftover: LinkInfo = { index: 7, name: 'old51', mac: Buffer.from('00005e000133', 'hex'), adminUp: true, up: true, kind: 'macvlan', parentIndex: 3, macvlanMode: 1 };
    const again = vmacAddrSetup(`  use_vmac_addr\n${OTHER_VIPS}`, leftover);
    await again.service.start();
    expect(again.netlink.extra.map((l) => [l.name, l.index])).toEqual([['eth1', 3], ['old51', 7], ['vrrp.51', 12]]);
    again.clock.advance(4000);
    await settle();
    expect(vipsOn(again)).toMatchObject({ '10.1.0.200': 'old51', 'fd00::200': 'vrrp.51' });
    await again.service.stop();
  });

  it('use_vmac with unicast_peer but no vmac_xmit_base is refused with FILE:LINE', async () => {
    await expect(vmacSetup('  use_vmac\n  unicast_peer {\n    10.0.0.2\n  }').service.start()).rejects.toThrow(/needs vmac_xmit_base/);
  });
});

describe('VMAC parent sysctls shared by two units', () => {
  it('the last VMAC to go restores the parent', async () => {
    const { VmacManager } = await import('../../src/vrrp/edge/vmacManager.js');
    const { vmacPlan } = await import('../../src/vrrp/core/vmac.js');
    const values = new Map<string, number>([['net/ipv4/conf/eth9/arp_ignore', 0], ['net/ipv4/conf/eth9/arp_filter', 0]]);
    const sysctl = { read: (p: string) => values.get(p), write: (p: string, v: number) => void values.set(p, v) };
    const parent: LinkInfo = { index: 9, name: 'eth9', mac: Buffer.alloc(6), adminUp: true, up: true };
    let next = 20;
    const netlink = {
      links: async () => [],
      addMacvlan: async (spec: MacvlanSpec): Promise<LinkInfo> => ({ index: next++, name: spec.name, mac: spec.mac, adminUp: true, up: true, kind: 'macvlan' }),
      setLinkUp: async () => undefined,
      deleteLink: async (): Promise<AddressChange> => 'changed',
    } as unknown as RtNetlink & LinkControl;
    const vip = { address: '10.0.0.1' };
    const one = new VmacManager(netlink, sysctl);
    const two = new VmacManager(netlink, sysctl);
    await one.ensure(vmacPlan({ virtualRouterId: 1, vmacXmitBase: false, virtualIpAddresses: [vip], virtualIpAddressesExcluded: [] }, 'eth9'), parent);
    await two.ensure(vmacPlan({ virtualRouterId: 2, vmacXmitBase: false, virtualIpAddresses: [vip], virtualIpAddressesExcluded: [] }, 'eth9'), parent);
    expect(values.get('net/ipv4/conf/eth9/arp_ignore')).toBe(1);
    await one.remove();
    expect(values.get('net/ipv4/conf/eth9/arp_ignore')).toBe(1); // the other VMAC still needs it
    await two.remove();
    expect([values.get('net/ipv4/conf/eth9/arp_ignore'), values.get('net/ipv4/conf/eth9/arp_filter')]).toEqual([0, 0]);
  });
});
