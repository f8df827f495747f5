import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigCompiler } from '../../src/config/compileFile.js';
import { diffConfigs } from '../../src/daemon/configDiff.js';
import { checkConfigOnHost } from '../../src/daemon/hostChecks.js';
import { checkScriptsOnHost } from '../../src/scripts/hostChecks.js';

const dir = mkdtempSync(join(tmpdir(), 'td-compile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (vips: string) => `vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
${vips}
    }
}
`;

describe('reload compiler (the real config compiler on real files)', () => {
  const file = join(dir, 'tslvsd.conf');
  const compile = makeConfigCompiler({ configId: 'lb1' });

  it('compiles a valid file, and a changed file diffs to exactly its change', async () => {
    writeFileSync(file, config('        10.0.0.100/24'));
    const first = await compile(file);
    expect(first.ok).toBe(true);
    writeFileSync(file, config('        10.0.0.100/24\n        10.0.0.101/24'));
    const second = await compile(file);
    if (!first.ok || !second.ok) throw new Error('expected both to compile');
    const diff = diffConfigs(first.model, second.model);
    expect(diff.vrrpInstances).toEqual({ added: [], removed: [], changed: ['eth0/vrid 51/inet'] });
    expect(diff.virtualServers).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.servicesChanged).toBe(false);
  });

  it('a broken file: errors located FILE:LINE, no model', async () => {
    writeFileSync(file, config('        10.0.0.100/24').replace('virtual_router_id 51', 'virtual_router_id 999'));
    const outcome = await compile(file);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.errors.length).toBeGreaterThan(0);
    expect(outcome.errors[0]).toMatch(new RegExp(`^${file}:4(:\\d+)?: error: `));
  });

  it('a reload whose script user does not exist is refused at the script\'s line (the host checks run on reload too)', async () => {
    const withChecks = makeConfigCompiler({ configId: 'lb1', hostChecks: checkScriptsOnHost });
    writeFileSync(file, config('        10.0.0.100/24').replace('advert_int 1', 'advert_int 1\n    notify_master "/bin/true" td-no-such-user'));
    const outcome = await withChecks(file);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.errors).toEqual([`${file}:7: error: vrrp_instance VI_1 notify_master: user 'td-no-such-user' does not exist (the script would not run; keepalived drops it)`]);
  });

  it('a reload whose SSL key cannot be read is refused at the key\'s line (the daemon\'s host checks)', async () => {
    const withChecks = makeConfigCompiler({ configId: 'lb1', hostChecks: checkConfigOnHost });
    const key = join(dir, 'absent-key.pem');
    writeFileSync(file, `SSL {\n  certificate ${join(dir, 'absent-cert.pem')}\n  key ${key}\n}\n${config('        10.0.0.100/24')}`);
    const outcome = await withChecks(file);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.errors).toContain(`${file}:3: error: SSL key '${key}' cannot be read (ENOENT)`);
    expect(outcome.errors.some((e) => e.startsWith(`${file}:2: error: SSL certificate `))).toBe(true);
  });

  it('a missing file is an error, not a throw', async () => {
    const outcome = await compile(join(dir, 'absent.conf'));
    expect(outcome.ok).toBe(false);
  });
});
