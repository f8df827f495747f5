import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeHttp } from '../../src/healthcheck/checkers/http.js';
import type { CheckTiming, HttpCheckSpec, UrlSpec } from '../../src/healthcheck/plan.js';
import type { ProbeResult } from '../../src/healthcheck/result.js';

/**
 * HTTP_GET against hostile real servers (a separate process on loopback, so the probe's CPU is measured
 * apart from the server's): 1-byte chunks forever, one-byte segments forever, a 10 GiB body, headers that
 * never end. Each probe must end well before its 8 s timeout, in bounded CPU and memory, with the verdict
 * the config asks for: up when only the status is checked, down when a digest cannot be checked.
 */

const SERVER = resolve('test/healthcheck/fixtures/hostileHttpServer.mjs');
const TIMEOUT_MS = 8_000;
const timing: CheckTiming = { delayLoopMs: 1000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1000, alpha: false };
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGKILL');
});

async function startServer(mode: string): Promise<number> {
  const child = spawn(process.execPath, [SERVER, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  return await new Promise<number>((resolvePort, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolvePort(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`server ${mode} exited ${code}`)));
  });
}

interface Measured {
  result: ProbeResult;
  wallMs: number;
  cpuMs: number;
  /** Peak growth of heap + external + array buffers during the probe, sampled every 5 ms. */
  memoryMiB: number;
}

async function measure(port: number, url: UrlSpec): Promise<Measured> {
  const spec: HttpCheckSpec = { type: 'HTTP_GET', timing, target: { host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS }, urls: [url], httpProtocol: '1.0' };
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  const base = used();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, used())), 5);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await probeHttp(spec);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, used());
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, memoryMiB: (peak - base) / 2 ** 20 };
}

const report: string[] = [];
afterAll(() => console.log(['HTTP_GET against hostile servers (wall / CPU / memory growth):', ...report].join('\n  ')));

describe('HTTP_GET body cap against hostile real servers', () => {
  const digest = createHash('md5').update('never matches').digest('hex');
  const cases: Array<[string, string, UrlSpec, boolean, RegExp]> = [
    ['1-byte chunks forever, status only', 'chunks', { path: '/', statusCodes: [] }, true, /url\(s\) ok/],
    ['1-byte chunks forever, with digest', 'chunks', { path: '/', statusCodes: [], digest }, false, /(body longer than 1048576 bytes|body not complete after 4096 reads), digest not checked/],
    ['one-byte segments forever, status only', 'bytes', { path: '/', statusCodes: [] }, true, /url\(s\) ok/],
    ['one-byte segments forever, with digest', 'bytes', { path: '/', statusCodes: [], digest }, false, /(body longer than|body not complete after) .*digest not checked/],
    ['10 GiB body, status only', 'huge', { path: '/', statusCodes: [] }, true, /url\(s\) ok/],
    ['10 GiB body, with digest', 'huge', { path: '/', statusCodes: [], digest }, false, /body longer than 1048576 bytes, digest not checked/],
    ['10 GiB body, status 300-399 wanted', 'huge', { path: '/', statusCodes: [[300, 399]] }, false, /status 200 not in 300-399/],
    ['headers that never end', 'headers', { path: '/', statusCodes: [] }, false, /no end of headers after 4096 reads|response headers larger than|timeout/],
  ];
  for (const [name, mode, url, up, reason] of cases) {
    it(name, async () => {
      const port = await startServer(mode);
      const m = await measure(port, url);
      report.push(`${name}: ${m.wallMs.toFixed(0)} ms / ${m.cpuMs.toFixed(0)} ms CPU / ${m.memoryMiB.toFixed(1)} MiB → ${m.result.up ? 'up' : 'down'} (${m.result.reason})`);
      expect(m.result.up).toBe(up);
      expect(m.result.reason).toMatch(reason);
      // Ended by the cap, not by the 8 s timeout (except headers, where either may end it).
      if (mode !== 'headers') expect(m.wallMs).toBeLessThan(TIMEOUT_MS / 2);
      // Generous bounds (a shared 2-core machine); before the cap: 1.2 s CPU and 250 MB per probe.
      expect(m.cpuMs).toBeLessThan(600);
      expect(m.memoryMiB).toBeLessThan(48);
    });
  }
});
