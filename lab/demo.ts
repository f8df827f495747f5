// `npm run demo`, the part that runs where the kernel has IPVS (inside the VM, or directly on such a host):
// the LVS tutorial with a primary/backup director pair, narrated.
//   node --import tsx lab/demo.ts [--director tslvsd|keepalived|tslvsd-vrrp] [--mode dr|nat|tun]
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { crashOutageBoundMs, gracefulOutageBoundMs, PRIORITY, removalBoundMs } from './config/keepalived-conf.js';
import { DIRECTORS, isDirectorName } from './directors/index.js';
import { sleep, waitFor } from './exec.js';
import { LvsLab } from './lab.js';
import { Narrator } from './narrator.js';
import { missingTools } from './preflight.js';
import { longestOutage } from './traffic/analysis.js';
import { LVS_MODES, type LvsMode } from './topology/plan.js';

const { values } = parseArgs({ options: { director: { type: 'string', default: 'tslvsd' }, mode: { type: 'string', default: 'dr' } } });
const directorName = values.director ?? 'tslvsd';
const mode = (values.mode ?? 'dr') as LvsMode;
if (!isDirectorName(directorName)) fail(`unknown --director ${directorName} (keepalived, tslvsd or tslvsd-vrrp)`);
if (!LVS_MODES.includes(mode)) fail(`unknown --mode ${mode} (${LVS_MODES.join(', ')})`);

function fail(msg: string): never {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(1);
}

async function main(): Promise<number> {
  if (!existsSync('/proc/net/ip_vs')) fail('this kernel has no IPVS (/proc/net/ip_vs is missing); run `npm run demo` to use the VM');
  const director = DIRECTORS[directorName as keyof typeof DIRECTORS];
  const missing = await missingTools(director.name);
  if (missing.length) fail(`missing: ${missing.join('; ')}`);
  const why = await director.unavailableReason();
  if (why) fail(`${director.name} cannot run: ${why} (try --director keepalived)`);

  const lab = new LvsLab({ mode, director, prefix: 'demo' });
  const p = lab.plan;
  const narrator = new Narrator(lab);
  const stopping = async (): Promise<void> => {
    narrator.stop();
    await lab.down();
  };
  process.once('SIGINT', () => void stopping().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopping().then(() => process.exit(143)));

  const say = (s: string): void => narrator.say(s);
  const rsList = p.realServers.map((r) => `${r.name} ${r.address} (weight ${r.weight}${r.inhibitOnFailure ? ', inhibit_on_failure' : ''})`).join(', ');
  process.stdout.write(`LVS-${mode.toUpperCase()} with ${director.name} on a primary/backup director pair\n`
    + `  client ${p.clientAddress} → VIP ${p.vip}:${p.port}${p.gatewayVip ? ` (real servers' gateway: VIP ${p.gatewayVip})` : ''}\n`
    + `  directors: primary ${p.directorAddress.primary} (priority ${PRIORITY.primary}), backup ${p.directorAddress.backup} (priority ${PRIORITY.backup}), advert_int ${lab.timings.advertInt} s\n`
    + `  real servers: ${rsList}; wrr; TCP_CHECK every ${lab.timings.delayLoop} s\n`);
  try {
    await lab.build();
    say(`lab built: namespaces ${p.prefix}-{client,primary,backup,rs1,rs2,sw}; real servers up`);
    await lab.startDirectors();
    say(`${director.name} started on both directors`);
    narrator.start();
    if ((await lab.waitForSoleMaster('primary', 120_000)) === undefined) throw new Error('the primary never took the VIP within 120 s');
    await lab.startTraffic();
    say('client starts a request every 100 ms');
    await sleep(4000);

    say(`▶ the primary crashes: kill -9 ${director.name} and its links go down (the client may lose up to ${(crashOutageBoundMs(lab.timings) / 1000).toFixed(1)} s)`);
    const crashAt = Date.now();
    await lab.directors.primary.powerFail();
    await report(lab, crashAt, 'crash', crashOutageBoundMs(lab.timings));
    await sleep(2000);

    say(`▶ rs1's web server dies (removal expected within ${removalBoundMs(lab.timings) / 1000} s + slack)`);
    const rsAt = Date.now();
    await lab.realServers.rs1.kill();
    const gone = await waitFor(async () => ((await lab.realServerEntry('backup', 'rs1')) ? undefined : Date.now()), 20_000);
    if (gone !== undefined) {
      say(`rs1 left the backup's table ${((gone - rsAt) / 1000).toFixed(1)} s after it died`);
      await sleep(3000);
      const after = lab.traffic?.since(gone + 200) ?? [];
      say(`since then: ${after.filter((r) => r.ok).length} requests ok, ${after.filter((r) => !r.ok).length} failed`);
    } else say('rs1 did NOT leave the table within 20 s');
    say('▶ rs1 comes back');
    const backAt = Date.now();
    await lab.realServers.rs1.start();
    const back = await waitFor(async () => ((await lab.realServerEntry('backup', 'rs1')) ? Date.now() : undefined), 20_000);
    say(back !== undefined ? `rs1 is back in the table after ${((back - backAt) / 1000).toFixed(1)} s` : 'rs1 did NOT come back within 20 s');
    await sleep(3000);

    say('▶ the primary director boots again');
    const returnAt = Date.now();
    await lab.directors.primary.powerOn();
    const pre = await lab.waitForSoleMaster('primary', 120_000);
    say(pre !== undefined ? `primary preempted: sole VIP holder again ${((pre - returnAt) / 1000).toFixed(1)} s after its start` : 'primary did NOT take the VIP back within 120 s');
    await sleep(3000);
    const lost = (lab.traffic?.since(returnAt) ?? []).filter((r) => !r.ok).length;
    say(`requests lost during the preemption: ${lost}`);

    say(`▶ graceful stop of the primary (SIGTERM; it may lose up to ${(gracefulOutageBoundMs() / 1000).toFixed(1)} s)`);
    const stopAt = Date.now();
    await lab.directors.primary.stop();
    await report(lab, stopAt, 'graceful stop', gracefulOutageBoundMs());
    narrator.stop();
    const all = lab.traffic?.records ?? [];
    process.stdout.write(`\ndone: ${all.length} requests, ${all.filter((r) => !r.ok).length} failed in total\n`);
    return 0;
  } catch (err) {
    narrator.stop();
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    // The work dir may be on the VM's tmpfs, gone after this run: show the end of each director's log.
    for (const d of ['primary', 'backup'] as const) {
      const log = lab.directors[d].daemon?.logPath;
      if (log && existsSync(log)) process.stderr.write(`--- ${d}: ${log} (last lines)\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}\n`);
    }
    return 1;
  } finally {
    await lab.down();
  }

  async function report(l: LvsLab, at: number, what: string, boundMs: number): Promise<void> {
    const ok = await l.traffic?.waitForSuccessRun(at, 5, 20_000);
    await sleep(500);
    if (!ok) {
      if (l.traffic) narrator.say(`the client did NOT recover within 20 s after the ${what}`);
      return;
    }
    const o = longestOutage(l.traffic?.since(at - 1000) ?? [], at);
    if (!o) narrator.say(`client outage after the ${what}: none (no request failed)`);
    else narrator.say(`client outage after the ${what}: ${(o.durationMs / 1000).toFixed(2)} s, ${o.failedRequests} requests failed (bound ${(boundMs / 1000).toFixed(2)} s)`);
  }
}

main().then((code) => process.exit(code), (err: unknown) => fail(String(err)));
