import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../daemon/nsDaemon.js';
import { isRoot, waitFor } from './helpers/exec.js';
import { createNetns, destroyLab } from './helpers/netns.js';

// Start-up on this host's kernel, which has no IPVS: one clear sentence and exit 1, unless --vrrp-only.
const PREFIX = 'td-su-';
const hostHasIpvs = existsSync('/proc/net/ip_vs');
const CONFIG = `virtual_server 10.0.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 192.168.1.10 80 {
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
`;

describe.skipIf(!isRoot || hostHasIpvs)('start-up on a kernel without IPVS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), PREFIX));
  const conf = path.join(dir, 'lvs.conf');
  writeFileSync(conf, CONFIG);
  afterAll(async () => {
    await destroyLab(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a config with virtual servers: exit 1 with one sentence on stderr, no stack trace, nothing left behind', async () => {
    await createNetns(`${PREFIX}a`);
    const p = startDaemon(`${PREFIX}a`, ['--config', conf, '--status-socket', path.join(dir, 's.sock'), '--pid-file', path.join(dir, 'p.pid')]);
    await waitFor(() => !p.running, { timeoutMs: 20_000 });
    expect(p.code).toBe(1);
    expect(p.stderr.trim()).toMatch(/^tslvsd: this kernel has no IPVS \(.+\): load ip_vs or run with --vrrp-only$/);
    expect(p.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, 's.sock'))).toBe(false);
    expect(existsSync(path.join(dir, 'p.pid'))).toBe(false);
  });

  it('vrrp_priority renices the VRRP (main) thread at start; it keeps the 100 µs slice it asks for', async () => {
    const niced = path.join(dir, 'niced.conf');
    writeFileSync(niced, `global_defs {\n  vrrp_priority -4\n}\n${CONFIG}`);
    const p = startDaemon(`${PREFIX}a`, ['--config', niced, '--vrrp-only', '--log-level', 'debug', '--status-socket', path.join(dir, 's.sock')]);
    try {
      await p.waitForLine((l) => l.event === 'started', 20_000);
      expect(p.lines.find((l) => l.event === 'vrrp_priority')).toMatchObject({ level: 'info', nice: -4 });
      // Field 19 of /proc/PID/stat is the nice of the main thread (the thread-group leader).
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(-4);
      // Where the kernel has custom slices (6.12+) the thread has the one it asked for, nice kept.
      const slice = p.lines.find((l) => l.event === 'vrrp_thread_slice');
      expect(slice).toBeDefined();
      if (slice?.sliceUs) expect(readFileSync(`/proc/${p.pid}/sched`, 'utf8')).toMatch(/se\.slice\s+:\s+100000\n/);
    } finally {
      // A failed look must not leave this daemon running into the next test.
      expect(await p.stop()).toBe(0);
    }
  });

  it('--vrrp-only runs the same config (no IPVS needed) and stops cleanly', async () => {
    const p = startDaemon(`${PREFIX}a`, ['--config', conf, '--vrrp-only', '--status-socket', path.join(dir, 's.sock')]);
    // The sync part stays with --vrrp-only (keepalived's VRRP process drives lvs_sync_daemon too); without an
    // lvs_sync_daemon it opens no IPVS, which is why this start succeeds on a kernel without it.
    expect(await p.waitForLine((l) => l.event === 'started', 20_000)).toMatchObject({ parts: ['sync', 'static-network', 'vrrp'] });
    expect(await p.stop()).toBe(0);
  });
});
