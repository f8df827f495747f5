import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nativeAddon, type NativeError } from '../../src/net/nativeAddon.js';

// A real AF_UNIX datagram receiver (python3 from Debian's base system); prints what it got, as hex.
const RECEIVER = `
import socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(("\\0" + path[1:]) if path.startswith("@") else path)
print("ready", flush=True)
s.settimeout(10)
data = s.recv(4096)
print(data.hex(), flush=True)
`;

async function receiveOneDatagram(socketPath: string, send: () => void): Promise<string> {
  const child = spawn('/usr/bin/python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  return await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.startsWith('ready\n') && out.indexOf('\n') === out.length - 1) send();
    });
    child.on('error', reject);
    child.on('exit', () => {
      const lines = out.trim().split('\n');
      resolve(lines[1] ?? '');
    });
  });
}

describe.skipIf(!existsSync('/usr/bin/python3'))('native addon: sendUnixDatagram', () => {
  it('delivers a datagram to a path socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tv-notify-'));
    try {
      const socketPath = path.join(dir, 'notify.sock');
      const message = Buffer.from('READY=1\nSTATUS=vrrp up');
      const hex = await receiveOneDatagram(socketPath, () => {
        expect(nativeAddon().sendUnixDatagram(socketPath, message)).toBe(message.length);
      });
      expect(Buffer.from(hex, 'hex').toString()).toBe('READY=1\nSTATUS=vrrp up');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delivers a datagram to an abstract socket named with a leading @', async () => {
    const name = `@tv-notify-${process.pid}-${Date.now()}`;
    const hex = await receiveOneDatagram(name, () => {
      nativeAddon().sendUnixDatagram(name, Buffer.from('WATCHDOG=1'));
    });
    expect(Buffer.from(hex, 'hex').toString()).toBe('WATCHDOG=1');
  });
});

describe('native addon: errors are JS errors with errno, never a crash', () => {
  it('sendUnixDatagram to a missing path throws ENOENT', () => {
    let caught: NativeError | undefined;
    try {
      nativeAddon().sendUnixDatagram('/nonexistent/tv-notify.sock', Buffer.from('x'));
    } catch (error) {
      caught = error as NativeError;
    }
    expect(caught?.code).toBe('ENOENT');
    expect(caught?.errno).toBe(2);
    expect(caught?.syscall).toBe('sendto');
  });

  it('sendFrame rejects bad arguments with a TypeError', () => {
    const addon = nativeAddon();
    expect(() => addon.sendFrame(1, Buffer.alloc(4))).toThrow(TypeError);
    expect(() => addon.sendFrame(0, Buffer.alloc(60))).toThrow(TypeError);
    expect(() => (addon.sendFrame as unknown as (a: string) => number)('eth0')).toThrow(TypeError);
  });

  it('sendFrame to an interface that does not exist throws with errno', () => {
    let caught: NativeError | undefined;
    try {
      nativeAddon().sendFrame(0x7ffffff0, Buffer.alloc(60, 0xff));
    } catch (error) {
      caught = error as NativeError;
    }
    expect(caught).toBeInstanceOf(Error);
    // Root gets ENXIO/ENODEV from the missing interface; an unprivileged user gets EPERM at socket().
    expect(['ENXIO', 'ENODEV', 'EPERM']).toContain(caught?.code);
    expect(typeof caught?.errno).toBe('number');
  });
});
