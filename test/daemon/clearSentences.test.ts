/**
 * The pure halves of the start-up checks that answer with one sentence: the capability check (read from
 * /proc/self/status by src/daemon.ts), the status socket's path length and the pid file's directory.
 * The whole-process answers (exit code, stderr) are in test/cli.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { effectiveCapabilities, missingCapabilities, missingCapabilitiesSentence } from '../../src/daemon/capabilities.js';
import { lockPidFile, PidFileError } from '../../src/daemon/pidFile.js';
import { socketPathProblem, SUN_PATH_BYTES } from '../../src/daemon/socketPath.js';

const status = (capEff: string): string => `Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('capabilities', () => {
  it('reads the effective set from /proc/PID/status', () => {
    expect(effectiveCapabilities(status('000001ffffffffff'))).toBe(0x1ffffffffffn);
    expect(effectiveCapabilities('Name:\tx\n')).toBeUndefined();
    expect(effectiveCapabilities(readFileSync('/proc/self/status', 'utf8'))).toBeTypeOf('bigint');
  });

  it('root (every bit) lacks nothing', () => {
    expect(missingCapabilitiesSentence(status('000001ffffffffff'))).toBeUndefined();
    // exactly CAP_NET_ADMIN (bit 12) and CAP_NET_RAW (bit 13): enough
    expect(missingCapabilitiesSentence(status('0000000000003000'))).toBeUndefined();
  });

  it('names exactly what is missing, in one sentence', () => {
    const none = missingCapabilitiesSentence(status('0000000000000000'));
    expect(none).toMatch(/^this process lacks CAP_NET_ADMIN and CAP_NET_RAW \(.*\): run tslvsd as root, or grant them \(systemd: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW\)$/);
    expect(none).not.toMatch(/\n/);
    expect(missingCapabilities(0x1000n, ['CAP_NET_ADMIN', 'CAP_NET_RAW'])).toEqual(['CAP_NET_RAW']);
    expect(missingCapabilitiesSentence(status('0000000000001000'))).toMatch(/^this process lacks CAP_NET_RAW .*grant it \(systemd: AmbientCapabilities=CAP_NET_RAW\)$/);
    expect(missingCapabilitiesSentence(status('0000000000002000'))).toMatch(/^this process lacks CAP_NET_ADMIN /);
  });

  it('says nothing where /proc gives no capability line (the start then fails on its own terms)', () => {
    expect(missingCapabilitiesSentence('')).toBeUndefined();
  });
});

describe('status socket path length (sun_path)', () => {
  it('accepts 107 bytes and refuses 108, counting bytes, not characters', () => {
    expect(SUN_PATH_BYTES).toBe(108);
    expect(socketPathProblem(`/${'a'.repeat(106)}`)).toBeUndefined();
    expect(socketPathProblem(`/${'a'.repeat(107)}`)).toBe(
      `the status socket path /${'a'.repeat(107)} is 108 bytes long, more than the 107 a UNIX socket path can hold (sun_path is 108 bytes): choose a shorter path`,
    );
    // 54 two-byte characters: 108 bytes
    expect(socketPathProblem(`${'é'.repeat(54)}`)).toMatch(/is 108 bytes long/);
    expect(socketPathProblem('')).toBe('the status socket path is empty');
  });
});

describe('pid file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'td-pid-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes missing directories one level at a time', () => {
    const p = join(dir, 'a', 'b', 'x.pid');
    lockPidFile(p, '--pid-file', 4242).release();
    expect(existsSync(join(dir, 'a', 'b'))).toBe(true);
  });

  it('answers with one sentence where it cannot (under /proc, under a file)', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    const cases: [string, string][] = [
      ['/proc/nope/x.pid', '--pid-file /proc/nope/x.pid: cannot create the directory /proc/nope (ENOENT)'],
      ['/proc/nope/deeper/x.pid', '--pid-file /proc/nope/deeper/x.pid: cannot create the directory /proc/nope (ENOENT)'],
      [join(file, 'x.pid'), `--pid-file ${file}/x.pid: ${file} is not a directory`],
      ['/proc/x.pid', '--pid-file /proc/x.pid: cannot write it (ENOENT)'],
    ];
    for (const [path, sentence] of cases) {
      let thrown: unknown;
      try {
        lockPidFile(path, '--pid-file').release();
      } catch (err) {
        thrown = err;
      }
      expect(thrown, path).toBeInstanceOf(PidFileError);
      expect((thrown as Error).message).toBe(sentence);
    }
  });
});
