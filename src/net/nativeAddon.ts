import { createRequire } from 'node:module';
import { addonFile } from '../util/packageLayout.js';

/**
 * Typed loader for the project's own N-API addon (native/tslvsd_native.cc, built by node-gyp at install).
 * Its functions throw an Error carrying `errno`/`code`/`syscall` on failure; they never abort the process.
 */
export interface NativeAddon {
  /** Sends one complete Ethernet frame (header included) out of interface `ifindex`; returns bytes sent. */
  sendFrame(ifindex: number, frame: Buffer): number;
  /** Sends one AF_UNIX datagram to `socketPath` ("@name" = abstract namespace); returns bytes sent. */
  sendUnixDatagram(socketPath: string, message: Buffer): number;
  /**
   * An F_OFD_SETLK write lock on the whole file behind `fd`, not waiting (keepalived's pid-file lock):
   * true = ours now, false = another open file description holds it; other errors throw.
   */
  lockFile(fd: number): boolean;
  /**
   * The calling thread's scheduler slice in nanoseconds (EEVDF, Linux 6.12+; 0 = the kernel's default),
   * its policy and nice kept; returns the slice the kernel reports after, 0 where custom slices do not
   * exist (older kernels, or a thread not in the fair class, left alone).
   */
  setSchedulingSlice(ns: number): number;
  /** The VRRP sockets of one interface (see NativeVrrpSocket). */
  VrrpSocket: new (
    options: NativeVrrpSocketOptions,
    onPackets: (data: Buffer, lengths: number[]) => void,
    onError: (error: NativeError) => void,
  ) => NativeVrrpSocket;
}

export interface NativeVrrpSocketOptions {
  ifname: string;
  ifindex: number;
  /** Multicast groups joined on the interface (may be empty). */
  groups: string[];
  /** Classic BPF program, struct sock_filter[] in host byte order (src/vrrp/codec/receiveFilter.ts). */
  filter: Buffer;
  /** SO_RCVBUF (the kernel doubles it, capped by net.core.rmem_max). */
  receiveBufferBytes: number;
  /** Open the send socket too (false: receive only; send() then throws EBADF). */
  sendSocket: boolean;
  /**
   * 4 (default) or 6: AF_INET6 raw protocol-112 sockets; packets reach onPackets behind a 40-byte IPv6
   * header the addon rebuilds from the ancillary data (source, IPV6_PKTINFO destination, hop limit).
   */
  family?: 4 | 6;
  /** IPv6 send hop limit (default 255; test senders only). */
  hopLimit?: number;
  /** IPv6: the kernel computes the checksum (IPV6_CHECKSUM 6; default true; false for test senders). */
  kernelChecksum?: boolean;
}

/** Kernel-side and read-side counts of one receive socket, since it was opened. */
export interface NativeVrrpSocketStats {
  /** Packets handed to JS. */
  received: number;
  /** recvmmsg() calls that returned packets. */
  batches: number;
  /** Packets larger than a read slot (4200 bytes, the rebuilt IPv6 header included): dropped, no VRRP advert is that long. */
  truncated: number;
  /** Failed reads (reading goes on). */
  readErrors: number;
  /** Packets that passed the filter but found the receive buffer full (the kernel's SK_MEMINFO_DROPS). */
  drops: number;
}

/**
 * A send-only IPPROTO_RAW socket (IP_HDRINCL, bound to the interface, multicast loop off) and a protocol-112
 * receive socket (bound, joined, kernel-filtered), read in batches with recvmmsg() from the event loop:
 * `onPackets` gets each batch as the packets end to end (IPv4 header included) and their lengths.
 */
export interface NativeVrrpSocket {
  /**
   * Synchronous sendto(): bytes the kernel accepted; throws (errno) when it refuses. IPv4: the whole packet
   * (our header). IPv6: the VRRP message alone, sent from srcIp (IPV6_PKTINFO).
   */
  send(packet: Buffer, dstIp: string, srcIp?: string): number;
  /** Replaces the receive filter. */
  setFilter(program: Buffer): void;
  stats(): NativeVrrpSocketStats;
  close(): void;
}

export interface NativeError extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}

let loaded: NativeAddon | undefined;

/** The addon, loaded once. Both src/net (tsx, vitest) and dist/net (built) sit two levels below the root. */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const file = addonFile(import.meta.url, 2, 'tslvsd_native');
  const require = createRequire(import.meta.url);
  const raw: unknown = require(file);
  if (!isNativeAddon(raw)) throw new Error(`${file} does not export sendFrame/sendUnixDatagram/VrrpSocket (rebuild it: node-gyp rebuild)`);
  loaded = raw;
  return loaded;
}

function isNativeAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.sendFrame === 'function' && typeof candidate.sendUnixDatagram === 'function' && typeof candidate.VrrpSocket === 'function';
}
