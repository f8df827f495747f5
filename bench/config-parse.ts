/**
 * Benchmark: parse + validate a generated keepalived.conf with 10,000 real servers (100 virtual servers ×
 * 100 real servers, each with a TCP_CHECK), through the same path as `tslvsd --config-test`.
 *
 *   npx tsx bench/config-parse.ts [REAL_SERVERS]
 *
 * Prints the median of several runs (after a warm-up) and the heap growth of one compile.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryFileSource } from '../src/config/fileSource.js';
import { loadConfig } from '../src/config/load.js';

const realServers = Number(process.argv[2] ?? 10_000);
const perVs = 100;
const vsCount = Math.ceil(realServers / perVs);

function generate(): string {
  const out: string[] = [
    'global_defs {\n  router_id BENCH\n}',
    'vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}',
  ];
  let made = 0;
  for (let v = 0; v < vsCount; v++) {
    out.push(`virtual_server 10.1.${Math.floor(v / 250)}.${(v % 250) + 1} 80 {\n  delay_loop 6\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP`);
    for (let r = 0; r < perVs && made < realServers; r++, made++) {
      out.push(`  real_server 10.${2 + Math.floor(made / 65025)}.${Math.floor((made % 65025) / 255)}.${(made % 255) + 1} 80 {\n    weight ${1 + (r % 5)}\n    TCP_CHECK {\n      connect_timeout 3\n      retry 2\n    }\n  }`);
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

const text = generate();
const files = new MemoryFileSource({ '/bench/keepalived.conf': text });
const compile = () => loadConfig('/bench/keepalived.conf', { files, configId: 'bench' });

// Warm-up (JIT), then timed runs.
const warm = compile();
if (warm.model === undefined || warm.errorCount > 0) {
  console.error('generated config did not compile');
  process.exit(1);
}
const count = warm.model.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
// Wall time, and CPU time of this process (what the compile costs when the machine is shared and busy).
const times: number[] = [];
const cpuTimes: number[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  compile();
  const c = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpuTimes.push((c.user + c.system) / 1000);
}
times.sort((a, b) => a - b);
cpuTimes.sort((a, b) => a - b);

// A real gc() so the heap figure is what one compiled model keeps alive, not garbage from the runs above.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
gc();
const before = process.memoryUsage().heapUsed;
const kept = compile();
gc();
const heapMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;

console.log(`config-parse: ${count} real servers in ${warm.model.virtualServers.length} virtual servers, ` +
  `${(text.length / 1024).toFixed(0)} KiB, ${text.split('\n').length} lines`);
console.log(`  parse+validate: median ${times[3].toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times[6].toFixed(0)} ms wall; ` +
  `median ${cpuTimes[3].toFixed(0)} ms CPU (7 runs after warm-up; the CPU figure includes the GC threads)`);
console.log(`  heap held by one compiled model (with its diagnostics): ${heapMb.toFixed(1)} MiB; ` +
  `rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
void kept.model;
