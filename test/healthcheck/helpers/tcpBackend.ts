import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP listener the checks connect to, stopped and restarted on the same port (an outage, a recovery).
 * It accepts and closes at once; on 0.0.0.0 every 127.x.y.z reaches it, so each real server can have its
 * own address.
 */
export class TcpBackend {
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  port = 0;

  constructor(private readonly host = '127.0.0.1') {}

  async up(): Promise<void> {
    const s = createServer((c) => {
      this.conns.add(c);
      c.on('close', () => this.conns.delete(c));
      c.on('error', () => {});
      c.destroy();
    });
    await new Promise<void>((r) => s.listen({ port: this.port, host: this.host, backlog: 4096 }, () => r()));
    this.port = (s.address() as AddressInfo).port;
    this.server = s;
  }

  async down(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
    this.server = undefined;
  }
}

/** Polls fn every 20 ms until it returns a value; throws after ms. */
export async function waitFor<T>(fn: () => T | undefined, ms: number): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
