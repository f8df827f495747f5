/**
 * Test-only junk flooder, run inside a lab namespace (`ip netns exec NS node --import tsx vrrpFlooder.ts SPEC`):
 * sends protocol-112 junk as fast as one process can — whole Ethernet frames through the project's addon
 * (AF_PACKET, one synchronous sendto per frame, no IP stack on the way out) — for at most `seconds` and
 * at most `maxPackets`, then prints `sent N failed F seconds S` and exits. Bounded both ways, so a stuck
 * test never floods on. SPEC is JSON: { ifname, ifindex, srcMac, dstMac, srcIp, dstIp, ttl, vrid, seconds,
 * maxPackets }. The junk carries the given VRID (so a VRID filter lets it through) and a wrong checksum,
 * with a varying priority and address byte, as a fuzzer or a broken peer would send it.
 */
import { nativeAddon } from '../../../src/net/nativeAddon.js';
import { encodeIpv4Header } from '../../../src/vrrp/codec/ipv4Header.js';

interface FloodSpec {
  ifname: string;
  ifindex: number;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  ttl: number;
  vrid: number;
  seconds: number;
  maxPackets: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as FloodSpec;
const mac = (text: string) => Buffer.from(text.split(':').map((h) => parseInt(h, 16)));

// 64 distinct frames, cycled: building them costs nothing during the flood.
const frames: Buffer[] = [];
for (let i = 0; i < 64; i++) {
  // VRRPv2 advert, type 1, our VRID, priority varies, one address, no auth, interval 1 — checksum wrong.
  const vrrp = Buffer.from([0x21, spec.vrid, 200 + (i % 50), 1, 0, 1, 0xde, 0xad, 10, 0, 0, i, 0, 0, 0, 0, 0, 0, 0, 0]);
  const ip = encodeIpv4Header({ srcIp: spec.srcIp, dstIp: spec.dstIp, protocol: 112, payloadLength: vrrp.length, ttl: spec.ttl });
  frames.push(Buffer.concat([mac(spec.dstMac), mac(spec.srcMac), Buffer.from([0x08, 0x00]), ip, vrrp]));
}

const { sendFrame } = nativeAddon();
const started = performance.now();
const deadline = started + spec.seconds * 1000;
let sent = 0;
let failed = 0;
outer: for (;;) {
  for (let i = 0; i < 1024; i++) {
    if (sent + failed >= spec.maxPackets) break outer;
    try {
      sendFrame(spec.ifindex, frames[(sent + failed) & 63]!);
      sent++;
    } catch {
      failed++; // ENOBUFS when the queue is full: go on
    }
  }
  if (performance.now() >= deadline) break;
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`sent ${sent} failed ${failed} seconds ${seconds.toFixed(3)}\n`);
