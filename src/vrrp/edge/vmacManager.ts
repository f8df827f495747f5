import { readFileSync, writeFileSync } from 'node:fs';
import { formatMac } from '../../net/arpFrame.js';
import { MACVLAN_MODE_PRIVATE, type LinkControl, type LinkInfo, type RtNetlink } from '../../net/rtnetlink.js';
import { eui64LinkLocal, type VmacPlan } from '../core/vmac.js';

/**
 * The VMAC edge: creates the macvlan of a VmacPlan over rtnetlink (mode private, as keepalived), sets its
 * sysctls and its parent's, brings it up (and gives an IPv6 one its parent's link-local address); removes it and restores the parent's sysctls at stop. A macvlan
 * of that name left by a crashed run on the same parent is taken over (the MAC and mode are fixed if
 * wrong, by recreating it), so a restart never leaves two; a name taken by anything but a macvlan is
 * refused, never deleted.
 */
export interface Sysctl {
  read(path: string): number | undefined;
  write(path: string, value: number): void;
}

export const procSysctl: Sysctl = {
  read: (path) => {
    try {
      const value = Number(readFileSync(`/proc/sys/${path}`, 'utf8').trim());
      return Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  },
  write: (path, value) => writeFileSync(`/proc/sys/${path}`, `${value}\n`),
};

export class VmacError extends Error {}

/**
 * Parent sysctls held by live VMACs of this process, by path: how many hold it and the value read before
 * the first. Two instances' VMACs on one parent (two units) share it; the last one to go restores it, as
 * keepalived's reset_arp_config count.
 */
const heldParentSysctls = new Map<string, { holders: number; original: number | undefined }>();

export interface VmacHandle {
  link: LinkInfo;
  /** Taken over from a previous run rather than created. */
  reused: boolean;
}

export class VmacManager {
  private readonly held: string[] = [];
  private link: LinkInfo | undefined;

  constructor(
    private readonly netlink: RtNetlink & LinkControl,
    private readonly sysctl: Sysctl = procSysctl,
  ) {}

  async ensure(plan: VmacPlan, parent: LinkInfo): Promise<VmacHandle> {
    const existing = (await this.netlink.links()).find((l) => l.name === plan.name);
    let reused = false;
    if (existing) {
      if (existing.kind !== 'macvlan') throw new VmacError(`use_vmac: ${plan.name} exists and is not a macvlan (${existing.kind ?? 'a device'}); not touching it`);
      if (existing.parentIndex === parent.index && existing.mac.equals(plan.mac) && existing.macvlanMode === MACVLAN_MODE_PRIVATE) reused = true;
      else await this.netlink.deleteLink(existing.index); // a previous run's VMAC with other settings
    }
    const link = reused ? existing! : await this.netlink.addMacvlan({ name: plan.name, parentIndex: parent.index, mac: plan.mac, mode: MACVLAN_MODE_PRIVATE });
    this.link = link;
    for (const { path, value } of plan.vmacSysctls) this.sysctl.write(path, value);
    for (const { path, value } of plan.parentSysctls) {
      const entry = heldParentSysctls.get(path);
      if (entry) entry.holders++;
      else {
        const before = this.sysctl.read(path);
        heldParentSysctls.set(path, { holders: 1, original: before !== value ? before : undefined });
        if (before !== value) this.sysctl.write(path, value);
      }
      this.held.push(path);
    }
    await this.netlink.setLinkUp(link.index);
    if (plan.copyParentLinkLocal) {
      const parentLinkLocal = (await this.netlink.addresses(parent.index)).find((a) => /^fe[89ab][0-9a-f]?:/i.test(a.address))?.address;
      await this.netlink.addAddress({ address: parentLinkLocal ?? eui64LinkLocal(parent.mac), prefixLength: 64, ifindex: link.index });
    }
    if (!link.mac.equals(plan.mac)) throw new VmacError(`use_vmac: ${plan.name} has MAC ${formatMac(link.mac)}, wanted ${formatMac(plan.mac)}`);
    return { link, reused };
  }

  /** Deletes the VMAC (its addresses go with it) and puts the parent's sysctls back. Never throws. */
  async remove(): Promise<string[]> {
    const problems: string[] = [];
    if (this.link) {
      await this.netlink.deleteLink(this.link.index).catch((error: unknown) => problems.push(`delete ${this.link!.name}: ${(error as Error).message}`));
      this.link = undefined;
    }
    for (const path of this.held.splice(0)) {
      const entry = heldParentSysctls.get(path);
      if (!entry || --entry.holders > 0) continue;
      heldParentSysctls.delete(path);
      if (entry.original === undefined) continue;
      try {
        this.sysctl.write(path, entry.original);
      } catch (error) {
        problems.push(`restore ${path}: ${(error as Error).message}`);
      }
    }
    return problems;
  }
}
