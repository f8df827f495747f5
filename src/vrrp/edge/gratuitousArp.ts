import { isIPv4 } from 'node:net';
import { gratuitousArpFrame } from '../../net/arpFrame.js';
import type { NativeAddon } from '../../net/nativeAddon.js';

/**
 * Sends gratuitous ARP for IPv4 VIPs through the native addon's AF_PACKET send: no process is spawned on
 * the failover path. IPv6 VIPs get unsolicited neighbour advertisements instead (neighbourAdvert.ts).
 */
export interface GarpTarget {
  ifindex: number;
  /** The interface's 6-byte MAC: sender hardware address of the frame. */
  mac: Buffer;
  vip: string;
}

export interface GarpCounters {
  garpSent: number;
  garpErrors: number;
}

export class GratuitousArpSender {
  readonly counters: GarpCounters = { garpSent: 0, garpErrors: 0 };

  constructor(
    private readonly addon: Pick<NativeAddon, 'sendFrame'>,
    private readonly onError: (error: Error, target: GarpTarget) => void = () => undefined,
  ) {}

  /** Sends one frame per IPv4 target; never throws. */
  send(targets: readonly GarpTarget[]): void {
    for (const target of targets) {
      if (!isIPv4(target.vip) || target.mac.length !== 6) continue;
      try {
        this.addon.sendFrame(target.ifindex, gratuitousArpFrame(target.mac, target.vip));
        this.counters.garpSent++;
      } catch (error) {
        this.counters.garpErrors++;
        this.onError(error instanceof Error ? error : new Error(String(error)), target);
      }
    }
  }
}
