import { endianness } from 'node:os';
import { nativeAddon, type NativeError, type NativeVrrpSocket } from '../../net/nativeAddon.js';
import { encodeIpv4Header } from '../codec/ipv4Header.js';
import { VRRP_PROTOCOL, type VrrpFamily } from '../codec/advertCodec.js';
import { parseIpv4 } from '../codec/ipv4Address.js';
import { buildReceiveFilter, encodeBpfProgram, type ReceiveFilterSpec, type SourceSelection } from '../codec/receiveFilter.js';

/**
 * The VRRP sockets of one interface, through the project's addon (native/tslvsd_native.cc VrrpSocket):
 *  - sends go out of a send-only raw socket (IP_HDRINCL: the header is ours, so the source address — the
 *    primary or `unicast_src_ip` — is ours to choose, as keepalived does and the v3 checksum requires) in
 *    one synchronous sendto(): nothing a flood makes us read can queue in front of an advert, and the
 *    kernel's answer is known at once (what the adverts counter counts);
 *  - receives come from protocol-112 sockets bound to the interface and joined to the group(s), behind a
 *    kernel filter (src/vrrp/codec/receiveFilter.ts: our destinations and VRIDs only), read in batches —
 *    two of them: a priority lane taking only the preferred senders (the master we follow, our unicast
 *    peers) and one for everybody else, so junk from others, however much, fills only the second queue
 *    and cannot push the master's adverts out (unless it forges the master's address).
 * Every VRRP instance on the interface shares it: received packets (IPv4 header included) go to one
 * handler, the core's ReceiveDispatcher, which routes them by VRID and counts what it cannot route.
 */

/** A larger receive buffer rides out bursts; the kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER_BYTES = 1 << 20;
/** The priority lane carries a few adverts a second: the default buffer is plenty. */
const PRIORITY_LANE_BUFFER_BYTES = 0;

/** Socket-level counters; packet-level ones live in the dispatcher and the instances' validators. */
export interface TransportCounters {
  /** Packets that passed the kernel filter and were read. */
  packetsReceived: number;
  /** Packets the kernel accepted for sending. */
  packetsSent: number;
  /** Packets the kernel refused to send (or that could not be built). */
  sendErrors: number;
  /** Failed reads (the socket stays open, reading goes on). */
  socketErrors: number;
  /** Packets that passed the filter but found the receive buffer full: dropped by the kernel. */
  receiveBufferDrops: number;
  /** Packets longer than any advert (over 4200 bytes; IPv6: 4160 of payload): dropped unread. */
  oversizedReceived: number;
  /** Reads (recvmmsg calls) that returned packets: packetsReceived / receiveBatches = the batch size. */
  receiveBatches: number;
  /** Of packetsReceived, those from a preferred sender, read through the priority lane. */
  preferredReceived: number;
  /** Of receiveBufferDrops, those of the priority lane (should stay 0). */
  preferredBufferDrops: number;
}

export interface TransportOptions {
  ifname: string;
  ifindex: number;
  /** IPv4 (default) or IPv6 (VRRPv3, RFC 5798): one transport per interface and family. */
  family?: VrrpFamily;
  /** Groups to join on this interface (224.0.0.18 / vrrp_mcast_group4, ff02::12 / vrrp_mcast_group6); empty for unicast-only use. */
  multicastGroups: string[];
  /** What the kernel lets through to us from the start (replace it with acceptOnly()). */
  accept: ReceiveFilterSpec;
}

/** The narrow interface the VRRP service needs. */
export interface VrrpTransport {
  readonly counters: TransportCounters;
  /** Every received packet, IP header included (IPv6: the one the addon rebuilds), as a buffer the handler may keep. */
  onPacket(handler: (packet: Buffer) => void): void;
  /**
   * Sends one VRRP message in an IP packet from srcIp to dstIp (TTL / hop limit 255), now. Never throws: returns
   * whether the kernel accepted it; errors are counted and reported to the onError listeners.
   */
  send(vrrpMessage: Buffer, srcIp: string, dstIp: string): boolean;
  /** Replaces the kernel receive filter (the instances on the interface or their addresses changed). */
  acceptOnly(spec: ReceiveFilterSpec): void;
  /** Called with every send or socket error (for logging); the counts are in counters. */
  onError(listener: (error: Error) => void): void;
  /** Resolves once every send made so far has gone out (or failed): call before close() at shutdown. */
  flush(): Promise<void>;
  close(): void;
}

/** The kernel filter for a spec, as the addon takes it (host byte order). */
export function receiveFilterProgram(spec: ReceiveFilterSpec, senders: SourceSelection = 'any', family: VrrpFamily = 'inet'): Buffer {
  return encodeBpfProgram(buildReceiveFilter(spec, senders, family), endianness());
}

