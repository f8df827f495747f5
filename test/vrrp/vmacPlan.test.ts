import { describe, expect, it } from 'vitest';
import { addressVmacName, addressVmacPlan, addressVmacsOf, eui64LinkLocal, placeVip, vmacPlan } from '../../src/vrrp/core/vmac.js';

const base = { virtualRouterId: 51, vmacXmitBase: false, virtualIpAddresses: [{ address: '10.0.0.200' }], virtualIpAddressesExcluded: [] };

describe('VMAC plan (keepalived 2.2.7 vrrp_vmac.c / vrrp_if_config.c)', () => {
  it('IPv4: vrrp.VRID, 00:00:5e:00:01:VRID, arp_ignore/accept_local/rp_filter/promote_secondaries, parent arp_ignore+arp_filter, no IPv6', () => {
    const plan = vmacPlan(base, 'eth0');
    expect(plan.name).toBe('vrrp.51');
    expect(plan.mac.toString('hex')).toBe('00005e000133');
    expect(plan.vmacSysctls).toEqual([
      { path: 'net/ipv4/conf/vrrp.51/arp_ignore', value: 1 },
      { path: 'net/ipv4/conf/vrrp.51/accept_local', value: 1 },
      { path: 'net/ipv4/conf/vrrp.51/rp_filter', value: 0 },
      { path: 'net/ipv4/conf/vrrp.51/promote_secondaries', value: 1 },
      { path: 'net/ipv6/conf/vrrp.51/addr_gen_mode', value: 1 },
      { path: 'net/ipv6/conf/vrrp.51/disable_ipv6', value: 1 },
    ]);
    expect(plan.parentSysctls).toEqual([
      { path: 'net/ipv4/conf/eth0/arp_ignore', value: 1 },
      { path: 'net/ipv4/conf/eth0/arp_filter', value: 1 },
    ]);
    expect(plan.xmitBase).toBe(false);
    expect(plan.copyParentLinkLocal).toBe(false);
  });

  it("IPv6 instance: 00:00:5e:00:02:VRID, arp_ignore only of the IPv4 sysctls, IPv6 kept without an autoconfigured link-local, the parent's copied", () => {
    const plan = vmacPlan({ ...base, virtualRouterId: 7, virtualIpAddresses: [{ address: 'fd00::7' }] }, 'eth0');
    expect(plan.mac.toString('hex')).toBe('00005e000207');
    expect(plan.vmacSysctls).toEqual([
      { path: 'net/ipv4/conf/vrrp.7/arp_ignore', value: 1 },
      { path: 'net/ipv6/conf/vrrp.7/addr_gen_mode', value: 1 },
      { path: 'net/ipv6/conf/vrrp.7/disable_ipv6', value: 0 },
    ]);
    expect(plan.parentSysctls).toEqual([]);
    expect(plan.copyParentLinkLocal).toBe(true);
    expect(vmacPlan({ ...base, vmacXmitBase: true, virtualIpAddresses: [{ address: 'fd00::7' }] }, 'eth0').copyParentLinkLocal).toBe(false);
  });

  it("an IPv4 instance's IPv6 eVIP stays on the parent (keepalived 2.2.7) but keeps IPv6 on on the VMAC, its own-family VIPs go on it", () => {
    const instance = { ...base, virtualIpAddressesExcluded: [{ address: 'fd00::200' }, { address: '10.0.0.9', dev: 'eth1' }] };
    const vmac = { ...instance, useVmac: true, useVmacAddr: false };
    expect(placeVip(vmac, { address: '10.0.0.200' }, 'eth0')).toEqual({ on: 'instanceVmac' });
    expect(placeVip(vmac, { address: '10.0.0.201', dev: 'eth0' }, 'eth0')).toEqual({ on: 'instanceVmac' });
    expect(placeVip(vmac, { address: '10.0.0.9', dev: 'eth1' }, 'eth0')).toEqual({ on: 'interface', dev: 'eth1' });
    expect(placeVip(vmac, { address: 'fd00::200' }, 'eth0')).toEqual({ on: 'interface', dev: 'eth0' });
    expect(addressVmacsOf(vmac, 'eth0')).toEqual([]);
    expect(vmacPlan(instance, 'eth0').vmacSysctls.at(-1)).toEqual({ path: 'net/ipv6/conf/vrrp.51/disable_ipv6', value: 0 });
  });

  it('name, 5-octet MAC (+ VRID) and xmit_base as configured', () => {
    const plan = vmacPlan(
      { ...base, vmacName: 'vmac51', vmacMac: '02:00:5e:aa:bb', vmacXmitBase: true, virtualIpAddressesExcluded: [{ address: 'fd00::200' }] },
      'eth0',
    );
    expect(plan.name).toBe('vmac51');
    expect(plan.mac.toString('hex')).toBe('02005eaabb33');
    expect(plan.xmitBase).toBe(true);
    expect(vmacPlan({ ...base, vmacMac: '02:00:5e:aa:bb:cc' }, 'eth0').mac.toString('hex')).toBe('02005eaabbcc');
  });

  describe('use_vmac_addr (keepalived 2.2.7 vrrp.c vrrp_complete_instance)', () => {
    const vips = {
      ...base,
      virtualIpAddresses: [{ address: '10.0.0.200' }, { address: '10.1.0.200', dev: 'eth1' }],
      virtualIpAddressesExcluded: [{ address: 'fd00::200' }, { address: 'fd01::200', dev: 'eth1' }, { address: '10.1.0.201', dev: 'eth1' }],
    };

    it('with use_vmac: own family on the parent → instance VMAC; everything else → an address VMAC per interface and family', () => {
      const i = { ...vips, useVmac: true, useVmacAddr: true };
      expect(placeVip(i, { address: '10.0.0.200' }, 'eth0')).toEqual({ on: 'instanceVmac' });
      expect(placeVip(i, { address: 'fd00::200' }, 'eth0')).toEqual({ on: 'addressVmac', base: 'eth0', ipv6: true });
      expect(placeVip(i, { address: '10.1.0.200', dev: 'eth1' }, 'eth0')).toEqual({ on: 'addressVmac', base: 'eth1', ipv6: false });
      expect(placeVip(i, { address: 'fd01::200', dev: 'eth1' }, 'eth0')).toEqual({ on: 'addressVmac', base: 'eth1', ipv6: true });
      expect(addressVmacsOf(i, 'eth0')).toEqual([
        { base: 'eth1', ipv6: false },
        { base: 'eth0', ipv6: true },
        { base: 'eth1', ipv6: true },
      ]);
    });

    it('without use_vmac: own family on the parent stays on the parent, the rest gets address VMACs', () => {
      const i = { ...vips, useVmac: false, useVmacAddr: true };
      expect(placeVip(i, { address: '10.0.0.200' }, 'eth0')).toEqual({ on: 'interface', dev: 'eth0' });
      expect(placeVip(i, { address: '10.0.0.201', dev: 'eth0' }, 'eth0')).toEqual({ on: 'interface', dev: 'eth0' });
      expect(placeVip(i, { address: 'fd00::200' }, 'eth0')).toEqual({ on: 'addressVmac', base: 'eth0', ipv6: true });
      expect(placeVip(i, { address: '10.1.0.200', dev: 'eth1' }, 'eth0')).toEqual({ on: 'addressVmac', base: 'eth1', ipv6: false });
      const plain = { ...vips, useVmac: false, useVmacAddr: false };
      expect(placeVip(plain, { address: '10.1.0.200', dev: 'eth1' }, 'eth0')).toEqual({ on: 'interface', dev: 'eth1' });
      expect(addressVmacsOf(plain, 'eth0')).toEqual([]);
    });

    it('an IPv6 instance: its IPv4 eVIP on the parent gets an address VMAC 00:00:5e:00:01:VRID', () => {
      const i = { ...base, virtualIpAddresses: [{ address: 'fd00::7' }], virtualIpAddressesExcluded: [{ address: '10.0.0.7' }], useVmac: true, useVmacAddr: true };
      expect(placeVip(i, { address: 'fd00::7' }, 'eth0')).toEqual({ on: 'instanceVmac' });
      expect(addressVmacsOf(i, 'eth0')).toEqual([{ base: 'eth0', ipv6: false }]);
    });

    it("names: vrrp.VRID, then vrrpN.VRID (IPv6: 6 first, then 1, 2, … skipping 6), as create_vmac_name", () => {
      expect(addressVmacName(51, false, () => false)).toBe('vrrp.51');
      const takenUpTo = (names: string[]) => (n: string) => names.includes(n);
      expect(addressVmacName(51, false, takenUpTo(['vrrp.51']))).toBe('vrrp1.51');
      expect(addressVmacName(51, false, takenUpTo(['vrrp.51', 'vrrp1.51', 'vrrp2.51']))).toBe('vrrp3.51');
      expect(addressVmacName(51, true, takenUpTo(['vrrp.51']))).toBe('vrrp6.51');
      expect(addressVmacName(51, true, takenUpTo(['vrrp.51', 'vrrp6.51']))).toBe('vrrp1.51');
      const all = ['vrrp.9', 'vrrp6.9', 'vrrp1.9', 'vrrp2.9', 'vrrp3.9', 'vrrp4.9', 'vrrp5.9'];
      expect(addressVmacName(9, true, takenUpTo(all))).toBe('vrrp7.9');
      expect(addressVmacName(9, false, takenUpTo([...all.filter((n) => n !== 'vrrp6.9'), 'vrrp6.9']))).toBe('vrrp7.9');
    });

    it("MAC of the VIP's family (or the configured one), sysctls of that family on the VMAC and its interface", () => {
      const v4 = addressVmacPlan({ virtualRouterId: 51 }, 'eth1', false, 'vrrp1.51');
      expect(v4.mac.toString('hex')).toBe('00005e000133');
      expect(v4.parentSysctls).toEqual([
        { path: 'net/ipv4/conf/eth1/arp_ignore', value: 1 },
        { path: 'net/ipv4/conf/eth1/arp_filter', value: 1 },
      ]);
      expect(v4.vmacSysctls.at(-1)).toEqual({ path: 'net/ipv6/conf/vrrp1.51/disable_ipv6', value: 1 });
      const v6 = addressVmacPlan({ virtualRouterId: 51 }, 'eth0', true, 'vrrp6.51');
      expect(v6.mac.toString('hex')).toBe('00005e000233');
      expect(v6.parentSysctls).toEqual([]);
      expect(v6.vmacSysctls.map((x) => [x.path, x.value])).toEqual([['net/ipv4/conf/vrrp6.51/arp_ignore', 1], ['net/ipv6/conf/vrrp6.51/addr_gen_mode', 1], ['net/ipv6/conf/vrrp6.51/disable_ipv6', 0]]);
      expect(v6.copyParentLinkLocal).toBe(true);
      expect(eui64LinkLocal(Buffer.from('ca430a7fc9d3', 'hex'))).toBe('fe80::c843:aff:fe7f:c9d3');
      expect(addressVmacPlan({ virtualRouterId: 51, vmacMac: '02:00:5e:aa:bb' }, 'eth0', true, 'x').mac.toString('hex')).toBe('02005eaabb33');
    });
  });
});
