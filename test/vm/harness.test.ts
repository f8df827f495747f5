/**
 * The VM the kernel suites run in (scripts/vm/run.sh): what the suites and the later labs rely on. Also
 * ipvsadm against the kernel on its own, so a broken VM is told apart from a broken client.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasIpvs, ipvsadm, kernelSchedulers, savedRules, sh } from './helpers/kernel.js';

/** What run-tests.mjs puts in TSLVSD_VM_ENV_PROBE: quotes, spaces, `$`, backslash and a newline. */
const ENV_PROBE = `it's "quoted" $HOME \\ \n end`;

describe.skipIf(!hasIpvs)('the VM', () => {
  const netns = 'tv-harness';
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    } catch {
      // never created: the test that makes it failed earlier
    }
  });

  it('has IPVS and ipvsadm reads an empty table', async () => {
    expect(await ipvsadm('-Ln')).toMatch(/^IP Virtual Server version 1\.2\.1 \(size=4096\)/);
    await ipvsadm('-C');
    expect(await savedRules()).toEqual([]);
  });

  it('loaded every scheduler Debian builds', () => {
    expect(kernelSchedulers()).toEqual(
      expect.arrayContaining(['dh', 'fo', 'lblc', 'lblcr', 'lc', 'mh', 'nq', 'ovf', 'rr', 'sed', 'sh', 'wlc', 'wrr']),
    );
  });

  it('loaded the modules the labs need', () => {
    const loaded = new Set(readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]));
    for (const m of ['veth', 'bridge', 'dummy', 'macvlan', 'ipip', 'ip6_tunnel', 'nf_conntrack', 'nf_tables']) {
      expect(loaded, m).toContain(m);
    }
  });

  it('shares the host root read-only and the checkout read-write, with tmpfs where programs write', () => {
    expect(() => writeFileSync('/etc/tslvsd-vm-probe', 'x')).toThrow(/EROFS/);
    for (const dir of ['/tmp', '/run', '/var/tmp']) {
      const d = mkdtempSync(join(dir, 'tv-'));
      writeFileSync(join(d, 'f'), 'ok');
      expect(readFileSync(join(d, 'f'), 'utf8')).toBe('ok');
      rmSync(d, { recursive: true });
    }
    const probe = join(process.cwd(), `.tv-probe-${process.pid}`);
    writeFileSync(probe, 'ok');
    expect(readFileSync(probe, 'utf8')).toBe('ok');
    rmSync(probe);
    expect(existsSync(probe)).toBe(false);
  });

  it('passes TSLVSD_* variables through exactly', () => {
    expect(process.env.TSLVSD_VM).toBe('1');
    // Set by scripts/run-tests.mjs for the vm tier; absent when the suites are started by hand.
    if (process.env.TSLVSD_VM_ENV_PROBE !== undefined) expect(process.env.TSLVSD_VM_ENV_PROBE).toBe(ENV_PROBE);
  });

  it('runs network namespaces joined by veth', () => {
    sh('ip', 'netns', 'add', netns);
    sh('ip', 'link', 'add', 'tv-h0', 'type', 'veth', 'peer', 'name', 'tv-h1', 'netns', netns);
    sh('ip', 'addr', 'add', '10.98.0.1/24', 'dev', 'tv-h0');
    sh('ip', 'link', 'set', 'tv-h0', 'up');
    sh('ip', '-n', netns, 'addr', 'add', '10.98.0.2/24', 'dev', 'tv-h1');
    sh('ip', '-n', netns, 'link', 'set', 'tv-h1', 'up');
    expect(sh('ping', '-c', '1', '-W', '5', '10.98.0.2')).toMatch(/1 received/);
  });

  it('can unload and reload IPVS modules (for the no-IPVS test)', () => {
    sh('rmmod', 'ip_vs_pe_sip');
    expect(readFileSync('/proc/modules', 'utf8')).not.toMatch(/^ip_vs_pe_sip /m);
    sh('modprobe', '-d', process.env.TSLVSD_VM_MODULES_ROOT ?? '', 'ip_vs_pe_sip');
    expect(readFileSync('/proc/modules', 'utf8')).toMatch(/^ip_vs_pe_sip /m);
  });
});

describe.skipIf(!hasIpvs)('ipvsadm alone (the judge works)', () => {
  it('adds, lists, saves and clears a table', async () => {
    await ipvsadm('-C');
    await ipvsadm('-A', '-t', '10.97.0.1:80', '-s', 'wrr', '-p', '60');
    await ipvsadm('-a', '-t', '10.97.0.1:80', '-r', '10.97.1.1:8080', '-m', '-w', '3');
    await ipvsadm('-A', '-u', '[2001:db8::1]:53', '-s', 'rr');
    expect(await savedRules()).toEqual([
      '-A -t 10.97.0.1:80 -s wrr -p 60',
      '-A -u [2001:db8::1]:53 -s rr',
      '-a -t 10.97.0.1:80 -r 10.97.1.1:8080 -m -w 3',
    ]);
    await ipvsadm('-C');
    expect(await savedRules()).toEqual([]);
  });
});
