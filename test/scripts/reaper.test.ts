/**
 * The script reaper (src/scripts/reaper.ts) on its own: it kills the process groups it was told of when its
 * parent dies, even when its stdin never reaches end-of-file (here a FIFO it holds open for writing itself,
 * as a leaked copy of the daemon's end would): the parent-change watch is what ends it then.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REAPER_SOURCE } from '../../src/scripts/reaper.js';
import { processAlive } from '../util/processAlive.js';
import { until } from '../util/until.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tv-reaper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('script reaper', () => {
  it('reaps its groups when its parent dies although its stdin stays open', async () => {
    const fifo = path.join(dir, 'in.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // The victim: a group of its own, as a script's (detached = setsid).
    const victim = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    victim.unref();
    const pgid = victim.pid!;
    // The parent starts the reaper with the FIFO opened read-write as its stdin (so it never sees EOF),
    // tells it the group, prints its pid, and waits to be killed.
    const parentSource = `
      const { spawn } = require('node:child_process');
      const fs = require('node:fs');
      const fd = fs.openSync(${JSON.stringify(fifo)}, 'r+');
      const reaper = spawn(process.execPath, ['-e', ${JSON.stringify(REAPER_SOURCE)}], { stdio: [fd, 'ignore', 'ignore'] });
      fs.writeSync(fd, '+${pgid}\\n');
      process.stdout.write(reaper.pid + '\\n');
      setInterval(() => {}, 1000);
    `;
    const parentFile = path.join(dir, 'parent.cjs');
    writeFileSync(parentFile, parentSource);
    const parent = spawn(process.execPath, [parentFile], { stdio: ['ignore', 'pipe', 'ignore'] });
    const reaperPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    expect(processAlive(reaperPid)).toBe(true);
    // Still there while the parent lives: it reaps only on EOF or the parent's death.
    await new Promise((r) => setTimeout(r, 1200));
    expect(processAlive(pgid)).toBe(true);
    try {
      parent.kill('SIGKILL');
      expect(await until(() => !processAlive(pgid), 10_000), 'the victim group is killed').toBe(true);
      expect(await until(() => !processAlive(reaperPid), 10_000), 'the reaper exits').toBe(true);
    } finally {
      // Whatever a failed run left: the victim's group and the reaper.
      for (const pid of [-pgid, reaperPid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      }
    }
  });
});
