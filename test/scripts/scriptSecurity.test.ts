import { describe, expect, it } from 'vitest';
import { isExecutable, needsProtection, pathProblem, type InodeStat, type PathStep } from '../../src/scripts/scriptSecurity.js';

const dir = (mode: number, uid = 0, gid = 0): InodeStat => ({ kind: 'dir', uid, gid, mode });
const file = (mode: number, uid = 0, gid = 0): InodeStat => ({ kind: 'file', uid, gid, mode });
const link = (uid = 0): InodeStat => ({ kind: 'symlink', uid, gid: 0, mode: 0o777 });
const root = { uid: 0, gid: 0 };
const nobody = { uid: 65534, gid: 65534 };

/** /, /etc, /etc/keepalived, then the script. */
function chain(scriptDir: InodeStat, script: InodeStat): PathStep[] {
  return [
    { path: '/', stat: dir(0o755) },
    { path: '/etc', stat: dir(0o755) },
    { path: '/etc/keepalived', stat: scriptDir },
    { path: '/etc/keepalived/check.sh', stat: script },
  ];
}

describe('script security (keepalived check_security over stat results)', () => {
  it('a root-owned 0755 script in root-owned 0755 directories is safe', () => {
    expect(pathProblem(chain(dir(0o755), file(0o755)))).toBeUndefined();
  });

  it('a world-writable script or directory is unsafe', () => {
    expect(pathProblem(chain(dir(0o755), file(0o777)))).toBe('/etc/keepalived/check.sh is writable by everyone (mode 0777)');
    expect(pathProblem(chain(dir(0o777), file(0o755)))).toBe('/etc/keepalived is writable by everyone (mode 0777)');
  });

  it('group write is unsafe unless the group is root', () => {
    expect(pathProblem(chain(dir(0o775, 0, 50), file(0o755)))).toBe('/etc/keepalived is writable by group 50 (mode 0775)');
    expect(pathProblem(chain(dir(0o775, 0, 0), file(0o775, 0, 0)))).toBeUndefined();
    expect(pathProblem(chain(dir(0o755), file(0o775, 0, 50)))).toBe('/etc/keepalived/check.sh is writable by group 50 (mode 0775)');
  });

  it('a sticky world-writable directory (/tmp) is safe; its files are judged on their own', () => {
    expect(pathProblem(chain(dir(0o1777), file(0o755)))).toBeUndefined();
    expect(pathProblem(chain(dir(0o1777), file(0o757)))).toMatch(/writable by everyone/);
  });

  it('anything not owned by root is unsafe, whatever its mode', () => {
    expect(pathProblem(chain(dir(0o755, 1000), file(0o755)))).toBe('/etc/keepalived is owned by uid 1000, not root');
    expect(pathProblem(chain(dir(0o755), file(0o500, 1000)))).toBe('/etc/keepalived/check.sh is owned by uid 1000, not root');
  });

  it('symlinks are judged by their owner; a non-directory inside the path or a non-file at its end is refused', () => {
    expect(pathProblem(chain(link(0), file(0o755)))).toBeUndefined();
    expect(pathProblem(chain(link(1000), file(0o755)))).toBe('/etc/keepalived is owned by uid 1000, not root');
    expect(pathProblem(chain(file(0o755), file(0o755)))).toBe('/etc/keepalived is not a directory');
    expect(pathProblem(chain(dir(0o755), dir(0o755)))).toBe('/etc/keepalived/check.sh is not a regular file');
  });

  it('protection is needed for uid 0 or gid 0, or a setuid/setgid-root executable', () => {
    expect(needsProtection(file(0o755), root)).toBe(true);
    expect(needsProtection(file(0o755), { uid: 65534, gid: 0 })).toBe(true);
    expect(needsProtection(file(0o777), nobody)).toBe(false);
    expect(needsProtection(file(0o4755), nobody)).toBe(true);
    expect(needsProtection(file(0o2755), nobody)).toBe(true);
    expect(needsProtection(file(0o4755, 1000), nobody)).toBe(false);
  });

  it('executable as keepalived decides it (root: any x bit; owner, group, other)', () => {
    expect(isExecutable(file(0o001), root)).toBe(true);
    expect(isExecutable(file(0o644), root)).toBe(false);
    expect(isExecutable(file(0o700, 65534), nobody)).toBe(true);
    expect(isExecutable(file(0o070, 65534), nobody)).toBe(false); // the owner's bits decide for the owner
    expect(isExecutable(file(0o010, 0, 65534), nobody)).toBe(true);
    expect(isExecutable(file(0o001, 0, 0), nobody)).toBe(true);
    expect(isExecutable(file(0o750, 0, 0), nobody)).toBe(false);
  });
});
