import { describe, expect, it } from 'vitest';
import { compile, messages, model } from './helpers.js';

describe('global_defs notify FIFOs', () => {
  it('notify_fifo / vrrp_notify_fifo / lvs_notify_fifo with owners and scripts (script before or after its FIFO)', () => {
    const m = model(`global_defs {
  vrrp_notify_fifo_script "/usr/local/bin/reader --vrrp" nobody
  notify_fifo /run/ka.fifo root root
  notify_fifo_script /usr/local/bin/reader
  vrrp_notify_fifo /run/ka-vrrp.fifo
  lvs_notify_fifo /run/ka-lvs.fifo
}`);
    expect(m.global.notifyFifo).toEqual({ loc: { file: '/etc/ka.conf', line: 3 }, path: '/run/ka.fifo', user: 'root', group: 'root', script: { loc: { file: '/etc/ka.conf', line: 4 }, argv: ['/usr/local/bin/reader'] } });
    expect(m.global.vrrpNotifyFifo?.script).toEqual({ loc: { file: '/etc/ka.conf', line: 2 }, argv: ['/usr/local/bin/reader', '--vrrp'], user: 'nobody' });
    expect(m.global.lvsNotifyFifo).toEqual({ loc: { file: '/etc/ka.conf', line: 6 }, path: '/run/ka-lvs.fifo' });
  });

  it('no warning for the FIFO keywords any more', () => {
    const r = compile('global_defs {\n  notify_fifo /run/a\n  notify_fifo_script /bin/cat\n  vrrp_notify_fifo /run/b\n  lvs_notify_fifo /run/c\n  lvs_notify_fifo_script /bin/cat\n}\n');
    expect(messages(r)).toEqual([]);
  });

  it('bad input: FILE:LINE for a missing or relative path, a repeat, a script without FIFO, one FIFO twice', () => {
    const r = compile(`global_defs {
  notify_fifo
  vrrp_notify_fifo relative/path
  lvs_notify_fifo /run/x
  lvs_notify_fifo /run/y
  vrrp_notify_fifo_script /bin/cat
}`);
    const text = messages(r).join('\n');
    expect(text).toContain("/etc/ka.conf:2:3: error: 'notify_fifo' needs a FIFO path");
    expect(text).toContain("/etc/ka.conf:3:20: error: 'vrrp_notify_fifo': 'relative/path' is not an absolute path");
    expect(text).toContain("/etc/ka.conf:5:3: warning: 'lvs_notify_fifo' is already given; this one is ignored");
    expect(text).toContain("/etc/ka.conf:6:3: warning: 'vrrp_notify_fifo_script' without 'vrrp_notify_fifo': ignored");
    const same = compile('global_defs {\n  notify_fifo /run/same\n  lvs_notify_fifo /run/same\n}\n');
    expect(messages(same).join('\n')).toContain("/etc/ka.conf:3: error: 'lvs_notify_fifo /run/same': the same FIFO as 'notify_fifo'");
  });
});
