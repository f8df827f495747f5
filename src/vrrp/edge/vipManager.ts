import type { AddressScope, InterfaceAddress, RtNetlink } from '../../net/rtnetlink.js';

/**
 * Puts an instance's virtual (and excluded) addresses on and off their interfaces over rtnetlink. Each
 * address is handled on its own: one that fails (interface gone, kernel refusal) is reported and the rest
 * still move, because a master holding some VIPs serves more than one holding none.
 */

/** One VIP line, with `dev` already resolved (the instance's interface unless the line names another). */
export interface VipSpec {
  address: string;
  prefixLength: number;
  dev: string;
  broadcast?: string;
  scope?: string;
  label?: string;
  noPrefixRoute?: boolean;
}

export interface VipChangeReport {
  changed: number;
  unchanged: number;
  failed: { vip: VipSpec; error: string }[];
}

const SCOPE_NAMES = new Set(['global', 'site', 'link', 'host', 'nowhere']);

export class VipManager {
  constructor(private readonly netlink: RtNetlink) {}

  async addAll(vips: readonly VipSpec[]): Promise<VipChangeReport> {
    return await this.apply(vips, (addr) => this.netlink.addAddress(addr));
  }

  async removeAll(vips: readonly VipSpec[]): Promise<VipChangeReport> {
    return await this.apply(vips, (addr) => this.netlink.removeAddress(addr));
  }

  /** Those of `vips` that are on their interface now (address and prefix length), e.g. left by a crash. */
  async present(vips: readonly VipSpec[]): Promise<VipSpec[]> {
    if (vips.length === 0) return [];
    const links = await this.netlink.links().catch(() => []);
    const indexByName = new Map(links.map((l) => [l.name, l.index]));
    const onLink = new Set((await this.netlink.addresses()).map((a) => `${a.ifindex}/${a.address}/${a.prefixLength}`));
    return vips.filter((v) => onLink.has(`${indexByName.get(v.dev)}/${v.address}/${v.prefixLength}`));
  }

  private async apply(vips: readonly VipSpec[], op: (addr: InterfaceAddress) => Promise<'changed' | 'unchanged'>): Promise<VipChangeReport> {
    const report: VipChangeReport = { changed: 0, unchanged: 0, failed: [] };
    // Interface indexes are looked up per call: an interface recreated since start has a new index.
    const links = await this.netlink.links().catch(() => []);
    const indexByName = new Map(links.map((l) => [l.name, l.index]));
    await Promise.all(
      vips.map(async (vip) => {
        const ifindex = indexByName.get(vip.dev);
        if (ifindex === undefined) {
          report.failed.push({ vip, error: `no interface ${vip.dev}` });
          return;
        }
        try {
          const result = await op(toInterfaceAddress(vip, ifindex));
          if (result === 'changed') report.changed++;
          else report.unchanged++;
        } catch (error) {
          report.failed.push({ vip, error: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
    return report;
  }
}

export function toInterfaceAddress(vip: VipSpec, ifindex: number): InterfaceAddress {
  const addr: InterfaceAddress = { address: vip.address, prefixLength: vip.prefixLength, ifindex };
  if (vip.broadcast) addr.broadcast = vip.broadcast;
  if (vip.scope !== undefined) {
    const numeric = Number(vip.scope);
    addr.scope = SCOPE_NAMES.has(vip.scope) ? (vip.scope as AddressScope) : Number.isInteger(numeric) ? numeric : 'global';
  }
  if (vip.label) addr.label = vip.label;
  if (vip.noPrefixRoute) addr.noPrefixRoute = true;
  return addr;
}
