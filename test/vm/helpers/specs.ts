/**
 * Short builders for the client's service and destination specs, and the same intent written as ipvsadm
 * rules, so a suite can program a table both ways and compare what the kernel holds.
 */
import { schedulerFlagMask, type DestinationSpec, type ServiceKey, type ServiceSpec, type SchedulerFlagName } from '../../../src/ipvs/types.js';

export function tcp4(address: string, port: number): ServiceKey {
  return { kind: 'address', family: 'ipv4', protocol: 'tcp', address, port };
}
export function udp4(address: string, port: number): ServiceKey {
  return { kind: 'address', family: 'ipv4', protocol: 'udp', address, port };
}
export function tcp6(address: string, port: number): ServiceKey {
  return { kind: 'address', family: 'ipv6', protocol: 'tcp', address, port };
}
export function fwmark(mark: number, family: 'ipv4' | 'ipv6' = 'ipv4'): ServiceKey {
  return { kind: 'fwmark', family, fwmark: mark };
}

export function service(key: ServiceKey, scheduler: string, extra: Partial<Omit<ServiceSpec, 'key' | 'scheduler'>> = {}): ServiceSpec {
  return { key, scheduler, onePacket: false, schedulerFlags: 0, ...extra };
}

export function flags(...names: SchedulerFlagName[]): number {
  return schedulerFlagMask(names);
}

export function dest(address: string, port: number, forwarding: DestinationSpec['forwarding'], extra: Partial<DestinationSpec> = {}): DestinationSpec {
  return { address, port, forwarding, weight: 1, upperThreshold: 0, lowerThreshold: 0, ...extra };
}

/** The ipvsadm option that names a service: `-t 10.0.0.1:80`, `-u [2001:db8::1]:53`, `-f 7 -6`. */
export function ipvsadmServiceArgs(key: ServiceKey): string[] {
  if (key.kind === 'fwmark') return key.family === 'ipv6' ? ['-f', String(key.fwmark), '-6'] : ['-f', String(key.fwmark)];
  const host = key.family === 'ipv6' ? `[${key.address}]` : key.address;
  const opt = { tcp: '-t', udp: '-u', sctp: '--sctp-service' }[key.protocol];
  return [opt, `${host}:${key.port}`];
}

const FLAG_NAMES: Record<string, Record<number, string>> = {
  sh: { 0x08: 'sh-fallback', 0x10: 'sh-port' },
  mh: { 0x08: 'mh-fallback', 0x10: 'mh-port' },
};

/** `-A …` for ipvsadm -R: the same service as the spec. */
export function ipvsadmServiceRule(s: ServiceSpec): string {
  const words = ['-A', ...ipvsadmServiceArgs(s.key), '-s', s.scheduler];
  if (s.persistence) {
    words.push('-p', String(s.persistence.timeoutSeconds));
    const p = s.persistence.prefixLength;
    if (s.key.family === 'ipv6') words.push('-M', String(p));
    else words.push('-M', [24, 16, 8, 0].map((shift) => ((p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0) >>> shift) & 0xff).join('.'));
  }
  if (s.onePacket) words.push('-o');
  if (s.schedulerFlags) {
    const names = FLAG_NAMES[s.scheduler] ?? { 0x08: 'flag-1', 0x10: 'flag-2', 0x20: 'flag-3' };
    words.push('-b', [0x08, 0x10, 0x20].filter((b) => s.schedulerFlags & b).map((b) => names[b]).join(','));
  }
  if (s.persistenceEngine) words.push('--pe', s.persistenceEngine);
  return words.join(' ');
}

/** `-a …` for ipvsadm -R: the same destination as the spec. */
export function ipvsadmDestRule(key: ServiceKey, d: DestinationSpec): string {
  const host = d.address.includes(':') ? `[${d.address}]` : d.address;
  const method = { nat: '-m', dr: '-g', tunnel: '-i', local: '-g', bypass: '-g' }[d.forwarding];
  const words = ['-a', ...ipvsadmServiceArgs(key), '-r', `${host}:${d.port}`, method, '-w', String(d.weight)];
  if (d.upperThreshold) words.push('-x', String(d.upperThreshold));
  if (d.lowerThreshold) words.push('-y', String(d.lowerThreshold));
  if (d.forwarding === 'tunnel' && d.tunnel) {
    words.push('--tun-type', d.tunnel.type);
    if (d.tunnel.type === 'gue') words.push('--tun-port', String(d.tunnel.port));
    if (d.tunnel.type !== 'ipip') {
      if (d.tunnel.flags & 2) words.push('--tun-remcsum');
      else if (d.tunnel.flags & 1) words.push('--tun-csum');
      else words.push('--tun-nocsum');
    }
  }
  return words.join(' ');
}
