import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { checkScripts, type ScriptHost } from '../../src/scripts/hostChecks.js';
import type { InodeStat } from '../../src/scripts/scriptSecurity.js';
import { parseUserDatabase } from '../../src/scripts/userDatabase.js';
import { model } from '../config/helpers.js';

const users = parseUserDatabase('root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', 'root:x:0:\nnogroup:x:65534:\n');

/** A fake filesystem: path → inode; symlinks in `links` (path → target). */
function host(inodes: Record<string, InodeStat>, links: Record<string, string> = {}, extra: Partial<ScriptHost> = {}): ScriptHost {
  const d = (mode: number, uid = 0): InodeStat => ({ kind: 'dir', uid, gid: 0, mode });
  const all: Record<string, InodeStat> = { '/': d(0o755), '/etc': d(0o755), '/usr': d(0o755), '/usr/bin': d(0o755), ...inodes };
  const resolve = (p: string): string => {
    for (const [from, to] of Object.entries(links)) if (p === from || p.startsWith(`${from}/`)) return to + p.slice(from.length);
    return p;
  };
  return {
    users,
    daemon: { uid: 0, gid: 0 },
    cwd: '/',
    searchPath: ['/usr/bin'],
    lstat: (p) => (links[p] ? { kind: 'symlink', uid: 0, gid: 0, mode: 0o777 } : all[resolve(p)] ?? 'no such file or directory'),
    stat: (p) => all[resolve(p)] ?? 'no such file or directory',
    realpath: (p) => (all[resolve(p)] ? resolve(p) : { error: 'no such file or directory' }),
    ...extra,
  };
}
const dir = (mode: number, uid = 0): InodeStat => ({ kind: 'dir', uid, gid: 0, mode });
const file = (mode: number, uid = 0): InodeStat => ({ kind: 'file', uid, gid: 0, mode });

const conf = (globals: string, scriptLines: string): string => `
global_defs {
${globals}
}
vrrp_script chk {
${scriptLines}
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 5
  virtual_ipaddress {
    10.1.1.1
  }
  track_script {
    chk
  }
}
`;

function run(text: string, h: ScriptHost): string[] {
  return checkScripts(model(text), h).map(formatDiagnostic);
}

