/**
 * VRRP failover benchmark (root): two directors on a veth pair, the same keepalived.conf for tslvsd and
 * for Debian's keepalived. Measures, over repeated runs, the time from the master's crash (SIGKILL) or
 * graceful stop (SIGTERM) to the VIP appearing on the backup (seen by `ip -n NS monitor address`),
 * against the protocol bounds (crash: 3 × advert_int + skew; graceful: skew), and the master's advert send
 * jitter as seen by tcpdump in the peer namespace.
 *
 *   node --import tsx bench/vrrp-failover.ts [--runs 5] [--jitter-seconds 20] [--only tslvsd|keepalived]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { advertJitter, percentile } from './helpers/advertJitter.js';
import { runCommand, sleep } from '../test/ns/helpers/exec.js';
import { createVethLab, destroyLab, labPrefix, type LabHost } from '../test/ns/helpers/netns.js';
import { startKeepalived, startTslvsd } from '../test/ns/helpers/daemons.js';
import { keepalivedConf } from '../test/ns/helpers/keepalivedConf.js';
import { VipMonitor } from '../test/ns/helpers/vipMonitor.js';

const PREFIX = labPrefix('bn');
const VIP = '10.99.0.200';
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(option('runs', '5'));
const JITTER_SECONDS = Number(option('jitter-seconds', '20'));
const ONLY = option('only', '');
const SKEW_MS = ((256 - 100) / 256) * 1000;
const CRASH_BOUND_MS = 3000 + SKEW_MS;
const GRACEFUL_BOUND_MS = SKEW_MS;

type Impl = 'tslvsd' | 'keepalived';
interface Stoppable {
  stop(): Promise<unknown>;
  crash(): Promise<unknown>;
}

function summary(values: number[]): string {
  const s = [...values].sort((x, y) => x - y);
  return `n=${s.length} min ${s[0]?.toFixed(0)} p50 ${percentile(s, 50).toFixed(0)} max ${s[s.length - 1]?.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  await destroyLab(PREFIX);
  const [a, b] = await createVethLab(PREFIX, 'a', 'b', '10.99.0.1/24', '10.99.0.2/24');
  const dir = mkdtempSync(path.join(tmpdir(), 'tv-bn-'));
  const watch = new VipMonitor([a, b], VIP);
  await watch.started();
  const live: Stoppable[] = [];
  let n = 0;
  const launch = (impl: Impl, host: LabHost, priority: number): Stoppable => {
    const file = path.join(dir, `${n++}.conf`);
    writeFileSync(file, keepalivedConf({ routerId: host.ns, priority, vips: [`${VIP}/24`], password: 'secret1' }));
    const p = impl === 'tslvsd' ? startTslvsd(host.ns, file) : startKeepalived(host.ns, file, path.join(dir, `w${n}`));
    live.push(p);
    return p;
  };
  const clearVip = async (host: LabHost) => runCommand('ip', ['-n', host.ns, 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
  const waitHeldOnlyBy = async (host: LabHost, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const c = watch.current();
      if (c.length === 1 && c[0] === host.ns) return true;
      await sleep(20);
    }
    return false;
  };

  try {
    for (const impl of ['tslvsd', 'keepalived'] as Impl[]) {
      if (ONLY && ONLY !== impl) continue;
      const crash: number[] = [];
      const graceful: number[] = [];
      let master = launch(impl, a, 150);
      if (!(await waitHeldOnlyBy(a, 15_000))) throw new Error(`${impl}: A never became master`);
      const backup = launch(impl, b, 100);
      await sleep(2000);
      for (let run = 0; run < RUNS; run++) {
        for (const kind of ['crash', 'graceful'] as const) {
          // Let the backup see a few adverts, and start at a random phase of the advert interval.
          await sleep(1500 + Math.random() * 1000);
          const t0 = performance.now();
          if (kind === 'crash') void master.crash();
          else void master.stop();
          const at = await watch.heldBy(b.ns, t0, 10_000);
          if (at === undefined) throw new Error(`${impl} ${kind}: backup never took the VIP`);
          (kind === 'crash' ? crash : graceful).push(at - t0);
          await master.crash();
          await clearVip(a); // a killed master leaves its VIP (keepalived and tslvsd both clear it at start)
          master = launch(impl, a, 150);
          if (!(await waitHeldOnlyBy(a, 20_000))) throw new Error(`${impl}: A did not preempt back`);
        }
      }
      const jitter = await advertJitter(b, '10.99.0.1', JITTER_SECONDS, 1000);
      console.log(`\n## ${impl} (advert_int 1 s, backup priority 100: skew ${SKEW_MS.toFixed(0)} ms)`);
      console.log(`crash → VIP on backup:    ${summary(crash)}   (protocol bound 3×advert+skew = ${CRASH_BOUND_MS.toFixed(0)} ms)`);
      console.log(`graceful → VIP on backup: ${summary(graceful)}   (protocol bound skew = ${GRACEFUL_BOUND_MS.toFixed(0)} ms)`);
      console.log(`advert interval jitter |Δ−1000 ms| over ${jitter.length} adverts: p50 ${percentile(jitter, 50).toFixed(2)} p99 ${percentile(jitter, 99).toFixed(2)} max ${jitter[jitter.length - 1]?.toFixed(2)} ms`);
      await Promise.all([master.stop(), backup.stop()]);
      await clearVip(a);
      await clearVip(b);
    }
  } finally {
    await watch.stop();
    await Promise.all(live.map((p) => p.crash()));
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
