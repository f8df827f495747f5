import type { VrrpInstance } from '../../config/model.js';
import { formatIpv6 } from '../../util/ipAddress.js';

/** Address text is IPv6 when it has a colon (the config compiler has validated it). */
const isIPv6 = (address: string): boolean => address.includes(':');

/**
 * What keepalived 2.2.7 does for `use_vmac` (vrrp_vmac.c, vrrp_if_config.c), as data: the macvlan's name
 * and MAC, and the sysctls it sets on the VMAC and on its parent. Pure: the edge (edge/vmacManager.ts)
 * applies it.
 */
export interface VmacPlan {
  name: string;
  /** 00:00:5e:00:01:VRID (IPv4 instance) or 00:00:5e:00:02:VRID (IPv6), or the configured one. */
  mac: Buffer;
  /** Sysctls on the VMAC: path under /proc/sys, value. */
  vmacSysctls: { path: string; value: number }[];
  /** Sysctls on the parent, set while the VMAC lives and restored (to what was read) when it goes. */
  parentSysctls: { path: string; value: number }[];
  /** Adverts leave from the parent, not the VMAC (vmac_xmit_base). */
  xmitBase: boolean;
  /**
   * The parent's link-local address is added to the VMAC (keepalived's set_link_local_address, for an IPv6
   * VMAC that is not vmac_xmit_base): the adverts and NAs it sends need a link-local source on it, and one
   * derived from the virtual MAC would be the same on every router (RFC 5798 §7.4).
   */
  copyParentLinkLocal: boolean;
}

/** What the plan reads of an instance (its VIP lines only by address and dev). */
export type VmacInstance = Pick<VrrpInstance, 'virtualRouterId' | 'vmacName' | 'vmacMac' | 'vmacXmitBase'> & {
  virtualIpAddresses: readonly { address: string; dev?: string | undefined }[];
  virtualIpAddressesExcluded: readonly { address: string; dev?: string | undefined }[];
};

/** The instance's family as the VMAC sees it: IPv6 when its VIPs are IPv6 (keepalived: the first VIP's). */
function isIpv6Instance(instance: Pick<VmacInstance, 'virtualIpAddresses'>): boolean {
  const first = instance.virtualIpAddresses[0];
  return first !== undefined && isIPv6(first.address);
}

export function vmacPlan(instance: VmacInstance, parentName: string): VmacPlan {
  const ipv6 = isIpv6Instance(instance);
  const name = instance.vmacName ?? `vrrp.${instance.virtualRouterId}`;
  // keepalived's VRRP_FLAG_EVIP_OTHER_FAMILY: an IPv4 VMAC keeps IPv6 when the instance has IPv6 eVIPs.
  const otherFamilyEvips = instance.virtualIpAddressesExcluded.some((v) => isIPv6(v.address) !== ipv6);
  return planFor(name, vmacMac(instance, ipv6), ipv6, parentName, instance.vmacXmitBase, otherFamilyEvips);
}

/** The VMAC's MAC: the configured one (a 5-octet one gets the VRID) or 00:00:5e:00:01|02:VRID by family. */
function vmacMac(instance: Pick<VmacInstance, 'virtualRouterId' | 'vmacMac'>, ipv6: boolean): Buffer {
  const vrid = instance.virtualRouterId;
  if (instance.vmacMac) {
    const octets = instance.vmacMac.split(':').map((o) => parseInt(o, 16));
    return Buffer.from(octets.length === 5 ? [...octets, vrid] : octets);
  }
  return Buffer.from([0x00, 0x00, 0x5e, 0x00, ipv6 ? 0x02 : 0x01, vrid]);
}

function planFor(name: string, mac: Buffer, ipv6: boolean, parentName: string, xmitBase: boolean, otherFamilyEvips: boolean): VmacPlan {
  const conf = (dev: string, key: string) => `net/ipv4/conf/${dev}/${key}`;
  // keepalived 2.2.7 (set_interface_parameters, IPv4 VMACs): arp_ignore 1, accept_local 1 (our own
  // adverts, sent from the parent's address, come back on it), rp_filter 0, promote_secondaries 1 on the
  // VMAC; arp_ignore 1 and arp_filter 1 on the parent, so only the VMAC answers ARP for the VIPs — with its
  // virtual MAC. keepalived leaves an IPv6 VMAC at arp_ignore 0, and then it answers ARP for the IPv4 VIPs
  // of the VMACs beside it with 00:00:5e:00:02:VRID (test/ns/vrrpVmacAddr.test.ts); tslvsd sets 1 on all.
  const vmacSysctls = [{ path: conf(name, 'arp_ignore'), value: 1 }];
  const parentSysctls: { path: string; value: number }[] = [];
  if (!ipv6) {
    vmacSysctls.push({ path: conf(name, 'accept_local'), value: 1 }, { path: conf(name, 'rp_filter'), value: 0 }, { path: conf(name, 'promote_secondaries'), value: 1 });
    parentSysctls.push({ path: conf(parentName, 'arp_ignore'), value: 1 }, { path: conf(parentName, 'arp_filter'), value: 1 });
  }
  // No link-local address from the virtual MAC (RFC 5798 §7.4): addr_gen_mode none on every VMAC; IPv6 off
  // on an IPv4 one unless the instance has IPv6 eVIPs (keepalived's link_set_ipv6).
  const keepIpv6 = ipv6 || otherFamilyEvips;
  vmacSysctls.push({ path: `net/ipv6/conf/${name}/addr_gen_mode`, value: 1 }, { path: `net/ipv6/conf/${name}/disable_ipv6`, value: keepIpv6 ? 0 : 1 });
  return { name, mac, vmacSysctls, parentSysctls, xmitBase, copyParentLinkLocal: ipv6 && !xmitBase };
}

