import raw from '@neuralegion/raw-socket';
import { endianness } from 'node:os';
import { encodeIpv4Header } from '../codec/ipv4Header.js';
import { VRRP_PROTOCOL } from '../codec/advertCodec.js';
import { parseIpv4 } from '../codec/ipv4Address.js';

/**
 * The VRRP socket of one interface: a raw IPv4 socket for protocol 112, bound to the interface, joined to
 * the multicast group(s) there, sending with IP_HDRINCL so the source address (the primary or
 * `unicast_src_ip`) is ours to choose — as keepalived does, and as the v3 pseudo-header checksum requires.
 * Every VRRP instance on the interface shares it: received packets (IPv4 header included) go to one
 * handler, the core's ReceiveDispatcher, which routes them by VRID and counts what it cannot route.
 */

// Linux numbers (raw-socket names only a few).
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_RCVBUF = 8;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;

/** Socket-level counters; packet-level ones live in the dispatcher and the instances' validators. */
export interface TransportCounters {
  packetsReceived: number;
  packetsSent: number;
  sendErrors: number;
  /** Receive errors after which the socket was reopened. */
  socketErrors: number;
}

export interface TransportOptions {
  ifname: string;
  ifindex: number;
  /** Groups to join on this interface (224.0.0.18 or vrrp_mcast_group4); empty for unicast-only use. */
  multicastGroups: string[];
}

/** The narrow interface the VRRP service needs. */
export interface VrrpTransport {
  readonly counters: TransportCounters;
  /** Every received packet, IPv4 header included, as a buffer the handler may keep. */
  onPacket(handler: (packet: Buffer) => void): void;
  /** Sends one VRRP message in an IPv4 packet from srcIp to dstIp (TTL 255). Never throws: errors are counted. */
  send(vrrpMessage: Buffer, srcIp: string, dstIp: string): void;
  /** Called with every send or socket error (for logging); the counts are in counters. */
  onError(listener: (error: Error) => void): void;
  /** Resolves once every send queued so far has gone out (or failed): call before close() at shutdown. */
  flush(): Promise<void>;
  close(): void;
}

interface RawSocketLike {
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, after: (error: Error | null, bytes: number) => void): unknown;
  on(event: 'message', listener: (buffer: Buffer, source: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  close(): unknown;
}

export class RawSocketTransport implements VrrpTransport {
  readonly counters: TransportCounters = { packetsReceived: 0, packetsSent: 0, sendErrors: 0, socketErrors: 0 };
  private socket: RawSocketLike;
  private packetHandler: (packet: Buffer) => void = () => undefined;
  private pendingSends = 0;
  private flushWaiters: (() => void)[] = [];
  private readonly errorListeners: ((error: Error) => void)[] = [];
  private closed = false;

  constructor(private readonly options: TransportOptions) {
    for (const group of options.multicastGroups) {
      if (!parseIpv4(group)) throw new Error(`not an IPv4 multicast group: ${group}`);
    }
    this.socket = this.openSocket();
  }

  onPacket(handler: (packet: Buffer) => void): void {
    this.packetHandler = handler;
  }

  flush(): Promise<void> {
    if (this.pendingSends === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  send(vrrpMessage: Buffer, srcIp: string, dstIp: string): void {
    if (this.closed) return;
    let packet: Buffer;
    try {
      const header = encodeIpv4Header({ srcIp, dstIp, protocol: VRRP_PROTOCOL, payloadLength: vrrpMessage.length });
      packet = Buffer.concat([header, vrrpMessage]);
    } catch (error) {
      this.sendFailed(error);
      return;
    }
    this.pendingSends++;
    this.socket.send(packet, 0, packet.length, dstIp, (error) => {
      if (error) this.sendFailed(error);
      else this.counters.packetsSent++;
      if (--this.pendingSends === 0) {
        const waiters = this.flushWaiters;
        this.flushWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.socket.close();
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  private sendFailed(error: unknown): void {
    this.counters.sendErrors++;
    const err = error instanceof Error ? error : new Error(String(error));
    for (const listener of this.errorListeners) listener(err);
  }

  private openSocket(): RawSocketLike {
    const socket = raw.createSocket({ protocol: VRRP_PROTOCOL, bufferSize: 65535 }) as unknown as RawSocketLike;
    const { ifname, ifindex, multicastGroups } = this.options;
    // Only packets arriving on our interface, and we leave from it whatever the routing table says.
    const device = Buffer.from(`${ifname}\0`, 'latin1');
    socket.setOption(SOL_SOCKET, SO_BINDTODEVICE, device, device.length);
    socket.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    socket.setOption(SOL_SOCKET, SO_RCVBUF, 1 << 20);
    socket.setOption(IPPROTO_IP, IP_MULTICAST_TTL, 255);
    socket.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    socket.setOption(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn('0.0.0.0', ifindex), 12);
    for (const group of multicastGroups) {
      socket.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(group, ifindex), 12);
    }
    socket.on('message', (buffer) => this.receive(buffer));
    socket.on('error', (error) => {
      // raw-socket closes itself after an error: count it and open a fresh socket, unless we are closing.
      this.counters.socketErrors++;
      for (const listener of this.errorListeners) listener(error);
      if (!this.closed) {
        try {
          this.socket = this.openSocket();
        } catch (reopenError) {
          for (const listener of this.errorListeners) listener(reopenError as Error);
        }
      }
    });
    return socket;
  }

  private receive(buffer: Buffer): void {
    this.counters.packetsReceived++;
    // raw-socket hands a view of its reusable receive buffer: copy before anyone keeps a reference.
    this.packetHandler(Buffer.from(buffer));
  }
}

/** struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; } (ifindex in host order). */
function ipMreqn(group: string, ifindex: number): Buffer {
  const mreq = Buffer.alloc(12);
  mreq.set(parseIpv4(group) ?? new Uint8Array(4), 0);
  if (endianness() === 'LE') mreq.writeInt32LE(ifindex, 8);
  else mreq.writeInt32BE(ifindex, 8);
  return mreq;
}
