/**
 * Host micro-benchmark of the read-back decode path (no kernel needed):
 *   npx tsx test/ipvs/bench/decodeDump.mts
 * Decodes 1,000 service replies and 10,000 destination replies recorded from a 6.1 kernel (with counters),
 * the shape of a 1,000 × 10 table, with and without stats. Prints the median of 9 rounds after warm-up.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeDestinationReply, decodeServiceReply } from '../../../src/ipvs/codec/requests.js';

const fixtures = new URL('../fixtures/kernel-6.1/', import.meta.url);
const dest = JSON.parse(readFileSync(new URL('get-dest-dump-ipv4-tcp.json', fixtures), 'utf8')) as { replies: string[] };
const recorded = JSON.parse(readFileSync(new URL('../kernel-replies.json', fixtures), 'utf8')) as { replies: { getServices: string[] } };
const destDatagram0 = Buffer.from(dest.replies[0], 'hex');
const destReply = destDatagram0.subarray(0, destDatagram0.readUInt32LE(0));
const svcReply = Buffer.from(recorded.replies.getServices[0], 'hex');
// Replies arrive as slices of bigger datagrams: keep them that way.
const destDatagram = Buffer.concat(Array.from({ length: 10_000 }, () => destReply));
const svcDatagram = Buffer.concat(Array.from({ length: 1_000 }, () => svcReply));
const slices = (d: Buffer, one: number): Buffer[] => Array.from({ length: d.length / one }, (_, i) => d.subarray(i * one, (i + 1) * one));
const dests = slices(destDatagram, destReply.length);
const svcs = slices(svcDatagram, svcReply.length);

function round(withStats: boolean): number {
  const t0 = performance.now();
  let n = 0;
  for (const s of svcs) n += decodeServiceReply(s, { withStats }).key.kind.length;
  for (const d of dests) n += decodeDestinationReply(d, 'ipv4', { withStats }).port;
  if (n === 0) throw new Error('nothing decoded');
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const withStats of [true, false]) {
  for (let i = 0; i < 5; i++) round(withStats);
  const times = Array.from({ length: 9 }, () => round(withStats));
  console.log(`decode 1,000 services + 10,000 destinations, withStats=${withStats}: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)})`);
}
