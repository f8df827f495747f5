import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockPidFile } from '../../src/daemon/pidFile.js';
import { writeStateDump } from '../../src/daemon/stateDump.js';
import { buildStatus, formatStatusText, type DaemonStatus } from '../../src/daemon/status.js';
import { runStatusCommand } from '../../src/daemon/statusCommand.js';
import { readStatus, startStatusServer } from '../../src/daemon/statusSocket.js';
import { zeroVrrpCounters } from '../../src/metrics/sources.js';

const dir = mkdtempSync(join(tmpdir(), 'td-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sampleStatus(): DaemonStatus {
  return buildStatus({
    version: '0.1.0',
    pid: 4242,
    startedAtEpochMs: Date.UTC(2026, 10, 21, 19, 0, 0),
    configFile: '/etc/tslvsd.conf',
    mode: 'full',
    lastReload: { epochMs: Date.UTC(2026, 10, 21, 19, 5, 0), successful: false, errors: ['/etc/tslvsd.conf:3: error: bad'] },
    vrrpInstances: [
      {
        name: 'VI_1',
        interface: 'eth0',
        vrid: 51,
        state: 'MASTER',
        basePriority: 150,
        effectivePriority: 150,
        vips: ['10.0.0.100/24'],
        lastTransitionEpochMs: Date.UTC(2026, 10, 21, 19, 0, 4),
        masterAddress: '10.0.0.1',
        counters: zeroVrrpCounters(),
      },
    ],
    virtualServers: [
      {
        key: '10.0.0.100:80/TCP',
        quorumUp: true,
        realServers: [
          { address: '192.168.1.10', port: 80, weight: 1, up: true, checkers: [{ type: 'HTTP_GET', up: true }] },
          { address: '192.168.1.11', port: 80, weight: 1, up: false, checkers: [{ type: 'TCP_CHECK', up: false }] },
        ],
      },
    ],
  });
}

describe('status document and text', () => {
  it('renders instances, real servers and the failed reload', () => {
    const text = formatStatusText(sampleStatus());
    expect(text).toContain('tslvsd 0.1.0, pid 4242');
    expect(text).toContain('FAILED, running the previous config');
    expect(text).toMatch(/VI_1\s+eth0\s+51\s+MASTER\s+150\s+150\s+10\.0\.0\.1\s+2026-11-21T19:00:04\.000Z\s+10\.0\.0\.100\/24/);
    expect(text).toMatch(/192\.168\.1\.11:80\s+1\s+DOWN\s+TCP_CHECK:down/);
    expect(text).toContain('10.0.0.100:80/TCP  quorum up');
  });
});

describe('status socket', () => {
  it('serves the current status to each connection; tslvsd status prints it (text and --json)', async () => {
    const path = join(dir, 'run', 'status.sock');
    let reads = 0;
    const server = await startStatusServer(path, () => ({ ...sampleStatus(), pid: 4242 + reads++ }));
    try {
      expect((await readStatus(path)).pid).toBe(4242);
      expect((await readStatus(path)).pid).toBe(4243);
      const out: string[] = [];
      expect(await runStatusCommand(['--status-socket', path], { write: (t: string) => out.push(t) })).toBe(0);
      expect(out.join('')).toContain('VRRP instances');
      out.length = 0;
      expect(await runStatusCommand(['--json', `--status-socket=${path}`], { write: (t: string) => out.push(t) })).toBe(0);
      expect((JSON.parse(out.join('')) as DaemonStatus).vrrpInstances[0]!.state).toBe('MASTER');
    } finally {
      await server.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  it('no daemon: tslvsd status says so and exits 1; a bad argument exits 2', async () => {
    const err: string[] = [];
    expect(await runStatusCommand(['--status-socket', join(dir, 'none.sock')], { write: () => 0 }, { write: (t: string) => err.push(t) })).toBe(1);
    expect(err.join('')).toMatch(/ENOENT.*is tslvsd running/);
    expect(await runStatusCommand(['--bogus'], { write: () => 0 }, { write: () => 0 })).toBe(2);
  });

  it('a stale socket file from a killed daemon is replaced; a live one refuses a second daemon', async () => {
    const path = join(dir, 'stale.sock');
    // A socket file nobody listens on, as a killed daemon leaves it (python does not unlink on exit).
    execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
    expect(existsSync(path)).toBe(true);
    const first = await startStatusServer(path, sampleStatus);
    try {
      await expect(startStatusServer(path, sampleStatus)).rejects.toThrow(/already running/);
      expect((await readStatus(path)).pid).toBe(4242);
    } finally {
      await first.close();
    }
  });

  it('a status source that throws answers an error document, the server survives', async () => {
    const path = join(dir, 'throws.sock');
    const server = await startStatusServer(path, () => {
      throw new Error('snapshot failed');
    });
    try {
      await expect(readStatus(path)).rejects.toThrow('daemon: snapshot failed');
      await expect(readStatus(path)).rejects.toThrow('daemon: snapshot failed');
    } finally {
      await server.close();
    }
  });
});

describe('state dump and pid file', () => {
  it('writes the dump to the first writable directory, atomically', () => {
    const fallback = join(dir, 'dump');
    // As root a 0500 directory is still writable; a path under a regular file is not, for anyone.
    writeFileSync(join(dir, 'marker'), '');
    const blocked = join(dir, 'marker', 'sub');
    const path = writeStateDump(sampleStatus(), [blocked, fallback]);
    expect(path).toBe(join(fallback, 'tslvsd.state.json'));
    expect((JSON.parse(readFileSync(path, 'utf8')) as DaemonStatus).virtualServers[0]!.realServers).toHaveLength(2);
    expect(() => writeStateDump(sampleStatus(), [blocked])).toThrow(/state dump not written/);
  });

  it('pid file: written with our pid, removed at release', () => {
    const path = join(dir, 'pid', 'tslvsd.pid');
    const held = lockPidFile(path, '--pid-file', 1234);
    expect(readFileSync(path, 'utf8')).toBe('1234\n');
    held.release();
    expect(existsSync(path)).toBe(false);
  });
});
