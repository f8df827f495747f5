/**
 * issue 17: configurations that never finished compiling (`tslvsd -t` hung, the daemon froze on SIGHUP).
 * Each goes through the function `tslvsd -t` runs (src/cli.ts main, in-process) and must end fast with
 * exit 1 and its error located FILE:LINE; then each budget on its own, with small limits, in the pure core.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { type CompileLimits, DEFAULT_COMPILE_LIMITS } from '../../src/config/budget.js';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { MemoryFileSource, type SpecialEntry } from '../../src/config/fileSource.js';
import { loadConfig } from '../../src/config/load.js';
import { type HostileConfig, listenUnixSocket, writeHostileConfigs } from './hostileConfigs.js';

async function configTest(file: string): Promise<{ code: number; stderr: string[]; ms: number }> {
  let err = '';
  const t0 = performance.now();
  const code = await main(['-t', '-f', file, '-i', 'lb1'], { out: { write: () => true }, err: { write: (t: string) => (err += t) } });
  return { code, stderr: err.trim().split('\n'), ms: performance.now() - t0 };
}

const dir = mkdtempSync(path.join(tmpdir(), 'td-hostile-'));
let hostile: HostileConfig[] = [];
let socketServer: Server | undefined;
const socketPath = path.join(dir, 'sock');

beforeAll(async () => {
  hostile = writeHostileConfigs(dir);
  socketServer = await listenUnixSocket(socketPath);
});
afterAll(() => {
  socketServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tslvsd -t on hostile configurations: exit 1, a located error, fast', () => {
  it('every hostile file', async () => {
    const figures: string[] = [];
    for (const h of hostile) {
      const r = await configTest(h.file);
      figures.push(`${h.name} ${r.ms.toFixed(0)} ms`);
      expect(r.code, `${h.name}: ${r.stderr.join('\n')}`).toBe(1);
      expect(r.stderr.some((l) => h.error.test(l)), `${h.name}: ${r.stderr.slice(0, 5).join('\n')}`).toBe(true);
      expect(r.stderr.length, h.name).toBeLessThan(200);
      expect(r.ms, h.name).toBeLessThan(10_000);
    }
    console.log(`[hostile -t] ${figures.join(', ')}`);
  }, 120_000);

  it('non-regular files given as the main config: FIFO, /dev/zero, a directory, a socket', async () => {
    const fifo = path.join(dir, 'main-fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [file, kind] of [[fifo, 'FIFO'], ['/dev/zero', 'character device'], [dir, 'directory'], [socketPath, 'socket']] as const) {
      const r = await configTest(file);
      expect(r.code).toBe(1);
      expect(r.stderr[0]).toBe(`${file}:1:1: error: cannot read ${file}: it is a ${kind}, not a regular file`);
    }
  });

  it('a socket named by an include is refused at the include line', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = path.join(dir, 'include-socket.conf');
    writeFileSync(file, `global_defs {\n}\ninclude ${socketPath}\n`);
    const r = await configTest(file);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toBe(`${file}:3:1: error: cannot read ${socketPath}: it is a socket, not a regular file`);
  });
});

function load(files: Record<string, string | SpecialEntry>, limits: Partial<CompileLimits>) {
  const r = loadConfig('/etc/ka.conf', { files: new MemoryFileSource(files), configId: 'x', limits: { ...DEFAULT_COMPILE_LIMITS, ...limits } });
  return { model: r.model, diags: r.diagnostics.map(formatDiagnostic) };
}

describe('each budget on its own (pure core, small limits)', () => {
  const cases: [string, Record<string, string | SpecialEntry>, Partial<CompileLimits>, string][] = [
    ['file size', { '/etc/ka.conf': 'include big\n', '/etc/big': 'x'.repeat(101) }, { maxFileBytes: 100 }, '/etc/ka.conf:1:1: error: /etc/big is larger than 100 bytes'],
    ['files read', { '/etc/ka.conf': 'include a\ninclude a\ninclude a\n', '/etc/a': 'x' }, { maxFiles: 3 }, '/etc/ka.conf:3:1: error: more than 3 files read (include fan-out?); stopped at /etc/a'],
    ['include fan-out', { '/etc/ka.conf': 'include d/*\n', '/etc/d/1': '', '/etc/d/2': '', '/etc/d/3': '' }, { maxIncludeMatches: 2 }, '/etc/ka.conf:1:1: error: include d/* names 3 files, more than 2'],
    ['include depth', { '/etc/ka.conf': 'include a\n', '/etc/a': 'include b\n', '/etc/b': 'x\n' }, { maxIncludeDepth: 2 }, '/etc/a:1:1: error: includes nested deeper than 2'],
    ['directory entries', { '/etc/ka.conf': 'include d/*/x\n', '/etc/d/1/y': '', '/etc/d/2/y': '', '/etc/d/3/y': '' }, { maxDirEntries: 2 }, '/etc/ka.conf:1:1: error: include globs listed more than 2 directory entries'],
    ['line length', { '/etc/ka.conf': '$A=xxxxxxxxxx\nrouter_id $A$A\nrouter_id ${A}${A}\n' }, { maxLineBytes: 25 }, '/etc/ka.conf:3:1: error: substituting $A makes the line longer than 25 characters (recursive definition?)'],
    ['substitution depth', { '/etc/ka.conf': '$A=$B\n$B=$A\n$A\n' }, { maxExpansionDepth: 4 }, '/etc/ka.conf:3:1: error: parameter substitution nested deeper than 4 (recursive definition?)'],
    ['expansion steps', { '/etc/ka.conf': '~SEQ(I, 50) @other x\n' }, { maxExpansionSteps: 40 }, '/etc/ka.conf:1:12: error: expansion handles more than 40 lines ($NAME / ~SEQ / ~LST)'],
    ['expanded bytes', { '/etc/ka.conf': '$W=@other xxxxxxxxxx\n~LST(I, 1, 2, 3, 4, 5) $W\n' }, { maxExpandedBytes: 100 }, '/etc/ka.conf:2:24: error: expansion produces more than 100 bytes ($NAME / ~SEQ / ~LST)'],
    ['lines', { '/etc/ka.conf': 'a\nb\nc\n' }, { maxLines: 2 }, '/etc/ka.conf:3:1: error: configuration expands to more than 2 lines'],
    ['repeat product', { '/etc/ka.conf': '~SEQ(A, 10) ~SEQ(B, 10) x\n' }, { maxLines: 50 }, '/etc/ka.conf:1:13: error: ~SEQ: nested repeats make 100 lines, more than the 50 a configuration may have'],
    ['output bytes', { '/etc/ka.conf': 'aaaaaaaaaa\nbbbbbbbbbb\n' }, { maxOutputBytes: 15 }, '/etc/ka.conf:2:1: error: configuration expands to more than 15 bytes'],
    ['words', { '/etc/ka.conf': 'a b c\nd e f\n' }, { maxTokens: 5 }, '/etc/ka.conf:2: error: configuration has more than 5 words'],
  ];
  it.each(cases)('%s', (_name, files, limits, error) => {
    const r = load(files, limits);
    expect(r.model).toBeUndefined();
    expect(r.diags).toContain(error);
  });

  it('non-regular includes are errors even for a plain include; a directory a glob matched is skipped', () => {
    const r = load({
      '/etc/ka.conf': 'include fifo\ninclude zero\ninclude d/*\ninclude d\n',
      '/etc/fifo': { special: 'FIFO' }, '/etc/zero': { special: 'character device' }, '/etc/d/sub/x': '', '/etc/d/f': '',
    }, {});
    expect(r.diags).toEqual([
      '/etc/ka.conf:1:1: error: cannot read /etc/fifo: it is a FIFO, not a regular file',
      '/etc/ka.conf:2:1: error: cannot read /etc/zero: it is a character device, not a regular file',
      '/etc/ka.conf:3:1: warning: include: /etc/d/sub is a directory: skipped',
      '/etc/ka.conf:4:1: error: cannot read /etc/d: it is a directory, not a regular file',
    ]);
  });

  it('invalid UTF-8 in a comment is fine (the corpus has Shift-JIS comments); outside one it is an error', () => {
    expect(load({ '/etc/ka.conf': 'global_defs { # caf\uFFFD\n}\n' }, {}).diags).toEqual([]);
    expect(load({ '/etc/ka.conf': 'global_defs {\n router_id caf\uFFFD # x\n}\n' }, {}).diags)
      .toEqual(['/etc/ka.conf:2:15: error: invalid UTF-8 outside a comment: /etc/ka.conf is not a text file in UTF-8 (binary?)']);
  });
});
