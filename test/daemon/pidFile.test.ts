/**
 * Pid files are locks (src/daemon/pidFile.ts): the kernel's F_OFD_SETLK through the addon, as keepalived
 * locks its own. Judged with real processes: a second holder is refused with keepalived's sentence while
 * the first lives, whether or not the file names it; a holder killed with SIGKILL leaves a stale file that
 * the next start takes over; a file replaced behind the holder's back is not removed by it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonAlreadyRunningError, lockPidFile } from '../../src/daemon/pidFile.js';

const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'td-pidlock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Another process holding `path` locked through the same addon call; resolves once it holds it. */
async function holder(path: string): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs');
    const addon = require(${JSON.stringify(join(root, 'build/Release/tslvsd_native.node'))});
    const fd = fs.openSync(${JSON.stringify(path)}, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    if (!addon.lockFile(fd)) process.exit(3);
    fs.ftruncateSync(fd, 0); fs.writeSync(fd, process.pid + '\\n', 0);
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

describe('pid file lock', () => {
  it('a second daemon is refused while the first holds the lock: "daemon is already running"', async () => {
    const path = join(dir, 'a.pid');
    const first = await holder(path);
    try {
      let thrown: unknown;
      try {
        lockPidFile(path, '-p');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(DaemonAlreadyRunningError);
      expect((thrown as Error).message).toBe(`daemon is already running (-p ${path} is locked by pid ${first.pid})`);
      // The file is left as the holder wrote it.
      expect(readFileSync(path, 'utf8')).toBe(`${first.pid}\n`);
      // What the file says does not matter: the lock does (a file naming a dead pid is still refused).
      writeFileSync(path, '999999\n');
      expect(() => lockPidFile(path, '-p')).toThrow(/^daemon is already running \(-p .* is locked by pid 999999\)$/);
    } finally {
      await kill9(first);
    }
  });

  it('kill -9 leaves a stale file that does not block a restart', async () => {
    const path = join(dir, 'b.pid');
    const crashed = await holder(path);
    await kill9(crashed);
    expect(readFileSync(path, 'utf8')).toBe(`${crashed.pid}\n`);
    const held = lockPidFile(path, '--pid-file', 4242);
    expect(readFileSync(path, 'utf8')).toBe('4242\n');
    // And we now hold it against the next one.
    expect(() => lockPidFile(path, '--pid-file')).toThrow(DaemonAlreadyRunningError);
    held.release();
    expect(existsSync(path)).toBe(false);
    lockPidFile(path, '--pid-file').release();
  });

  it('release does not remove a file that replaced ours', () => {
    const path = join(dir, 'c.pid');
    const held = lockPidFile(path, '--pid-file', 1);
    unlinkSync(path);
    writeFileSync(path, '2\n');
    held.release();
    expect(readFileSync(path, 'utf8')).toBe('2\n');
  });

  it('a symlink is not followed (O_NOFOLLOW), one sentence', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'keep\n');
    const link = join(dir, 'link.pid');
    symlinkSync(target, link);
    expect(() => lockPidFile(link, '--pid-file')).toThrow(`--pid-file ${link}: cannot write it (ELOOP)`);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
  });
});
