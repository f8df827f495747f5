/**
 * `npm run package:deb`'s output, read without installing it: the file list is what the package promises
 * (scripts/package-deb.sh's header), the control fields and conffiles are as specified, the unit starts the
 * installed /usr/bin/tslvsd, the man pages render without a groff warning, and lintian finds no error.
 * Installing, running and purging it is test/vm/package-deb.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

function run(file: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the .deb built by scripts/package-deb.sh', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tslvsd-deb-test-'));
  let deb = '';

  beforeAll(() => {
    const built = run('bash', ['scripts/package-deb.sh', '--outdir', out]);
    expect(built.status, built.stderr).toBe(0);
    deb = built.stdout.trim().split('\n').pop() ?? '';
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('holds exactly the promised files, with their modes', () => {
    expect(path.basename(deb)).toMatch(/^tslvsd_\d+\.\d+\.\d+-1_amd64\.deb$/);
    const entries = run('dpkg-deb', ['-c', deb])
      .stdout.trim()
      .split('\n')
      .map((line) => {
        const f = line.split(/\s+/);
        return `${f[0]} ${f[1]} ${(f.slice(5).join(' ')).replace(/^\.\//, '/')}`;
      })
      .filter((e) => !e.startsWith('d'))
      .map((e) => e.replace(/chunk-[A-Z0-9]+\.mjs/, 'chunk-HASH.mjs'));
    expect([...new Set(entries)].sort()).toEqual(
      [
        '-rw-r--r-- root/root /etc/default/tslvsd',
        '-rw-r--r-- root/root /etc/tslvsd.conf',
        '-rw-r--r-- root/root /lib/systemd/system/tslvsd.service',
        '-rw-r--r-- root/root /lib/systemd/system/tslvsd-withdraw-routes.service',
        'lrwxrwxrwx root/root /usr/bin/tslvsd -> ../lib/tslvsd/tslvsd.mjs',
        '-rwxr-xr-x root/root /usr/lib/tslvsd/tslvsd.mjs',
        '-rw-r--r-- root/root /usr/lib/tslvsd/checkerWorker.mjs',
        '-rw-r--r-- root/root /usr/lib/tslvsd/compileChild.mjs',
        '-rw-r--r-- root/root /usr/lib/tslvsd/icmpHelper.mjs',
        '-rw-r--r-- root/root /usr/lib/tslvsd/chunk-HASH.mjs',
        '-rw-r--r-- root/root /usr/lib/tslvsd/package.json',
        '-rw-r--r-- root/root /usr/lib/tslvsd/tslvsd_native.node',
        '-rw-r--r-- root/root /usr/lib/tslvsd/tslvsd_tcp_prober.node',
        '-rw-r--r-- root/root /usr/lib/tslvsd/netlink.node',
        '-rw-r--r-- root/root /usr/lib/tslvsd/raw-socket.abi115.node',
        '-rw-r--r-- root/root /usr/lib/tslvsd/raw-socket.abi120.node',
        '-rw-r--r-- root/root /usr/lib/tslvsd/raw-socket.abi127.node',
        ...(Number(process.versions.modules) > 127 ? [`-rw-r--r-- root/root /usr/lib/tslvsd/raw-socket.abi${process.versions.modules}.node`] : []),
        '-rw-r--r-- root/root /usr/share/bash-completion/completions/tslvsd',
        '-rw-r--r-- root/root /usr/share/doc/tslvsd/changelog.Debian.gz',
        '-rw-r--r-- root/root /usr/share/doc/tslvsd/copyright',
        '-rw-r--r-- root/root /usr/share/lintian/overrides/tslvsd',
        '-rw-r--r-- root/root /usr/share/man/man5/tslvsd.conf.5.gz',
        '-rw-r--r-- root/root /usr/share/man/man8/tslvsd.8.gz',
      ].sort(),
    );
  });

  it('declares the control fields, conffiles and maintainer scripts as specified', () => {
    const field = (name: string): string => run('dpkg-deb', ['-f', deb, name]).stdout.trim();
    expect(field('Package')).toBe('tslvsd');
    expect(field('Architecture')).toBe('amd64');
    // iproute2: tslvsd-withdraw-routes.service runs /sbin/ip.
    expect(field('Depends')).toBe('nodejs (>= 20), iproute2');
    expect(field('Version')).toMatch(/^\d+\.\d+\.\d+-1$/);
    expect(field('Maintainer')).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/);
    expect(Number(field('Installed-Size'))).toBeGreaterThan(500);
    const conffiles = run('bash', ['-c', 'dpkg-deb --info "$1" conffiles', '-', deb]).stdout;
    expect(conffiles.trim().split('\n').sort()).toEqual(['/etc/default/tslvsd', '/etc/tslvsd.conf']);
    const info = run('dpkg-deb', ['--info', deb]).stdout;
    for (const script of ['postinst', 'prerm', 'postrm', 'md5sums']) expect(info).toContain(` ${script} `);
  });

  it("ships a unit whose ExecStart is the installed /usr/bin/tslvsd, the man pages render cleanly", () => {
    const text = run('bash', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO ./lib/systemd/system/tslvsd.service', '-', deb]).stdout;
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/tslvsd /m);
    for (const page of ['./usr/share/man/man8/tslvsd.8.gz', './usr/share/man/man5/tslvsd.conf.5.gz']) {
      const rendered = run('bash', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | zcat | LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l - 2>&1 >/dev/null', '-', deb, page]);
      expect(rendered.stdout, page).toBe('');
    }
  });

  it('is clean of lintian errors', () => {
    const lint = run('lintian', ['--no-tag-display-limit', deb]);
    const errors = lint.stdout.split('\n').filter((l) => l.startsWith('E: '));
    expect(errors, lint.stdout).toEqual([]);
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  }, 180_000);
});
