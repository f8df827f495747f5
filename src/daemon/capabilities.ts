/**
 * The capabilities the daemon needs, checked before anything starts, so an unprivileged start is refused with
 * one sentence naming what is missing instead of a bare "Operation not permitted" from whichever socket
 * happened to open first. Pure: the caller reads /proc/self/status.
 */

/** Bit numbers from linux/capability.h. */
export const CAPABILITY_BITS = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13 } as const;
export type CapabilityName = keyof typeof CAPABILITY_BITS;

/**
 * What the daemon needs, whatever the mode: VIPs, routes and IPVS (generic netlink) need CAP_NET_ADMIN;
 * VRRP's raw IP protocol 112 and AF_PACKET sockets, and the ICMP health checks, need CAP_NET_RAW.
 */
export const REQUIRED_CAPABILITIES: readonly CapabilityName[] = ['CAP_NET_ADMIN', 'CAP_NET_RAW'];

/** The effective set from /proc/PID/status (`CapEff:\t0000003fffffffff`); undefined if the line is absent. */
export function effectiveCapabilities(procStatus: string): bigint | undefined {
  const hex = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus)?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

export function missingCapabilities(effective: bigint, needed: readonly CapabilityName[]): CapabilityName[] {
  return needed.filter((c) => ((effective >> BigInt(CAPABILITY_BITS[c])) & 1n) === 0n);
}

/** undefined when nothing is missing (or /proc says nothing), else the one sentence to print. */
export function missingCapabilitiesSentence(procStatus: string): string | undefined {
  const effective = effectiveCapabilities(procStatus);
  if (effective === undefined) return undefined;
  const missing = missingCapabilities(effective, REQUIRED_CAPABILITIES);
  if (missing.length === 0) return undefined;
  const them = missing.length > 1 ? 'them' : 'it';
  return `this process lacks ${missing.join(' and ')} (VIPs and IPVS need CAP_NET_ADMIN, VRRP's raw sockets CAP_NET_RAW): run tslvsd as root, or grant ${them} (systemd: AmbientCapabilities=${missing.join(' ')})`;
}
