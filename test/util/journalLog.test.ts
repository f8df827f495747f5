import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, isJournalStream, JOURNAL_PRIORITY, journalPrefix, logTransition } from '../../src/util/log.js';

function capture(): { lines: string[]; sink: { write(chunk: string): void } } {
  const lines: string[] = [];
  return { lines, sink: { write: (chunk: string) => void lines.push(chunk) } };
}

describe('journald priorities (sd-daemon(3) <N> prefixes)', () => {
  it('maps each pino level to its syslog priority', () => {
    expect(JOURNAL_PRIORITY).toEqual({ fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 });
  });

  it('prefixes every JSON line with the priority of its level', () => {
    const { lines, sink } = capture();
    const log = createLogger({ level: 'trace', format: 'json', sink, journalPriority: true });
    log.error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    log.trace('t');
    log.fatal('f');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<3>', '<4>', '<6>', '<7>', '<7>', '<2>']);
    // The rest of the line is still the JSON record, one line each.
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(() => JSON.parse(line.slice(3)) as unknown).not.toThrow();
    }
  });

  it('prefixes each line of a multi-line keepalived rendering, and pretty lines', () => {
    const { lines, sink } = capture();
    const log = createLogger({ level: 'info', format: 'keepalived', sink, journalPriority: true });
    logTransition(log, {
      kind: 'real_server',
      instance: '10.0.0.100:80/TCP/10.0.0.2:80',
      from: 'UP',
      to: 'DOWN',
      reason: 'TCP_CHECK: connection refused',
      detail: { keepalived: { vs: '[10.0.0.100]:tcp:80', rs: '[10.0.0.2]:tcp:80', checkers: ['TCP_CHECK'], tcpRetry: 0, inhibit: false } },
    });
    expect(lines.join('')).toBe('<6>TCP_CHECK on service [10.0.0.2]:tcp:80 failed.\n<6>Removing service [10.0.0.2]:tcp:80 from VS [10.0.0.100]:tcp:80\n');
    const pretty = capture();
    createLogger({ level: 'info', format: 'pretty', sink: pretty.sink, journalPriority: true }).warn('careful');
    expect(pretty.lines[0]).toMatch(/^<4>\d\d:\d\d:\d\d\.\d{3} WARN {2}careful\n$/);
  });

  it('no prefix without the journal', () => {
    const { lines, sink } = capture();
    createLogger({ level: 'info', format: 'json', sink, journalPriority: false }).info('plain');
    expect(lines[0]!.startsWith('{')).toBe(true);
  });

  it('JOURNAL_STREAM must name the very stream (dev:inode) written to', () => {
    expect(isJournalStream('8:12345', { dev: 8, ino: 12345 })).toBe(true);
    expect(isJournalStream('8:12345', { dev: 8, ino: 12346 })).toBe(false);
    expect(isJournalStream('9:12345', { dev: 8, ino: 12345 })).toBe(false);
    expect(isJournalStream(undefined, { dev: 8, ino: 12345 })).toBe(false);
    expect(isJournalStream('garbage', { dev: 8, ino: 12345 })).toBe(false);
    expect(isJournalStream('8:12345', undefined)).toBe(false);
  });

  it('a line without a level gets info', () => {
    expect(journalPrefix('not json')).toBe('<6>');
    expect(journalPrefix('{"level":"error","msg":"x"}')).toBe('<3>');
  });
});

describe('journald detection for real (a child process, stdout a file)', () => {
  const run = (journal: (st: { dev: number; ino: number }) => string | undefined): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tslvsd-journal-'));
    try {
      const out = path.join(dir, 'out');
      const fd = openSync(out, 'w');
      const st = fstatSync(fd);
      const value = journal(st);
      const script = "import { createLogger } from './src/util/log.ts'; createLogger({ level: 'info', format: 'json' }).warn('w');";
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', fd, 'pipe'],
        env: { ...process.env, JOURNAL_STREAM: value ?? '' },
        encoding: 'utf8',
      });
      closeSync(fd);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('JOURNAL_STREAM naming stdout: <4> before the warning', () => {
    expect(run((st) => `${st.dev}:${st.ino}`)).toMatch(/^<4>\{"level":"warn"/);
  });

  it('JOURNAL_STREAM naming another stream (stdout redirected): no prefix', () => {
    expect(run((st) => `${st.dev}:${st.ino + 1}`)).toMatch(/^\{"level":"warn"/);
    expect(run(() => undefined)).toMatch(/^\{"level":"warn"/);
  });
});
