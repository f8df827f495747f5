/**
 * The LVS side of the notify FIFO on a real IPVS kernel: the same config (lvs_notify_fifo with a reader
 * script, one virtual server, two real servers each following a FILE_CHECK track_file with weight 0) run
 * by tslvsd --check-only in one namespace and by keepalived 2.2.7 --check in another (IPVS tables are per
 * namespace). Each real server's file goes 0 → 1 → 0 and the first server's again; the FIFO lines both
 * readers captured must be byte-identical, and `ipvsadm` shows the server out while its file says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepalivedProcess, TslvsdProcess } from '../ns/helpers/daemons.js';
import { hasIpvs, sh } from './helpers/kernel.js';

const DIR = '/tmp/tv-nfl';
const BUILD = path.resolve('.tv-nfl-build');
const ENTRY = path.join(BUILD, 'tv-nfl-entry.js');
const NS = { t: 'tv-nfl-t', k: 'tv-nfl-k' } as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(100);
  }
  return check();
}

function config(dir: string): string {
  return `global_defs {
  router_id nfl
  script_user root
  enable_script_security
  lvs_notify_fifo ${dir}/notify.fifo
  lvs_notify_fifo_script ${dir}/reader.sh
}
track_file rs1 {
  file ${dir}/rs1
  weight 0
}
track_file rs2 {
  file ${dir}/rs2
  weight 0
}
virtual_server 10.93.0.100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  delay_loop 1
  real_server 10.93.0.11 80 {
    FILE_CHECK {
      track_file rs1
    }
  }
  real_server 10.93.0.12 80 {
    FILE_CHECK {
      track_file rs2
    }
  }
}
`;
}

describe.skipIf(!hasIpvs)('lvs_notify_fifo: RS lines from FILE_CHECK, tslvsd vs keepalived 2.2.7', () => {
  let tslvsd: TslvsdProcess | undefined;
  let keepalived: KeepalivedProcess | undefined;

  beforeAll(async () => {
    rmSync(BUILD, { recursive: true, force: true });
    const { build } = await import('esbuild');
    await build({ entryPoints: ['src/**/*.ts'], outbase: 'src', outdir: BUILD, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
    writeFileSync(ENTRY, "import { main } from './cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
    rmSync(DIR, { recursive: true, force: true });
    for (const [side, ns] of Object.entries(NS)) {
      spawnSync('ip', ['netns', 'del', ns]);
      sh('ip', 'netns', 'add', ns);
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      const dir = path.join(DIR, side);
      mkdirSync(dir, { recursive: true });
      // Ignores SIGTERM: keepalived signals its scripts at stop (see test/ns/notifyFifo.test.ts).
      writeFileSync(path.join(dir, 'reader.sh'), `#!/bin/sh\ntrap '' TERM\nexec /bin/cat "$1" > ${dir}/capture.txt\n`);
      chmodSync(path.join(dir, 'reader.sh'), 0o755);
      writeFileSync(path.join(dir, 'rs1'), '0\n');
      writeFileSync(path.join(dir, 'rs2'), '0\n');
      writeFileSync(path.join(dir, 'ka.conf'), config(dir));
    }
  });

  afterAll(async () => {
    await tslvsd?.crash();
    await keepalived?.crash();
    for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(DIR, { recursive: true, force: true });
    rmSync(BUILD, { recursive: true, force: true });
  });

  it('the same RS lines in the same order; the table follows the files', async () => {
    const dirs = { t: path.join(DIR, 't'), k: path.join(DIR, 'k') };
    tslvsd = new TslvsdProcess(NS.t, spawn('ip', ['netns', 'exec', NS.t, process.execPath, ENTRY, '--config', path.join(dirs.t, 'ka.conf'), '--check-only', '--status-socket', path.join(dirs.t, 'status.sock')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const kRun = path.join(dirs.k, 'run');
    mkdirSync(kRun);
    keepalived = new KeepalivedProcess(NS.k, spawn('ip', ['netns', 'exec', NS.k, 'keepalived', '-n', '-l', '-D', '--check', '-f', path.join(dirs.k, 'ka.conf'), '-p', path.join(kRun, 'ka.pid'), '-c', path.join(kRun, 'check.pid')], { stdio: ['ignore', 'pipe', 'pipe'] }), path.join(kRun, 'check.pid'));
    const table = (ns: string): string => sh('ip', 'netns', 'exec', ns, 'ipvsadm', '-Ln');
    const both = (pred: (t: string) => boolean): boolean => pred(table(NS.t)) && pred(table(NS.k));
    const has = (addr: string) => (t: string): boolean => t.includes(`${addr}:80`);
    expect(await waitFor(() => both(has('10.93.0.11')) && both(has('10.93.0.12')), 120_000)).toBe(true);
    const capture = (side: 't' | 'k'): string => (existsSync(path.join(dirs[side], 'capture.txt')) ? readFileSync(path.join(dirs[side], 'capture.txt'), 'utf8') : '');
    const lines = (side: 't' | 'k'): string[] => capture(side).split('\n').filter(Boolean);
    // Both servers down also takes the quorum down (a VS line), and the first back brings it up.
    const steps: [string, string][] = [['rs1', '1'], ['rs2', '1'], ['rs1', '0'], ['rs2', '0'], ['rs1', '1']];
    for (const [file, value] of steps) {
      const from = { t: lines('t').length, k: lines('k').length };
      for (const d of Object.values(dirs)) writeFileSync(path.join(d, file), `${value}\n`);
      const line = `RS [10.93.0.${file === 'rs1' ? 11 : 12}]:tcp:80 [10.93.0.100]:tcp:80 ${value === '1' ? 'DOWN' : 'UP'}`;
      expect(await waitFor(() => lines('t').slice(from.t).includes(line) && lines('k').slice(from.k).includes(line), 30_000)).toBe(true);
      await sleep(1500);
    }
    expect(both((t) => !has('10.93.0.11')(t) && has('10.93.0.12')(t))).toBe(true);
    await Promise.all([tslvsd.stop(), keepalived.stop()]);
    await sleep(1500);
    console.log(`keepalived wrote:\n${capture('k')}tslvsd wrote:\n${capture('t')}`);
    expect(capture('k')).toContain('RS [10.93.0.11]:tcp:80 [10.93.0.100]:tcp:80 DOWN\n');
    expect(capture('t')).toBe(capture('k'));
  });
});
