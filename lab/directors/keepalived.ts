// keepalived 2.2.7 (Debian) as the director: VRRP child + checker child, which programs IPVS itself.
import { join } from 'node:path';
import { run } from '../exec.js';
import type { DirectorLaunch, DirectorSoftware, RunningDirector } from './director.js';
import { readPid, signal, spawnInNetns, terminate } from './process.js';

export const keepalivedDirector: DirectorSoftware = {
  name: 'keepalived',
  async unavailableReason() {
    const r = await run(['keepalived', '--version'], { allowFail: true });
    return r.code === 0 ? null : 'keepalived is not installed (apt-get install keepalived)';
  },
  async start(l: DirectorLaunch): Promise<RunningDirector> {
    const pidFiles = {
      main: join(l.workDir, `${l.label}.keepalived.pid`),
      vrrp: join(l.workDir, `${l.label}.vrrp.pid`),
      checker: join(l.workDir, `${l.label}.checkers.pid`),
    };
    const logPath = join(l.workDir, `${l.label}.keepalived.log`);
    // -n: stay in the foreground so our child is the parent process; -l -D: detailed log to stderr (our file);
    // -G: no syslog (without a syslog daemon, as in the VM, LOG_CONS would spill it onto /dev/console).
    const d = spawnInNetns(l.netns, ['keepalived', '-n', '-l', '-D', '-G', '-f', l.configPath,
      '-p', pidFiles.main, '-r', pidFiles.vrrp, '-c', pidFiles.checker], logPath);
    return {
      pid: d.pid,
      logPath,
      exited: d.exited,
      async crash() {
        // Freeze all three first so the parent cannot respawn a child and no child can react to its
        // parent's death (a SIGTERM'ed VRRP child would send priority 0: a graceful stop, not a crash).
        const pids = [d.pid, readPid(pidFiles.vrrp), readPid(pidFiles.checker)].filter((p): p is number => p !== undefined);
        for (const p of pids) signal(p, 'SIGSTOP');
        for (const p of pids) signal(p, 'SIGKILL');
        await d.exited;
      },
      async stop() {
        await terminate(d.pid, d.exited);
      },
    };
  },
};
