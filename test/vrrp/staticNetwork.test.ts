import { describe, expect, it } from 'vitest';
import type { RouteEntry, RuleEntry } from '../../src/net/routeCodec.js';
import type { AddressChange, InterfaceAddress, LinkInfo, RtNetlink } from '../../src/net/rtnetlink.js';
import { StaticNetwork } from '../../src/vrrp/staticNetwork.js';
import { silentLogger } from '../../src/util/log.js';
import { model } from '../config/helpers.js';

/** A kernel of routes and rules, keyed as the kernel would (table, destination, metric; rule priority). */
class FakeKernel implements RtNetlink {
  routesHeld: RouteEntry[] = [];
  rulesHeld: RuleEntry[] = [];
  addrs: InterfaceAddress[] = [];
  log: string[] = [];
  private readonly eth0: LinkInfo = { index: 2, name: 'eth0', mac: Buffer.alloc(6), adminUp: true, up: true };
  async links() { return [this.eth0]; }
  async linkByName(name: string) { return name === 'eth0' ? this.eth0 : undefined; }
  async linkByIndex(index: number) { return index === 2 ? this.eth0 : undefined; }
  async addresses() { return [...this.addrs]; }
  async addAddress(a: InterfaceAddress): Promise<AddressChange> { this.log.push(`addr add ${a.address}`); if (this.addrs.some((x) => x.address === a.address)) return 'unchanged'; this.addrs.push(a); return 'changed'; }
  async removeAddress(a: InterfaceAddress): Promise<AddressChange> { this.log.push(`addr del ${a.address}`); const n = this.addrs.length; this.addrs = this.addrs.filter((x) => x.address !== a.address); return n === this.addrs.length ? 'unchanged' : 'changed'; }
  async routes() { return [...this.routesHeld]; }
  private same = (x: RouteEntry, r: RouteEntry) => x.table === r.table && x.destination === r.destination && x.prefixLength === r.prefixLength && (x.metric ?? 0) === (r.metric ?? 0);
  async addRoute(r: RouteEntry): Promise<AddressChange> { this.log.push(`route add ${r.destination}/${r.prefixLength} via ${r.gateway}`); if (this.routesHeld.some((x) => this.same(x, r))) return 'unchanged'; this.routesHeld.push(r); return 'changed'; }
  async removeRoute(r: RouteEntry): Promise<AddressChange> { this.log.push(`route del ${r.destination}/${r.prefixLength}`); const n = this.routesHeld.length; this.routesHeld = this.routesHeld.filter((x) => !(this.same(x, r) && x.protocol === r.protocol)); return n === this.routesHeld.length ? 'unchanged' : 'changed'; }
  async rules() { return [...this.rulesHeld]; }
  async addRule(r: RuleEntry): Promise<AddressChange> { this.log.push(`rule add ${r.priority}`); if (this.rulesHeld.some((x) => x.priority === r.priority)) return 'unchanged'; this.rulesHeld.push(r); return 'changed'; }
  async removeRule(r: RuleEntry): Promise<AddressChange> { this.log.push(`rule del ${r.priority}`); const n = this.rulesHeld.length; this.rulesHeld = this.rulesHeld.filter((x) => x.priority !== r.priority); return n === this.rulesHeld.length ? 'unchanged' : 'changed'; }
  onLinkChange() { return () => {}; }
  close() {}
}

const kernelRoute = (destination: string, over: Partial<RouteEntry> = {}): RouteEntry => ({
  family: 'inet', destination, prefixLength: 24, type: 'unicast', table: 254, protocol: 18, scope: 0, onlink: false, tos: 0, gateway: '10.0.0.254', oif: 2, ...over,
});

const CONF = 'static_ipaddress {\n  10.0.0.5/24 dev eth0\n}\nstatic_routes {\n  10.94.0.0/24 via 10.0.0.254 dev eth0\n  10.93.0.0/24 via 10.0.0.254 dev eth0\n}\nstatic_rules {\n  from 10.0.0.5 table 100 priority 50\n}\n';

describe('StaticNetwork', () => {
  it('at start clears protocol-18 leftovers the config has not as static, keeps the static ones and every other protocol', async () => {
    const k = new FakeKernel();
    k.routesHeld = [
      kernelRoute('10.94.0.0'), // a static one left by a crash: kept as is
      kernelRoute('10.98.0.0'), // a crashed run's virtual route: cleared
      kernelRoute('10.93.0.0', { gateway: '10.0.0.9' }), // a static route whose via changed: cleared, then added anew
      kernelRoute('10.92.0.0', { protocol: 4 }), // someone else's (proto static): never touched
    ];
    k.rulesHeld = [
      { family: 'inet', from: { address: '10.0.0.200', prefixLength: 32 }, action: 'table', table: 100, priority: 100, protocol: 18, tos: 0 },
      { family: 'inet', action: 'table', table: 254, priority: 32766, protocol: 2, tos: 0 },
    ];
    const net = new StaticNetwork(k, silentLogger());
    await net.start(model(CONF));
    expect(k.log.slice(0, 3)).toEqual(['route del 10.98.0.0/24', 'route del 10.93.0.0/24', 'rule del 100']);
    expect(k.routesHeld.map((r) => `${r.destination} ${r.gateway} ${r.protocol}`).sort()).toEqual([
      '10.92.0.0 10.0.0.254 4', '10.93.0.0 10.0.0.254 18', '10.94.0.0 10.0.0.254 18',
    ]);
    expect(k.rulesHeld.map((r) => r.priority).sort()).toEqual([32766, 50]);
    expect(k.addrs.map((a) => a.address)).toEqual(['10.0.0.5']);
    expect(net.status()).toEqual({
      addresses: ['10.0.0.5/24 dev eth0'], routes: ['10.94.0.0/24 via 10.0.0.254 dev eth0', '10.93.0.0/24 via 10.0.0.254 dev eth0'],
      rules: ['50: from 10.0.0.5 lookup 100'], errors: 0,
    });
  });

  it('a reload touches only what changed; stop removes rules, routes, then addresses', async () => {
    const k = new FakeKernel();
    const net = new StaticNetwork(k, silentLogger());
    await net.start(model(CONF));
    k.log = [];
    await net.reload(model(CONF.replace('10.93.0.0/24 via 10.0.0.254', '10.93.0.0/24 via 10.0.0.253')));
    expect(k.log).toEqual(['route del 10.93.0.0/24', 'route add 10.93.0.0/24 via 10.0.0.253']);
    k.log = [];
    await net.stop();
    expect(k.log).toEqual(['rule del 50', 'route del 10.94.0.0/24', 'route del 10.93.0.0/24', 'addr del 10.0.0.5']);
    expect(k.routesHeld).toEqual([]);
  });
});
