// Shared process plumbing for the director adapters: spawn into a namespace with the log in a file,
// and signal helpers that tolerate already-dead processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { inNetns, sleep } from '../exec.js';

export interface SpawnedDaemon {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
}

export function spawnInNetns(netns: string, argv: readonly string[], logPath: string, cwd?: string): SpawnedDaemon {
  const fd = openSync(logPath, 'a');
  const [file, ...args] = inNetns(netns, argv);
  const child = spawn(file as string, args, { stdio: ['ignore', fd, fd], cwd });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')} in ${netns}`);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return { child, pid: child.pid, exited };
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function terminate(pid: number, exited: Promise<void>, graceMs = 10_000): Promise<void> {
  signal(pid, 'SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    signal(pid, 'SIGKILL');
    await exited;
  }
}

/** The pid in a pid file, if there is a valid one. */
export function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
