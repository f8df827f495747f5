/**
 * Test driver for the announce_route kernel edge (src/announce/kernelRoutes.ts), run inside a namespace
 * by test/ns/announceRoute.test.ts: `add|remove TABLE ADDR…` or `list TABLE`; prints the outcome as JSON.
 */
import { KernelAnnouncedRoutes } from '../../../src/announce/kernelRoutes.js';
import { hostRoutePrefix } from '../../../src/config/keys.js';
import { openRtNetlink } from '../../../src/net/rtnetlink.js';

const [op, tableText, ...addresses] = process.argv.slice(2);
const table = Number(tableText);
const routes = addresses.map((address) => ({ family: address.includes(':') ? ('inet6' as const) : ('inet' as const), address, prefix: hostRoutePrefix(address), table }));
const kernel = new KernelAnnouncedRoutes(openRtNetlink());
try {
  const result = op === 'list' ? await kernel.list(table) : op === 'add' ? await kernel.add(routes) : await kernel.remove(routes);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  kernel.close();
}
