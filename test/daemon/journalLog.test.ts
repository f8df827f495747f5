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
