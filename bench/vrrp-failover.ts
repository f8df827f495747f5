/**
 * VRRP failover benchmark (root): two directors on a veth pair, the same keepalived.conf for tslvsd and
 * for Debian's keepalived. Measures, over repeated runs, the time from the master's crash (SIGKILL) or
 * graceful stop (SIGTERM) to the VIP appearing on the backup (seen by `ip -n NS monitor address`),
 * against the protocol bounds (crash: 3 × advert_int + skew; graceful: skew), and the master's advert send
 * jitter as seen by tcpdump in the peer namespace. IPv4 (VRRPv2, 224.0.0.18) and IPv6 (VRRPv3 over IPv6,
 * ff02::12 from the link-local addresses) on the same lab; a table at the end puts tslvsd and keepalived
 * side by side (ratio = keepalived / tslvsd).
 *
 *   node --import tsx bench/vrrp-failover.ts [--runs 5] [--jitter-seconds 20] [--only tslvsd|keepalived]
 *                                            [--family inet|inet6|both]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { advertJitter, percentile } from './helpers/advertJitter.js';
import { runCommand, sleep } from '../test/ns/helpers/exec.js';
import { createVethLab, destroyLab, labPrefix, linkLocalReady, type LabHost } from '../test/ns/helpers/netns.js';
import { startKeepalived, startTslvsd } from '../test/ns/helpers/daemons.js';
import { keepalivedConf } from '../test/ns/helpers/keepalivedConf.js';
import { VipMonitor } from '../test/ns/helpers/vipMonitor.js';

const PREFIX = labPrefix('bn');
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(option('runs', '5'));
const JITTER_SECONDS = Number(option('jitter-seconds', '20'));
const ONLY = option('only', '');
const FAMILIES = option('family', 'both') === 'both' ? (['inet', 'inet6'] as const) : ([option('family', 'inet')] as ('inet' | 'inet6')[]);
const VIPS = { inet: { vip: '10.99.0.200', prefix: 24 }, inet6: { vip: 'fd00:99::100', prefix: 64 } } as const;
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
  await runCommand('ip', ['-n', a.ns, 'addr', 'add', 'fd00:99::1/64', 'dev', 'eth0']);
  await runCommand('ip', ['-n', b.ns, 'addr', 'add', 'fd00:99::2/64', 'dev', 'eth0']);
  const [aLinkLocal] = await Promise.all([linkLocalReady(a.ns), linkLocalReady(b.ns)]);
  const dir = mkdtempSync(path.join(tmpdir(), 'tv-bn-'));
  const live: Stoppable[] = [];
  const rows: { family: string; metric: string; tslvsd?: number; keepalived?: number }[] = [];
  const row = (family: string, metric: string, impl: Impl, value: number) => {
    let r = rows.find((x) => x.family === family && x.metric === metric);
    if (!r) rows.push((r = { family, metric }));
    r[impl] = value;
  };
  let n = 0;
  try {
    for (const family of FAMILIES) {
      const { vip, prefix } = VIPS[family];
      const watch = new VipMonitor([a, b], vip);
      await watch.started();
      const launch = (impl: Impl, host: LabHost, priority: number): Stoppable => {
        const file = path.join(dir, `${n++}.conf`);
        const vips = [`${vip}/${prefix}`];
        writeFileSync(file, keepalivedConf(family === 'inet' ? { routerId: host.ns, priority, vips, password: 'secret1' } : { routerId: host.ns, priority, vips }));
        const p = impl === 'tslvsd' ? startTslvsd(host.ns, file) : startKeepalived(host.ns, file, path.join(dir, `w${n}`));
        live.push(p);
        return p;
      };
      const clearVip = async (host: LabHost) => runCommand('ip', ['-n', host.ns, 'addr', 'del', `${vip}/${prefix}`, 'dev', 'eth0']);
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
          const jitter = await advertJitter(b, family === 'inet' ? '10.99.0.1' : aLinkLocal, JITTER_SECONDS, 1000);
          const median = (xs: number[]) => percentile([...xs].sort((x, y) => x - y), 50);
          row(family, 'crash → VIP on backup, p50 ms', impl, median(crash));
          row(family, 'crash → VIP on backup, max ms', impl, Math.max(...crash));
          row(family, 'graceful → VIP on backup, p50 ms', impl, median(graceful));
          row(family, 'graceful → VIP on backup, max ms', impl, Math.max(...graceful));
          row(family, 'advert jitter p99 ms', impl, percentile(jitter, 99));
          console.log(`\n## ${impl} ${family === 'inet' ? 'IPv4 VRRPv2' : 'IPv6 VRRPv3'} (advert_int 1 s, backup priority 100: skew ${SKEW_MS.toFixed(0)} ms)`);
          console.log(`crash → VIP on backup:    ${summary(crash)}   (protocol bound 3×advert+skew = ${CRASH_BOUND_MS.toFixed(0)} ms)`);
          console.log(`graceful → VIP on backup: ${summary(graceful)}   (protocol bound skew = ${GRACEFUL_BOUND_MS.toFixed(0)} ms)`);
          console.log(`advert interval jitter |Δ−1000 ms| over ${jitter.length} adverts: p50 ${percentile(jitter, 50).toFixed(2)} p99 ${percentile(jitter, 99).toFixed(2)} max ${jitter[jitter.length - 1]?.toFixed(2)} ms`);
          await Promise.all([master.stop(), backup.stop()]);
          await clearVip(a);
          await clearVip(b);
        }
      } finally {
        await watch.stop();
      }
    }
    console.log(`\n| family | metric | tslvsd | keepalived 2.2.7 | ratio keepalived / tslvsd |\n| --- | --- | --- | --- | --- |`);
    for (const r of rows) {
      const digits = r.metric.includes('jitter') ? 2 : 0;
      const ratio = r.tslvsd && r.keepalived ? `${(r.keepalived / r.tslvsd).toFixed(2)}×` : '-';
      console.log(`| ${r.family === 'inet' ? 'IPv4 (v2)' : 'IPv6 (v3)'} | ${r.metric} | ${r.tslvsd?.toFixed(digits) ?? '-'} | ${r.keepalived?.toFixed(digits) ?? '-'} | ${ratio} |`);
    }
  } finally {
    await Promise.all(live.map((p) => p.crash()));
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