export class RawSocketTransport implements VrrpTransport {
  /** Sends, and receives from everybody but the preferred senders. */
  private readonly socket: NativeVrrpSocket;
  /** Receives from the preferred senders only. */
  private readonly priorityLane: NativeVrrpSocket;
  private readonly sent = { packetsSent: 0, sendErrors: 0, socketErrors: 0 };
  private packetHandler: (packet: Buffer) => void = () => undefined;
  private readonly errorListeners: ((error: Error) => void)[] = [];
  private closed = false;
  private last: TransportCounters | undefined;
  private readonly family: VrrpFamily;

  constructor(options: TransportOptions) {
    this.family = options.family ?? 'inet';
    for (const group of options.multicastGroups) {
      if (this.family === 'inet' ? !parseIpv4(group) : !group.includes(':')) throw new Error(`not an ${this.family === 'inet' ? 'IPv4' : 'IPv6'} multicast group: ${group}`);
    }
    const { VrrpSocket } = nativeAddon();
    const open = (senders: SourceSelection, sendSocket: boolean, receiveBufferBytes: number) =>
      new VrrpSocket(
        {
          ifname: options.ifname,
          ifindex: options.ifindex,
          groups: options.multicastGroups,
          filter: receiveFilterProgram(options.accept, senders, this.family),
          receiveBufferBytes,
          sendSocket,
          family: this.family === 'inet6' ? 6 : 4,
        },
        (data, lengths) => this.receiveBatch(data, lengths),
        (error) => {
          this.sent.socketErrors++;
          this.report(error);
        },
      );
    // The priority lane first: from its first moment on, the other lane never takes what it takes.
    this.priorityLane = open('preferred', false, PRIORITY_LANE_BUFFER_BYTES);
    try {
      this.socket = open('others', true, RECEIVE_BUFFER_BYTES);
    } catch (error) {
      this.priorityLane.close();
      throw error;
    }
  }

  get counters(): TransportCounters {
    if (this.closed && this.last) return { ...this.last };
    const stats = this.socket.stats();
    const lane = this.priorityLane.stats();
    this.last = {
      packetsReceived: stats.received + lane.received,
      packetsSent: this.sent.packetsSent,
      sendErrors: this.sent.sendErrors,
      socketErrors: this.sent.socketErrors,
      receiveBufferDrops: stats.drops + lane.drops,
      oversizedReceived: stats.truncated + lane.truncated,
      receiveBatches: stats.batches + lane.batches,
      preferredReceived: lane.received,
      preferredBufferDrops: lane.drops,
    };
    return { ...this.last };
  }

  onPacket(handler: (packet: Buffer) => void): void {
    this.packetHandler = handler;
  }

  flush(): Promise<void> {
    // Sends are synchronous: when send() returned, the kernel had the packet (or refused it).
    return Promise.resolve();
  }

  send(vrrpMessage: Buffer, srcIp: string, dstIp: string): boolean {
    if (this.closed) return false;
    try {
      if (this.family === 'inet6') {
        // The kernel builds the IPv6 header (hop limit 255) and the checksum (IPV6_CHECKSUM).
        this.socket.send(vrrpMessage, dstIp, srcIp);
        this.sent.packetsSent++;
        return true;
      }
      const header = encodeIpv4Header({ srcIp, dstIp, protocol: VRRP_PROTOCOL, payloadLength: vrrpMessage.length });
      this.socket.send(Buffer.concat([header, vrrpMessage]), dstIp);
      this.sent.packetsSent++;
      return true;
    } catch (error) {
      this.sent.sendErrors++;
      this.report(error);
      return false;
    }
  }

  acceptOnly(spec: ReceiveFilterSpec): void {
    if (this.closed) return;
    // Both programs built before either is set, so a bad spec changes nothing. In the microseconds between
    // the two, a packet from a sender that changed lanes may come in twice or not at all: an advert more or
    // less, which VRRP rides out (a backup waits for three missing).
    const preferred = receiveFilterProgram(spec, 'preferred', this.family);
    const others = receiveFilterProgram(spec, 'others', this.family);
    this.priorityLane.setFilter(preferred);
    this.socket.setFilter(others);
  }

  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.last = this.counters;
    this.closed = true;
    this.socket.close();
    this.priorityLane.close();
  }

  private report(error: unknown): void {
    const err: NativeError = error instanceof Error ? error : new Error(String(error));
    for (const listener of this.errorListeners) listener(err);
  }

  private receiveBatch(data: Buffer, lengths: number[]): void {
    // A fresh buffer per batch: the slices are the handler's to keep.
    let offset = 0;
    for (const length of lengths) {
      const packet = data.subarray(offset, offset + length);
      offset += length;
      try {
        this.packetHandler(packet);
      } catch (error) {
        this.report(error);
      }
    }
  }
}
