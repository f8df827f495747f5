import raw from '@neuralegion/raw-socket';
import { endianness } from 'node:os';
import { decodeIpv4Header, encodeIpv4Header, type Ipv4Header } from '../codec/ipv4Header.js';
import { peekVrid, VRRP_PROTOCOL } from '../codec/advertCodec.js';
import { parseIpv4 } from '../codec/ipv4Address.js';

/**
 * The VRRP socket of one interface: a raw IPv4 socket for protocol 112, bound to the interface, joined to
 * the multicast group(s) there, sending with IP_HDRINCL so the source address (the primary or
 * `unicast_src_ip`) is ours to choose — as keepalived does, and as the v3 pseudo-header checksum requires.
 * Every VRRP instance on the interface shares it: received packets are routed by VRID; packets that can't
 * be routed (no IP header, unknown VRID) are counted here, everything else by the instance's validator.
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

/** A packet that reached an instance: the IP header it came in and the VRRP message (padding included). */
export interface ReceivedVrrpPacket {
  ip: Ipv4Header;
  payload: Buffer;
}

/** What an instance's receive path implements (the service wires it to the core's validator). */
export type VrrpPacketHandler = (packet: ReceivedVrrpPacket) => void;

/** Counters of the transport itself: packets that never reached an instance, and socket-level events. */
export interface TransportCounters {
  packetsReceived: number;
  /** Not even an IPv4 header (or a total length beyond what arrived). */
  ipHeaderErrors: number;
  /** IP header fine but not protocol 112 (a raw socket can't get those, but the check is cheap). */
  protocolErrors: number;
  /** Shorter than two bytes of VRRP: no VRID to route by. */
  noVridErrors: number;
  /** VRID no instance on this interface uses (keepalived ignores these silently). */
  unknownVrid: number;
  advertsSent: number;
  sendErrors: number;
  socketErrors: number;
}

export interface TransportOptions {
  ifname: string;
  ifindex: number;
  /** Groups to join on this interface (224.0.0.18 or vrrp_mcast_group4); empty for unicast-only use. */
  multicastGroups: string[];
}

/** The narrow interface the VRRP service needs; tests and future transports implement it. */
export interface VrrpTransport {
  readonly counters: TransportCounters;
  /** Routes received packets of `vrid` to handler; returns an unregister function. */
  register(vrid: number, handler: VrrpPacketHandler): () => void;
  /** Sends one VRRP message in an IPv4 packet from srcIp to dstIp (TTL 255). Never throws: errors are counted. */
  send(vrrpMessage: Buffer, srcIp: string, dstIp: string): void;
  /** Called with every send error (for logging); the count is in counters.sendErrors. */
  onError(listener: (error: Error) => void): void;
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
  readonly counters: TransportCounters = {
    packetsReceived: 0,
    ipHeaderErrors: 0,
    protocolErrors: 0,
    noVridErrors: 0,
    unknownVrid: 0,
    advertsSent: 0,
    sendErrors: 0,
    socketErrors: 0,
  };
  private socket: RawSocketLike;
  private readonly handlers = new Map<number, VrrpPacketHandler>();
  private readonly errorListeners: ((error: Error) => void)[] = [];
  private closed = false;

  constructor(private readonly options: TransportOptions) {
    for (const group of options.multicastGroups) {
      if (!parseIpv4(group)) throw new Error(`not an IPv4 multicast group: ${group}`);
    }
    this.socket = this.openSocket();
  }

  register(vrid: number, handler: VrrpPacketHandler): () => void {
    if (this.handlers.has(vrid)) throw new Error(`VRID ${vrid} already in use on ${this.options.ifname}`);
    this.handlers.set(vrid, handler);
    return () => {
      if (this.handlers.get(vrid) === handler) this.handlers.delete(vrid);
    };
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
    this.socket.send(packet, 0, packet.length, dstIp, (error) => {
      if (error) this.sendFailed(error);
      else this.counters.advertsSent++;
    });
  }

  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.handlers.clear();
    this.socket.close();
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

  /** Never throws: a packet is routed, or counted here. */
  private receive(buffer: Buffer): void {
    this.counters.packetsReceived++;
    // raw-socket hands a view of its reusable receive buffer: copy before anything keeps a reference.
    const packet = Buffer.from(buffer);
    const ip = decodeIpv4Header(packet);
    if (!ip.ok) {
      this.counters.ipHeaderErrors++;
      return;
    }
    if (ip.header.protocol !== VRRP_PROTOCOL) {
      this.counters.protocolErrors++;
      return;
    }
    const vrid = peekVrid(ip.payload);
    if (vrid === undefined) {
      this.counters.noVridErrors++;
      return;
    }
    const handler = this.handlers.get(vrid);
    if (!handler) {
      this.counters.unknownVrid++;
      return;
    }
    handler({ ip: ip.header, payload: ip.payload });
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
