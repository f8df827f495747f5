// tslvsd as the director: `node bin/tslvsd.js --config FILE` runs VRRP, health checks and IPVS in one daemon.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.js';
import { REPO_ROOT } from '../paths.js';
import type { DirectorLaunch, DirectorSoftware, RunningDirector } from './director.js';
import { signal, spawnInNetns, terminate } from './process.js';

const BIN = join(REPO_ROOT, 'bin', 'tslvsd.js');
// TSLVSD_LAB_ENTRY=bundle (`npm run demo` sets it, after building the bundle on the host): run esbuild's
// bundle (scripts/bundle.mjs) instead of dist/. Under the VM's emulation Node loading ~150 dist/ modules and
// node_modules over 9p is most of a daemon's start; the bundle is a few files. Tests keep running dist/.
const BUNDLE = join(REPO_ROOT, 'dist-bundle', 'tslvsd.mjs');
const useBundle = process.env.TSLVSD_LAB_ENTRY === 'bundle';
const ENTRY = useBundle ? BUNDLE : BIN;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

export const tslvsdDirector: DirectorSoftware = {
  name: 'tslvsd',
  async unavailableReason() {
    const built = useBundle ? BUNDLE : join(REPO_ROOT, 'dist', 'cli.js');
    const how = useBundle ? 'npm run bundle' : 'npm run build';
    if (!existsSync(built)) return `tslvsd is not built (${how})`;
    // An old build silently runs old code (seen: a daemon without its IPVS fixes).
    if (newestMtime(join(REPO_ROOT, 'src')) > statSync(built).mtimeMs) return `${useBundle ? 'dist-bundle/' : 'dist/'} is older than src/ (${how})`;
    // Under the VM's emulation on a loaded machine, loading the CLI alone took over 15 s (run()'s default):
    // the check is whether it starts at all, so it waits as long as a lab step may.
    const timeoutMs = 120_000;
    const begun = Date.now();
    const r = await run([process.execPath, ENTRY, '--version'], { allowFail: true, timeoutMs });
    if (r.code === 0) return null;
    return Date.now() - begun >= timeoutMs ? `tslvsd --version did not answer within ${timeoutMs / 1000} s` : `tslvsd does not start: ${r.stderr.trim()}`;
  },
  async start(l: DirectorLaunch): Promise<RunningDirector> {
    const logPath = join(l.workDir, `${l.label}.tslvsd.log`);
    // Two daemons share the VM's /run: each gets its own pid file and status socket. No metrics listener
    // (the lab does not scrape it, and every socket costs the emulated CPU something).
    const d = spawnInNetns(l.netns, [process.execPath, ENTRY, '--config', l.configPath,
      '--pid-file', join(l.workDir, `${l.label}.tslvsd.pid`), '--status-socket', join(l.workDir, `${l.label}.tslvsd.sock`),
      '--metrics-listen', 'off', '--log-format', 'json'], logPath, REPO_ROOT);
    return {
      pid: d.pid,
      logPath,
      exited: d.exited,
      async crash() {
        // kill -9 of the daemon only: whatever it runs beside itself must notice and go by itself.
        signal(d.pid, 'SIGKILL');
        await d.exited;
      },
      async stop() {
        await terminate(d.pid, d.exited);
      },
    };
  },
};
