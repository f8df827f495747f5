import { describe, expect, it } from 'vitest';
import { vipGoesOnVmac, vmacPlan } from '../../src/vrrp/core/vmac.js';

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
      { path: 'net/ipv6/conf/vrrp.51/disable_ipv6', value: 1 },
    ]);
    expect(plan.parentSysctls).toEqual([
      { path: 'net/ipv4/conf/eth0/arp_ignore', value: 1 },
      { path: 'net/ipv4/conf/eth0/arp_filter', value: 1 },
    ]);
    expect(plan.xmitBase).toBe(false);
  });

  it('IPv6 instance: 00:00:5e:00:02:VRID, only arp_ignore, IPv6 kept without an autoconfigured link-local', () => {
    const plan = vmacPlan({ ...base, virtualRouterId: 7, virtualIpAddresses: [{ address: 'fd00::7' }] }, 'eth0');
    expect(plan.mac.toString('hex')).toBe('00005e000207');
    expect(plan.vmacSysctls).toEqual([
      { path: 'net/ipv4/conf/vrrp.7/arp_ignore', value: 1 },
      { path: 'net/ipv6/conf/vrrp.7/addr_gen_mode', value: 1 },
    ]);
    expect(plan.parentSysctls).toEqual([]);
  });

  it("an IPv4 instance's IPv6 eVIP stays on the parent (keepalived 2.2.7), its own-family VIPs go on the VMAC", () => {
    const instance = { ...base, virtualIpAddressesExcluded: [{ address: 'fd00::200' }, { address: '10.0.0.9', dev: 'eth1' }] };
    expect(vipGoesOnVmac(instance, { address: '10.0.0.200' }, 'eth0')).toBe(true);
    expect(vipGoesOnVmac(instance, { address: '10.0.0.201', dev: 'eth0' }, 'eth0')).toBe(true);
    expect(vipGoesOnVmac(instance, { address: '10.0.0.9', dev: 'eth1' }, 'eth0')).toBe(false);
    expect(vipGoesOnVmac(instance, { address: 'fd00::200' }, 'eth0')).toBe(false);
    expect(vmacPlan(instance, 'eth0').vmacSysctls.at(-1)).toEqual({ path: 'net/ipv6/conf/vrrp.51/disable_ipv6', value: 1 });
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
});