describe('host checks of scripts (users, permissions) over a fake host', () => {
  const fs = { '/etc/ka': dir(0o755), '/etc/ka/ok.sh': file(0o755), '/etc/ka/w777.sh': file(0o777), '/etc/open': dir(0o777), '/etc/open/in.sh': file(0o755) };

  it('enable_script_security refuses a 0777 script and a script in a 0777 directory that run as root', () => {
    const secure = '  enable_script_security\n  script_user root';
    expect(run(conf(secure, '  script "/etc/ka/ok.sh"'), host(fs))).toEqual([]);
    expect(run(conf(secure, '  script "/etc/ka/w777.sh"'), host(fs))).toEqual([
      '/etc/ka.conf:7: error: vrrp_script chk: unsafe to run as uid 0 gid 0: /etc/ka/w777.sh is writable by everyone (mode 0777) (enable_script_security refuses it, as keepalived)',
    ]);
    expect(run(conf(secure, '  script "/etc/open/in.sh"'), host(fs))[0]).toMatch(/error: .*\/etc\/open is writable by everyone/);
  });

  it('the same script run as a non-root user needs no protection (keepalived)', () => {
    expect(run(conf('  enable_script_security\n  script_user nobody', '  script "/etc/ka/w777.sh"'), host(fs))).toEqual([]);
  });

  it('without enable_script_security: a warning per unsafe script and keepalived\'s SECURITY VIOLATION summary', () => {
    const out = run(conf('  script_user root', '  script "/etc/ka/w777.sh"'), host(fs));
    expect(out).toEqual([
      '/etc/ka.conf:6: warning: vrrp_script chk: unsafe permissions: /etc/ka/w777.sh is writable by everyone (mode 0777) (enable_script_security would refuse it)',
      '/etc/ka.conf:6: warning: 1 script(s) run as root but enable_script_security is not set, 1 of them unsafe (keepalived: SECURITY VIOLATION - scripts are being executed but script_security not enabled)',
    ]);
  });

  it('enable_script_security without any script user (no keepalived_script) is refused, as keepalived', () => {
    expect(run(conf('  enable_script_security', '  script "/etc/ka/ok.sh"'), host(fs))[0]).toMatch(/error: vrrp_script chk: enable_script_security is set but neither script_user nor the user 'keepalived_script' exists/);
  });

  it('unknown users and groups are errors at the script\'s line; a numeric user warns', () => {
    expect(run(conf('', '  script "/etc/ka/ok.sh"\n  user nosuchuser'), host(fs))).toEqual([
      "/etc/ka.conf:6: error: vrrp_script chk: user 'nosuchuser' does not exist (the script would not run; keepalived drops it)",
    ]);
    expect(run(conf('  script_user nobody nosuchgroup', '  script "/etc/ka/ok.sh"'), host(fs))[0]).toMatch(/error: vrrp_script chk: group 'nosuchgroup' does not exist/);
    expect(run(conf('', '  script "/etc/ka/ok.sh"\n  user 65534'), host(fs))).toEqual([
      "/etc/ka.conf:6: warning: vrrp_script chk: numeric user '65534' runs as uid 65534 gid 65534 (keepalived 2.2.7 refuses a user that is not a name)",
    ]);
  });

  it('an unknown global script_user refuses a vrrp_script and a MISC_CHECK alike (neither runs as root instead)', () => {
    const text = `
global_defs {
  script_user nosuchuser
}
vrrp_script chk {
  script "/etc/ka/ok.sh"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 5
  virtual_ipaddress {
    10.1.1.1
  }
  track_script {
    chk
  }
}
virtual_server 10.1.1.1 80 {
  protocol TCP
  real_server 10.2.2.2 80 {
    MISC_CHECK {
      misc_path "/etc/ka/ok.sh"
    }
  }
}
`;
    const out = run(text, host(fs));
    expect(out).toEqual([
      "/etc/ka.conf:6: error: vrrp_script chk: user 'nosuchuser' does not exist (the script would not run; keepalived drops it)",
      "/etc/ka.conf:22: error: MISC_CHECK misc_path: user 'nosuchuser' does not exist (the script would not run; keepalived drops it)",
    ]);
  });

  it('MISC_CHECK, notify and quorum scripts are checked by the same rules', () => {
    const text = `
global_defs {
  enable_script_security
  script_user root
}
virtual_server 10.1.1.1 80 {
  protocol TCP
  quorum_up "/etc/open/in.sh"
  real_server 10.2.2.2 80 {
    notify_down "/etc/ka/ok.sh" nosuchuser
    MISC_CHECK {
      misc_path "/etc/ka/w777.sh"
    }
  }
}
`;
    const out = run(text, host(fs));
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\/etc\/ka.conf:8: error: quorum_up: unsafe .*\/etc\/open is writable by everyone/);
    expect(out[1]).toMatch(/^\/etc\/ka.conf:10: error: notify_down: user 'nosuchuser' does not exist/);
    expect(out[2]).toMatch(/^\/etc\/ka.conf:12: error: MISC_CHECK misc_path: unsafe .*w777.sh is writable by everyone/);
  });

  it('symlinks: the real file is checked, and a symlink on the written path must be root\'s', () => {
    const secure = '  enable_script_security\n  script_user root';
    const links = { '/etc/ka/link.sh': '/etc/ka/ok.sh', '/etc/ka/badlink.sh': '/etc/ka/w777.sh' };
    expect(run(conf(secure, '  script "/etc/ka/link.sh"'), host(fs, links))).toEqual([]);
    expect(run(conf(secure, '  script "/etc/ka/badlink.sh"'), host(fs, links))[0]).toMatch(/w777.sh is writable by everyone/);
    const userLink = host(fs, links, { lstat: (p) => (p === '/etc/ka/link.sh' ? { kind: 'symlink', uid: 1000, gid: 0, mode: 0o777 } : host(fs, links).lstat(p)) });
    expect(run(conf(secure, '  script "/etc/ka/link.sh"'), userLink)[0]).toMatch(/link.sh is owned by uid 1000, not root/);
  });

  it('missing, non-executable and bare-name scripts warn', () => {
    const h = host({ ...fs, '/etc/ka/noexec.sh': file(0o644), '/usr/bin/true': file(0o755) });
    expect(run(conf('  script_user nobody', '  script "/etc/ka/missing.sh"'), h)[0]).toMatch(/warning: vrrp_script chk: \/etc\/ka\/missing.sh: no such file or directory/);
    expect(run(conf('  script_user nobody', '  script "/etc/ka/noexec.sh"'), h)[0]).toMatch(/warning: .*not executable for uid 65534 gid 65534/);
    expect(run(conf('  script_user nobody', '  script "true"'), h)[0]).toMatch(/warning: .*'true' resolved by PATH search to \/usr\/bin\/true; give the full path/);
  });
});
