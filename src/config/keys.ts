/**
 * The one identity of every configured object the rooms talk about, defined once, from the model: the
 * config compiler (duplicates), the health side (its changes), the IPVS room (what it programs and counts),
 * the reload diff (what "the same thing" is across a SIGHUP), the metrics labels and the status all take
 * their keys from here, never from each other, and never parse one back into an address: whoever needs
 * the address keeps the model object the key was made from.
 *
 * Each key is also the object's display label (one text for maps, logs, metrics and status), so a key is
 * written for people: `10.0.0.100:80/TCP`, `[fd00::2]:80`, `eth0/vrid 51/inet`.
 *
 * Model addresses are already canonical (src/util/ipAddress.ts canonicalIp, RFC 5952); it is applied again so
 * a hand-built model names the same object the same way.
 */
import { canonicalIp } from '../util/ipAddress.js';
import type { VirtualServer, VrrpInstance } from './model.js';

/** A virtual_server: `ADDR:PORT/PROTO`, `fwmark:N/IPv4|IPv6` or `group:NAME/PROTO`. */
export type VirtualServerKey = string;
/** A real_server (or sorry_server) within its virtual server: `ADDR:PORT`. */
export type RealServerKey = string;
/** One destination: a real server of one virtual server (the unit of a health decision). */
export type DestinationKey = string;
/** A vrrp_instance: its interface, VRID and family (its identity on the wire; the name may change). */
export type VrrpInstanceKey = string;

/** What a virtual server's identity is made of (the model's VirtualServer fits). */
export type VirtualServerIdentity = Pick<VirtualServer, 'group' | 'fwmark' | 'family' | 'address' | 'port' | 'protocol'>;

/** `ADDR:PORT`, IPv6 in brackets ("192.168.10.11:80", "[fd00::2]:80"). */
export function hostPort(address: string, port: number): string {
  const a = canonicalIp(address);
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/**
 * `virtual_server group G` takes its protocol into its identity: `group G` with `protocol TCP` and with
 * `protocol UDP` are two services in the kernel, and were one (`group:G`) on the health side before.
 */
export function virtualServerKey(vs: VirtualServerIdentity): VirtualServerKey {
  if (vs.group !== undefined) return `group:${vs.group}/${vs.protocol}`;
  if (vs.fwmark !== undefined) return `fwmark:${vs.fwmark}/${vs.family === 'inet6' ? 'IPv6' : 'IPv4'}`;
  return `${hostPort(vs.address ?? '', vs.port ?? 0)}/${vs.protocol}`;
}

export function realServerKey(rs: { address: string; port: number }): RealServerKey {
  return hostPort(rs.address, rs.port);
}

/** The destination `RS` of virtual server `VS`, as logs name it: `VS/RS`. */
export function destinationKey(virtualServer: VirtualServerKey, realServer: RealServerKey): DestinationKey {
  return `${virtualServer}/${realServer}`;
}

export function vrrpInstanceKey(instance: Pick<VrrpInstance, 'interface' | 'virtualRouterId' | 'family'>): VrrpInstanceKey {
  return `${instance.interface ?? '-'}/vrid ${instance.virtualRouterId}/${instance.family}`;
}

/** An announced host route (announce_route): `ADDR/32` or `ADDR/128`, canonical; also its display label. */
export type HostRoutePrefix = string;

export function hostRoutePrefix(address: string): HostRoutePrefix {
  const a = canonicalIp(address);
  return `${a}/${a.includes(':') ? 128 : 32}`;
}
