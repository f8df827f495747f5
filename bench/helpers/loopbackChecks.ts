import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HealthCheckPlan, RealServerPlan } from '../../src/healthcheck/plan.js';

/**
 * The loopback listener the health-check benches check: a separate Node process that accepts on 0.0.0.0 (so
 * every 127.x.y.z reaches it) and closes at once, so it does not load the measured process. A second
 * listener serves the victims' port and is stopped / restarted on command (`stop`, `start`); `cpu` answers
 * with its own CPU time in µs.
 */
function listenerSource(port: number, victimPort: number): string {
  return `
const net = require('node:net');
const mk = (port) => { const conns = new Set(); const s = net.createServer({ noDelay: true }, (c) => { c.on('error', () => {}); c.destroy(); });
  s.on('connection', (c) => { conns.add(c); c.on('close', () => conns.delete(c)); });
  s.listen({ port, host: '0.0.0.0', backlog: 4096 }); return { s, conns }; };
mk(${port});
let victim = mk(${victimPort});
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'stop') { victim.s.close(); for (const c of victim.conns) c.destroy(); process.stdout.write('stopped\\n'); }
  if (l === 'start') { victim = mk(${victimPort}); victim.s.on('listening', () => process.stdout.write('started\\n')); }
  if (l === 'cpu') { const u = process.cpuUsage(); process.stdout.write('cpu ' + (u.user + u.system) + '\\n'); }
});
setTimeout(() => process.stdout.write('ready\\n'), 200);
`;
}

export class LoopbackListener {
  private readonly lines: string[] = [];
  private waiters: Array<(l: string) => void> = [];
  readonly child: ChildProcess;

  constructor(port: number, victimPort: number) {
    this.child = spawn(process.execPath, ['-e', listenerSource(port, victimPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }

  async ask(cmd: string): Promise<string> {
    this.child.stdin!.write(`${cmd}\n`);
    return this.next();
  }

  kill(): void {
    this.child.kill();
  }
}

/** Real server i's address: 127.1.0.1, 127.1.0.2, … (250 per /24, 62,500 per /16). */
export function loopbackAddress(i: number): string {
  return `127.${1 + Math.floor(i / 62500)}.${Math.floor((i % 62500) / 250)}.${1 + (i % 250)}`;
}

export interface LoopbackPlanOptions {
  servers: number;
  virtualServers: number;
  /** The first `victims` real servers are checked on victimPort, the rest on port. */
  victims: number;
  port: number;
  victimPort: number;
}

/** `servers` TCP_CHECKs at delay_loop 1 s (retry 1, 1 s apart, 3 s timeout) spread over `virtualServers`. */
export function loopbackPlan(o: LoopbackPlanOptions): HealthCheckPlan {
  const realServers: RealServerPlan[] = [];
  for (let i = 0; i < o.servers; i++) {
    const victim = i < o.victims;
    realServers.push({
      key: `rs${i}`,
      weight: 1,
      inhibitOnFailure: false,
      checkers: [{
        type: 'TCP_CHECK',
        timing: { delayLoopMs: 1_000, warmupMs: 1_000, retry: 1, delayBeforeRetryMs: 1_000, alpha: false },
        target: { host: loopbackAddress(i), port: victim ? o.victimPort : o.port, timeoutMs: 3_000 },
      }],
    });
  }
  const per = Math.ceil(o.servers / Math.max(1, o.virtualServers));
  const virtualServers = [];
  for (let v = 0; v * per < o.servers; v++) {
    virtualServers.push({ key: `vs${v}`, quorum: 1, hysteresis: 0, omega: false, realServers: realServers.slice(v * per, (v + 1) * per) });
  }
  return { virtualServers };
}
