/**
 * Host benchmark of the transport's dump path (no IPVS needed): 1,000 dumps of the generic netlink
 * controller's family list, all queued at once as IpvsClient.listTable queues its per-service dumps.
 *   npx tsx test/ipvs/bench/dumpRoundTrips.mts [dumps]
 * Prints the median wall time of 5 rounds and the datagrams received per dump.
 */
import { performance } from 'node:perf_hooks';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL } from '../../../src/ipvs/codec/constants.js';
import { encodeGenlRequest } from '../../../src/ipvs/codec/message.js';
import { GenericNetlinkTransport } from '../../../src/ipvs/netlinkTransport.js';

const DUMPS = Number(process.argv[2] ?? 1000);
const dump = encodeGenlRequest({ familyId: GENL_ID_CTRL, cmd: CTRL_CMD_GETFAMILY, version: 1, dump: true, attributes: Buffer.alloc(0) });
const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL);
const times: number[] = [];
try {
  for (let r = 0; r < 6; r++) {
    const before = t.counters.datagramsReceived;
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: DUMPS }, () => t.request(dump, { dump: true })));
    if (r > 0) times.push(performance.now() - t0);
    const parts = replies.reduce((n, x) => n + x.length, 0) / DUMPS;
    if (r === 5) console.log(`datagrams per dump: ${((t.counters.datagramsReceived - before) / DUMPS).toFixed(2)}, messages per dump: ${parts}`);
  }
} finally {
  t.close();
}
times.sort((a, b) => a - b);
console.log(`${DUMPS} controller dumps: median ${times[2].toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times[4].toFixed(0)}) = ${((times[2] * 1000) / DUMPS).toFixed(0)} µs per dump`);
