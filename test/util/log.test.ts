import { describe, expect, it } from 'vitest';
import { createLogger, formatPretty, isLogFormat, isLogLevel, logTransition } from '../../src/util/log.js';

function capture(): { lines: string[]; sink: { write(chunk: string): void } } {
  const lines: string[] = [];
  return { lines, sink: { write: (chunk: string) => void lines.push(chunk) } };
}

describe('logging', () => {
  it('writes one JSON line per transition with instance, from, to, reason', () => {
    const { lines, sink } = capture();
    const log = createLogger({ level: 'info', format: 'json', sink });
    logTransition(log, { kind: 'vrrp', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer', detail: { priority: 150, to: 'ignored' } });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', event: 'transition', kind: 'vrrp', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer', priority: 150 });
    expect(typeof record.time).toBe('string');
    expect(lines[0]!.endsWith('\n')).toBe(true);
  });

  it('honours the level', () => {
    const { lines, sink } = capture();
    const log = createLogger({ level: 'warn', format: 'json', sink });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'shown' });
  });

  it('pretty format: time, level, message, fields; no JSON braces', () => {
    const { lines, sink } = capture();
    const log = createLogger({ level: 'info', format: 'pretty', sink });
    logTransition(log, { kind: 'real_server', instance: '10.0.0.1:80/192.168.1.10:80', from: 'UP', to: 'DOWN', reason: 'HTTP_GET status 500' });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}10\.0\.0\.1:80\/192\.168\.1\.10:80: UP -> DOWN/);
    expect(lines[0]).toContain('kind=real_server');
    expect(lines[0]).toContain('reason="HTTP_GET status 500"');
    expect(formatPretty('not json')).toBe('not json\n');
  });

  it('validates option values', () => {
    expect(isLogLevel('debug')).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
    expect(isLogFormat('pretty')).toBe(true);
    expect(isLogFormat('xml')).toBe(false);
  });
});
