/**
 * Test-only IPv6 packet gun, run inside a namespace (`ip netns exec NS node --import tsx vrrpSender6.ts SPEC`):
 * sends crafted protocol-112 payloads (any bytes, any checksum: the kernel does not fill it in) over IPv6
 * out of one interface with the given hop limit, through the project's addon, then prints `sent N failed M`.
 * SPEC is JSON: { ifname, hopLimit?, packets: [{ src, dst, payloadHex }], repeat? }.
 */
import { readFileSync } from 'node:fs';
import { nativeAddon } from '../../../src/net/nativeAddon.js';

interface SenderSpec {
  ifname: string;
  hopLimit?: number;
  packets: { src: string; dst: string; payloadHex: string }[];
  repeat?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as SenderSpec;
const ifindex = Number(readFileSync(`/sys/class/net/${spec.ifname}/ifindex`, 'utf8').trim());
const dropAll = Buffer.alloc(8);
dropAll.writeUInt16LE(0x06, 0); // BPF_RET | BPF_K, k = 0: the receive side of this socket takes nothing
const { VrrpSocket } = nativeAddon();
const socket = new VrrpSocket(
  { ifname: spec.ifname, ifindex, groups: [], filter: dropAll, receiveBufferBytes: 0, sendSocket: true, family: 6, hopLimit: spec.hopLimit ?? 255, kernelChecksum: false },
  () => undefined,
  () => undefined,
);
let sent = 0;
let failed = 0;
const payloads = spec.packets.map((p) => Buffer.from(p.payloadHex, 'hex'));
for (let r = 0; r < (spec.repeat ?? 1); r++) {
  for (const [i, p] of spec.packets.entries()) {
    try {
      socket.send(payloads[i]!, p.dst, p.src);
      sent++;
    } catch {
      failed++;
    }
    // Paced (50 packets per 5 ms): the receiver's buffer must not overflow, or what it reads is not what was sent.
    if ((sent + failed) % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
socket.close();
process.stdout.write(`sent ${sent} failed ${failed}\n`);
