// Reads `ipvsadm -Ln` — the independent judge of what is in the kernel's IPVS table — and /proc/net/ip_vs,
// the same table in the same layout with IPv4 addresses and ports in hex. Pure parser.

export interface IpvsRealServer {
  address: string;
  port: number;
  /** Masq (NAT), Route (DR), Tunnel (TUN), Local. */
  forward: string;
  weight: number;
}

export interface IpvsService {
  protocol: string;
  address: string;
  port: number;
  scheduler: string;
  reals: IpvsRealServer[];
}

function splitHostPort(s: string): [string, number] | null {
  const hex = /^([0-9A-F]{8}):([0-9A-F]{4})$/.exec(s);
  if (hex) {
    const n = Number.parseInt(hex[1] as string, 16);
    return [[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), Number.parseInt(hex[2] as string, 16)];
  }
  const i = s.lastIndexOf(':');
  if (i <= 0) return null;
  const port = Number(s.slice(i + 1));
  return Number.isInteger(port) ? [s.slice(0, i).replace(/^\[|\]$/g, ''), port] : null;
}

/** Parses `ipvsadm -Ln` or /proc/net/ip_vs. Lines it does not recognise are ignored. */
export function parseIpvsadmList(text: string): IpvsService[] {
  const services: IpvsService[] = [];
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)/.exec(line);
    if (svc) {
      const hp = splitHostPort(svc[2] as string);
      if (hp) services.push({ protocol: svc[1] as string, address: hp[0], port: hp[1], scheduler: svc[3] as string, reals: [] });
      continue;
    }
    const real = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)\s+\d+\s+\d+/.exec(line);
    const current = services[services.length - 1];
    if (real && current) {
      const hp = splitHostPort(real[1] as string);
      if (hp) current.reals.push({ address: hp[0], port: hp[1], forward: real[2] as string, weight: Number(real[3]) });
    }
  }
  return services;
}
