/**
 * A kernel without IPVS, for real: the suite unloads every ip_vs module of the VM's kernel and disables the
 * kernel's module loader, checks that the client refuses to open with one clear sentence, and loads them all
 * back (afterAll) for the other suites.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { IpvsUnavailableError } from '../../src/ipvs/errors.js';
import { hasIpvs, ipvsadm } from './helpers/kernel.js';

const loadedIpvsModules = (): string[] =>
  readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((m) => m === 'ip_vs' || m.startsWith('ip_vs_'));

describe.skipIf(!hasIpvs)('a kernel without IPVS', () => {
  const before = hasIpvs ? loadedIpvsModules() : [];
  afterAll(() => {
    for (const m of before) if (!loadedIpvsModules().includes(m)) execFileSync('modprobe', ['-d', process.env.TSLVSD_VM_MODULES_ROOT ?? '', m]);
    expect(loadedIpvsModules().sort()).toEqual([...before].sort());
  });

  const unloadAll = (): void => {
    // Dependents first (schedulers, ftp, sip), then ip_vs itself.
    const loaded = loadedIpvsModules();
    const dependents = loaded.filter((m) => m !== 'ip_vs');
    if (dependents.length) execFileSync('rmmod', dependents);
    if (loaded.includes('ip_vs')) execFileSync('rmmod', ['ip_vs']);
    expect(existsSync('/proc/net/ip_vs')).toBe(false);
  };
  const openResult = (): Promise<unknown> =>
    IpvsClient.open().then(
      (c) => {
        c.close();
        return 'opened';
      },
      (e: unknown) => e,
    );

  it('where the module can be loaded, opening the client loads it (as the kernel does for ipvsadm)', async () => {
    await ipvsadm('-C');
    unloadAll();
    expect(await openResult()).toBe('opened');
    expect(existsSync('/proc/net/ip_vs')).toBe(true);
  });

  it('where it cannot, IpvsClient.open() fails with one sentence that says so and what to do', async () => {
    unloadAll();
    // The kernel's module loader is the program named here: point it nowhere, as on a kernel without IPVS.
    const loader = readFileSync('/proc/sys/kernel/modprobe', 'utf8').trim();
    writeFileSync('/proc/sys/kernel/modprobe', '/nonexistent/modprobe');
    try {
      const err = await openResult();
      expect(err).toBeInstanceOf(IpvsUnavailableError);
      const message = (err as Error).message;
      expect(message).toMatch(/no IPVS/);
      expect(message).toMatch(/ip_vs/);
      expect(message).not.toMatch(/\n/);
      expect(existsSync('/proc/net/ip_vs')).toBe(false);
    } finally {
      writeFileSync('/proc/sys/kernel/modprobe', loader);
    }
  });
});