// ------------------------------------------------------------------------------------------ use_vmac_addr

/** Where a VIP line goes: the instance's VMAC, an interface as it is, or an address VMAC on an interface. */
export type VipPlacement =
  | { on: 'instanceVmac' }
  | { on: 'interface'; dev: string }
  | { on: 'addressVmac'; base: string; ipv6: boolean };

/** What the placement reads of an instance. */
export type PlacementInstance = Pick<VmacInstance, 'virtualIpAddresses'> & Pick<VrrpInstance, 'useVmac' | 'useVmacAddr'>;

/**
 * keepalived 2.2.7's placement (vrrp.c, vrrp_complete_instance): with `use_vmac` the VIPs/eVIPs of the
 * instance's family that name no other interface go on the instance's VMAC; with `use_vmac_addr` every
 * other one — on another interface, or of the other family on the instance's interface — goes on a VMAC
 * of its own on that interface, with the MAC of the VIP's family; without it those stay where they are.
 */
export function placeVip(instance: PlacementInstance, vip: { address: string; dev?: string | undefined }, parentName: string): VipPlacement {
  const dev = vip.dev ?? parentName;
  const ipv6 = isIPv6(vip.address);
  const sameFamily = ipv6 === isIpv6Instance(instance);
  if (dev === parentName) {
    if (instance.useVmac && sameFamily) return { on: 'instanceVmac' };
    if (instance.useVmacAddr && !sameFamily) return { on: 'addressVmac', base: dev, ipv6 };
    return { on: 'interface', dev };
  }
  return instance.useVmacAddr ? { on: 'addressVmac', base: dev, ipv6 } : { on: 'interface', dev };
}

/** The address VMACs an instance needs, one per interface and family, in the order its VIPs name them. */
export function addressVmacsOf(instance: PlacementInstance & { virtualIpAddressesExcluded: VmacInstance['virtualIpAddressesExcluded'] }, parentName: string): { base: string; ipv6: boolean }[] {
  const out: { base: string; ipv6: boolean }[] = [];
  for (const vip of [...instance.virtualIpAddresses, ...instance.virtualIpAddressesExcluded]) {
    const p = placeVip(instance, vip, parentName);
    if (p.on === 'addressVmac' && !out.some((o) => o.base === p.base && o.ipv6 === p.ipv6)) out.push({ base: p.base, ipv6: p.ipv6 });
  }
  return out;
}

/**
 * keepalived's create_vmac_name: `vrrp.VRID` unless an interface (or another VMAC) has that name, then
 * `vrrpN.VRID` with N = 1, 2, … (for IPv6 6 first, then 1, 2, …, skipping 6).
 */
export function addressVmacName(vrid: number, ipv6: boolean, taken: (name: string) => boolean): string {
  const prefix = 'vrrp';
  if (!taken(`${prefix}.${vrid}`)) return `${prefix}.${vrid}`;
  const order = ipv6 ? [6, 1, 2, 3, 4, 5] : [1, 2, 3, 4, 5, 6];
  for (let n = 0; ; n++) {
    const num = n < order.length ? order[n]! : n + 1;
    const name = `${prefix}${num}.${vrid}`;
    if (!taken(name)) return name;
  }
}

/**
 * The plan of an address VMAC: the instance's VRID and MAC setting, the VIP's family. keepalived builds it
 * as a stand-in instance of that family with no flags, so it is not xmit_base (an IPv6 one gets the
 * parent's link-local) and has no other-family eVIPs.
 */
export function addressVmacPlan(instance: Pick<VmacInstance, 'virtualRouterId' | 'vmacMac'>, base: string, ipv6: boolean, name: string): VmacPlan {
  return planFor(name, vmacMac(instance, ipv6), ipv6, base, false, false);
}

/** keepalived's make_link_local_address: fe80::/64 with the EUI-64 of a MAC (used when the parent has none). */
export function eui64LinkLocal(mac: Buffer): string {
  const b = new Uint8Array(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b.set([mac[0]! ^ 0x02, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!], 8);
  return formatIpv6(b);
}
