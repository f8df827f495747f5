import { isIPv6 } from 'node:net';
import { readFileSync } from 'node:fs';
import { neighbourAdvertFrame } from '../../net/neighbourAdvertFrame.js';
import type { NativeAddon } from '../../net/nativeAddon.js';

/**
 * Sends unsolicited neighbour advertisements for IPv6 VIPs through the native addon's AF_PACKET send, the
 * IPv6 twin of gratuitousArp.ts: no process is spawned on the failover path. The Router flag follows the
 * interface's IPv6 forwarding, as keepalived's (vrrp_ndisc.c, re-read at most every 5 s there; here each
 * burst reads the sysctl once per interface).
 */
export interface NeighbourAdvertTarget {
  ifindex: number;
  /** The name of the interface the VIP is on: its forwarding sysctl decides the Router flag. */
  ifname: string;
  /** The interface's 6-byte MAC: Ethernet source and Target Link-Layer Address. */
  mac: Buffer;
  vip: string;
}

export interface NeighbourAdvertCounters {
  naSent: number;
  naErrors: number;
}

/** Whether the interface forwards IPv6 (net.ipv6.conf.IF.forwarding, in the caller's namespace). */
export function ipv6Forwarding(ifname: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim() !== '0';
  } catch {
    return false; // no IPv6 on the interface: the frame still goes out, without the Router flag
  }
}

export class NeighbourAdvertSender {
  readonly counters: NeighbourAdvertCounters = { naSent: 0, naErrors: 0 };

  constructor(
    private readonly addon: Pick<NativeAddon, 'sendFrame'>,
    private readonly onError: (error: Error, target: NeighbourAdvertTarget) => void = () => undefined,
    private readonly isRouter: (ifname: string) => boolean = ipv6Forwarding,
  ) {}

  /** Sends one frame per IPv6 target; never throws. */
  send(targets: readonly NeighbourAdvertTarget[]): void {
    const router = new Map<string, boolean>();
    for (const target of targets) {
      if (!isIPv6(target.vip) || target.mac.length !== 6) continue;
      let isRouter = router.get(target.ifname);
      if (isRouter === undefined) router.set(target.ifname, (isRouter = this.isRouter(target.ifname)));
      try {
        this.addon.sendFrame(target.ifindex, neighbourAdvertFrame(target.mac, target.vip, { router: isRouter }));
        this.counters.naSent++;
      } catch (error) {
        this.counters.naErrors++;
        this.onError(error instanceof Error ? error : new Error(String(error)), target);
      }
    }
  }
}
