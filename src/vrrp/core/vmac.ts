import type { VrrpInstance } from '../../config/model.js';

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
}

/** What the plan reads of an instance (its VIP lines only by address and dev). */
export type VmacInstance = Pick<VrrpInstance, 'virtualRouterId' | 'vmacName' | 'vmacMac' | 'vmacXmitBase'> & {
  virtualIpAddresses: readonly { address: string; dev?: string }[];
  virtualIpAddressesExcluded: readonly { address: string; dev?: string }[];
};

/** The instance's family as the VMAC sees it: IPv6 when its VIPs are IPv6 (keepalived: the first VIP's). */
function isIpv6Instance(instance: Pick<VmacInstance, 'virtualIpAddresses'>): boolean {
  const first = instance.virtualIpAddresses[0];
  return first !== undefined && isIPv6(first.address);
}

/**
 * Whether a VIP line goes on the VMAC: keepalived 2.2.7 (vrrp.c, vrrp_complete_instance) moves the VIPs
 * and eVIPs of the instance's family that name no other interface; the other family's stay on the parent.
 */
export function vipGoesOnVmac(instance: Pick<VmacInstance, 'virtualIpAddresses'>, vip: { address: string; dev?: string }, parentName: string): boolean {
  return (vip.dev === undefined || vip.dev === parentName) && isIPv6(vip.address) === isIpv6Instance(instance);
}

export function vmacPlan(instance: VmacInstance, parentName: string): VmacPlan {
  const vrid = instance.virtualRouterId;
  const ipv6 = isIpv6Instance(instance);
  const name = instance.vmacName ?? `vrrp.${vrid}`;
  let mac: Buffer;
  if (instance.vmacMac) {
    const octets = instance.vmacMac.split(':').map((o) => parseInt(o, 16));
    mac = Buffer.from(octets.length === 5 ? [...octets, vrid] : octets);
  } else {
    mac = Buffer.from([0x00, 0x00, 0x5e, 0x00, ipv6 ? 0x02 : 0x01, vrid]);
  }
  const conf = (dev: string, key: string) => `net/ipv4/conf/${dev}/${key}`;
  // keepalived: arp_ignore 1 on the VMAC always; for IPv4 also accept_local 1 (our own adverts, sent from
  // the parent's address, come back on it), rp_filter 0, promote_secondaries 1; on the parent arp_ignore 1
  // and arp_filter 1, so only the VMAC answers ARP for the VIPs — with its virtual MAC.
  const vmacSysctls = [{ path: conf(name, 'arp_ignore'), value: 1 }];
  const parentSysctls: { path: string; value: number }[] = [];
  if (!ipv6) {
    vmacSysctls.push({ path: conf(name, 'accept_local'), value: 1 }, { path: conf(name, 'rp_filter'), value: 0 }, { path: conf(name, 'promote_secondaries'), value: 1 });
    parentSysctls.push({ path: conf(parentName, 'arp_ignore'), value: 1 }, { path: conf(parentName, 'arp_filter'), value: 1 });
  }
  // No link-local address from the virtual MAC (RFC 5798 §7.4): an IPv4 VMAC gets no IPv6 at all (its
  // IPv6 eVIPs stay on the parent), an IPv6 one keeps IPv6 without an autoconfigured address.
  vmacSysctls.push(ipv6 ? { path: `net/ipv6/conf/${name}/addr_gen_mode`, value: 1 } : { path: `net/ipv6/conf/${name}/disable_ipv6`, value: 1 });
  return { name, mac, vmacSysctls, parentSysctls, xmitBase: instance.vmacXmitBase };
}
