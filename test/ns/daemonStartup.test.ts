import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('--vrrp-only runs the same config (no IPVS needed) and stops cleanly', async () => {
    const p = startDaemon(`${PREFIX}a`, ['--config', conf, '--vrrp-only', '--status-socket', path.join(dir, 's.sock')]);
    // The sync part stays with --vrrp-only (keepalived's VRRP process drives lvs_sync_daemon too); without an
    // lvs_sync_daemon it opens no IPVS, which is why this start succeeds on a kernel without it.
    expect(await p.waitForLine((l) => l.event === 'started', 20_000)).toMatchObject({ parts: ['sync', 'static-network', 'vrrp'] });
    expect(await p.stop()).toBe(0);
  });
});
