// tslvsd for VRRP only (`--vrrp-only`) with keepalived's checker process (`--check`) programming IPVS:
// measures tslvsd's failover — which is all VRRP — on a working data plane, for as long as tslvsd's own
// IPVS part does not program the lab's table. Both processes are one "director" to the lab.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.js';
import { REPO_ROOT } from '../paths.js';
import type { DirectorLaunch, DirectorSoftware, RunningDirector } from './director.js';
import { readPid, signal, spawnInNetns, terminate } from './process.js';

const BIN = join(REPO_ROOT, 'bin', 'tslvsd.js');

export const tslvsdVrrpDirector: DirectorSoftware = {
  name: 'tslvsd-vrrp',
  async unavailableReason() {
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli.js'))) return 'tslvsd is not built (npm run build)';
    const k = await run(['keepalived', '--version'], { allowFail: true });
    return k.code === 0 ? null : 'keepalived is not installed (its checker programs IPVS here)';
  },
  async start(l: DirectorLaunch): Promise<RunningDirector> {
    const logPath = join(l.workDir, `${l.label}.tslvsd-vrrp.log`);
    const checkerPid = join(l.workDir, `${l.label}.checkers.pid`);
    const checker = spawnInNetns(l.netns, ['keepalived', '-n', '-l', '-D', '-G', '--check', '-f', l.configPath,
      '-p', join(l.workDir, `${l.label}.keepalived.pid`), '-c', checkerPid], join(l.workDir, `${l.label}.checker.log`));
    const vrrp = spawnInNetns(l.netns, [process.execPath, BIN, '--vrrp-only', '--config', l.configPath,
      '--pid-file', join(l.workDir, `${l.label}.tslvsd.pid`), '--status-socket', join(l.workDir, `${l.label}.tslvsd.sock`),
      '--metrics-listen', 'off'], logPath, REPO_ROOT);
    return {
      pid: vrrp.pid,
      logPath,
      exited: Promise.all([vrrp.exited, checker.exited]).then(() => undefined),
      async crash() {
        // Freeze keepalived's parent and checker child first (neither may react to the other's death).
        const pids = [vrrp.pid, checker.pid, readPid(checkerPid)].filter((p): p is number => p !== undefined);
        for (const p of pids) signal(p, 'SIGSTOP');
        for (const p of pids) signal(p, 'SIGKILL');
        await Promise.all([vrrp.exited, checker.exited]);
      },
      async stop() {
        await Promise.all([terminate(vrrp.pid, vrrp.exited), terminate(checker.pid, checker.exited)]);
      },
    };
  },
};
