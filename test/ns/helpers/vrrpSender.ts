/**
 * Test-only packet gun, run inside a namespace (`ip netns exec NS node --import tsx vrrpSender.ts SPEC`):
 * sends crafted IPv4 protocol-112 packets (any TTL, any payload bytes) out of one interface, then prints
 * `sent N` and exits. SPEC is JSON: { ifname, packets: [{ src, dst, ttl?, payloadHex }], repeat?, gapMs? }.
 */
import raw from '@neuralegion/raw-socket';
import { encodeIpv4Header } from '../../../src/vrrp/codec/ipv4Header.js';

interface PacketSpec {
  src: string;
  dst: string;
  ttl?: number;
  payloadHex: string;
}
interface SenderSpec {
  ifname: string;
  packets: PacketSpec[];
  repeat?: number;
  gapMs?: number;
}

interface RawSocketLike {
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, after: (error: Error | null) => void): unknown;
  close(): unknown;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as SenderSpec;
const socket = raw.createSocket({ protocol: 112 }) as unknown as RawSocketLike;
const device = Buffer.from(`${spec.ifname}\0`);
socket.setOption(1, 25, device, device.length); // SO_BINDTODEVICE
socket.setOption(0, 3, 1); // IP_HDRINCL
socket.setOption(0, 34, 0); // IP_MULTICAST_LOOP off

let sent = 0;
let failed = 0;
const total = spec.packets.length * (spec.repeat ?? 1);
const queue: Buffer[] = [];
const dsts: string[] = [];
for (let r = 0; r < (spec.repeat ?? 1); r++) {
  for (const p of spec.packets) {
    const payload = Buffer.from(p.payloadHex, 'hex');
    queue.push(Buffer.concat([encodeIpv4Header({ srcIp: p.src, dstIp: p.dst, protocol: 112, payloadLength: payload.length, ttl: p.ttl ?? 255 }), payload]));
    dsts.push(p.dst);
  }
}

function next(i: number): void {
  if (i >= total) {
    process.stdout.write(`sent ${sent} failed ${failed}\n`);
    socket.close();
    return;
  }
  socket.send(queue[i]!, 0, queue[i]!.length, dsts[i]!, (error) => {
    if (error) failed++;
    else sent++;
    if (spec.gapMs) setTimeout(() => next(i + 1), spec.gapMs);
    else setImmediate(() => next(i + 1));
  });
}
next(0);
