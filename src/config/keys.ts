/**
 * The one id of a virtual server and of a real server, from the model: the health side names its changes
 * by them and the IPVS room programs and counts by them (metrics labels too), so both rooms take them from
 * here rather than from each other. Model addresses are already canonical (src/util/ipAddress.ts canonicalIp);
 * it is applied again so a hand-built model names the same destination the same way.
 */
import { canonicalIp } from '../util/ipAddress.js';
import type { VirtualServer } from './model.js';

function hostPort(address: string, port: number): string {
  const a = canonicalIp(address);
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/** `ADDR:PORT/PROTO` (IPv6 in brackets), `fwmark:N/IPv4|IPv6` or `group:NAME`. */
export function virtualServerKey(vs: VirtualServer): string {
  if (vs.group !== undefined) return `group:${vs.group}`;
  if (vs.fwmark !== undefined) return `fwmark:${vs.fwmark}/${vs.family === 'inet6' ? 'IPv6' : 'IPv4'}`;
  return `${hostPort(vs.address ?? '', vs.port ?? 0)}/${vs.protocol}`;
}

/** `ADDR:PORT`, IPv6 in brackets ("192.168.10.11:80", "[fd00::2]:80"). */
export function realServerKey(rs: { address: string; port: number }): string {
  return hostPort(rs.address, rs.port);
}
