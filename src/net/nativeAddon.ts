import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * Typed loader for the project's own N-API addon (native/tslvsd_native.cc, built by node-gyp at install).
 * Both functions throw an Error carrying `errno`/`code`/`syscall` on failure; they never abort the process.
 */
export interface NativeAddon {
  /** Sends one complete Ethernet frame (header included) out of interface `ifindex`; returns bytes sent. */
  sendFrame(ifindex: number, frame: Buffer): number;
  /** Sends one AF_UNIX datagram to `socketPath` ("@name" = abstract namespace); returns bytes sent. */
  sendUnixDatagram(socketPath: string, message: Buffer): number;
}

export interface NativeError extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}

let loaded: NativeAddon | undefined;

/** The addon, loaded once. Both src/net (tsx, vitest) and dist/net (built) sit two levels below the root. */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = path.resolve(here, '..', '..', 'build', 'Release', 'tslvsd_native.node');
  const require = createRequire(import.meta.url);
  const raw: unknown = require(file);
  if (!isNativeAddon(raw)) throw new Error(`${file} does not export sendFrame/sendUnixDatagram`);
  loaded = raw;
  return loaded;
}

function isNativeAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.sendFrame === 'function' && typeof candidate.sendUnixDatagram === 'function';
}
