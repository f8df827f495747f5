import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemdNotifier, watchdogPingIntervalMs, type DatagramSender } from '../../src/systemd/notify.js';
import { nativeDatagramSender } from '../../src/systemd/nativeSender.js';
import { SystemdWatchdog } from '../../src/systemd/watchdog.js';
import { FakeClock, SystemClock } from '../../src/util/clock.js';
import { startNotifyListener } from '../daemon/notifyListener.js';

function recordingSender(): DatagramSender & { sent: Array<[string, string]> } {
  const sent: Array<[string, string]> = [];
  return { sent, sendUnixDatagram: (path, message) => (sent.push([path, message.toString()]), message.length) };
}

describe('sd_notify protocol (fake sender)', () => {
  it('sends READY, RELOADING with MONOTONIC_USEC, STOPPING, WATCHDOG, STATUS', () => {
    const sender = recordingSender();
    const n = new SystemdNotifier({ NOTIFY_SOCKET: '@sd-test' }, sender, undefined, () => 123456789n);
    n.ready('2 instances');
    n.reloading();
    n.stopping();
    n.watchdog();
    n.status('line one\nline two');
    expect(sender.sent).toEqual([
      ['@sd-test', 'READY=1\nSTATUS=2 instances'],
      ['@sd-test', 'RELOADING=1\nMONOTONIC_USEC=123456789'],
      ['@sd-test', 'STOPPING=1'],
      ['@sd-test', 'WATCHDOG=1'],
      ['@sd-test', 'STATUS=line one line two'],
    ]);
  });

  it('is a no-op without NOTIFY_SOCKET or with a relative path', () => {
    const sender = recordingSender();
    expect(new SystemdNotifier({}, sender).ready()).toBe(false);
    expect(new SystemdNotifier({ NOTIFY_SOCKET: 'relative/sock' }, sender).ready()).toBe(false);
    expect(sender.sent).toEqual([]);
  });

  it('reports a failed send and does not throw', () => {
    const errors: string[] = [];
    const failing: DatagramSender = {
      sendUnixDatagram: () => {
        throw Object.assign(new Error('sendto failed: Connection refused'), { code: 'ECONNREFUSED' });
      },
    };
    const n = new SystemdNotifier({ NOTIFY_SOCKET: '/run/systemd/notify' }, failing, (_err, message) => errors.push(message));
    expect(n.ready()).toBe(false);
    expect(errors).toEqual(['READY=1']);
  });

  it('watchdog interval: half of WATCHDOG_USEC, only for our pid', () => {
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC: '20000000' }, 42)).toBe(10_000);
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '42' }, 42)).toBe(10_000);
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC: 'junk' }, 42)).toBeUndefined();
    expect(watchdogPingIntervalMs({}, 42)).toBeUndefined();
  });

  it('watchdog pings at once and then every half period until stopped', () => {
    const sender = recordingSender();
    const clock = new FakeClock();
    const env = { NOTIFY_SOCKET: '@wd', WATCHDOG_USEC: '4000000' };
    const wd = new SystemdWatchdog(new SystemdNotifier(env, sender), clock, env);
    wd.start();
    clock.advance(2000 * 3 + 1);
    expect(sender.sent.map(([, m]) => m)).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
    wd.stop();
    clock.advance(10_000);
    expect(sender.sent).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });
});

describe('sd_notify over a real AF_UNIX datagram socket (python3 listener, native addon sender)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'td-notify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const socketPath of [join(dir, 'notify.sock'), `@td-notify-${process.pid}`]) {
    it(`delivers READY/RELOADING/STOPPING/WATCHDOG to ${socketPath.startsWith('@') ? 'an abstract name' : 'a path'}`, async () => {
      const listener = await startNotifyListener(socketPath);
      try {
        const env = { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' };
        const notifier = new SystemdNotifier(env, nativeDatagramSender, (err) => {
          throw err;
        });
        const watchdog = new SystemdWatchdog(notifier, new SystemClock(), env);
        expect(notifier.ready()).toBe(true);
        expect(notifier.reloading()).toBe(true);
        expect(notifier.ready('reloaded')).toBe(true);
        watchdog.start();
        await listener.waitFor((m) => m === 'WATCHDOG=1');
        // 100 ms period: at least three pings within a generous 3 s.
        await listener.waitFor(() => listener.messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 3000);
        watchdog.stop();
        expect(notifier.stopping()).toBe(true);
        await listener.waitFor((m) => m === 'STOPPING=1');
        const reloading = listener.messages.find((m) => m.startsWith('RELOADING=1'))!;
        const usec = BigInt(/MONOTONIC_USEC=(\d+)/.exec(reloading)![1]!);
        // CLOCK_MONOTONIC: what python's time.monotonic() reads too — must be close to now.
        expect(Number(process.hrtime.bigint() / 1000n - usec)).toBeLessThan(10_000_000);
        expect(listener.messages.filter((m) => !m.startsWith('WATCHDOG'))).toEqual(['READY=1', reloading, 'READY=1\nSTATUS=reloaded', 'STOPPING=1']);
      } finally {
        listener.close();
      }
    });
  }

  it('a socket nobody listens on: the send fails, reported, not thrown', () => {
    const errors: unknown[] = [];
    const n = new SystemdNotifier({ NOTIFY_SOCKET: join(dir, 'nobody.sock') }, nativeDatagramSender, (err) => errors.push(err));
    expect(n.ready()).toBe(false);
    expect((errors[0] as { code?: string }).code).toBe('ENOENT');
  });
});
