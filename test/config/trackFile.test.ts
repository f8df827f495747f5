import { describe, expect, it } from 'vitest';
import { compile, instance, messages, model } from './helpers.js';

describe('track_file / vrrp_track_file', () => {
  it('the block, and track_file lists in instances and sync groups; no warnings', () => {
    const r = compile(`track_file prio {
  file /run/prio
  weight -10 reverse
  init_file 5 overwrite
}
track_file stop {
  file /run/stop
}
${instance('  track_file {\n    prio\n    stop weight 0\n  }')}
vrrp_sync_group G { group { VI_1 } track_file { stop weight 2 reverse } }
`);
    expect(messages(r)).toEqual([]);
    const m = r.model!;
    expect(m.trackFiles).toEqual([
      { loc: { file: '/etc/ka.conf', line: 1 }, name: 'prio', path: '/run/prio', weight: -10, weightReverse: true, init: { value: 5, overwrite: true } },
      { loc: { file: '/etc/ka.conf', line: 6 }, name: 'stop', path: '/run/stop', weight: 1, weightReverse: false },
    ]);
    expect(m.vrrpInstances[0]!.trackFiles.map((t) => [t.name, t.weight, t.weightReverse])).toEqual([['prio', undefined, false], ['stop', 0, false]]);
    expect(m.vrrpSyncGroups[0]!.trackFiles.map((t) => [t.name, t.weight, t.weightReverse])).toEqual([['stop', 2, true]]);
  });

  it('vrrp_track_file is the deprecated synonym (warned, as keepalived logs it)', () => {
    const r = compile('vrrp_track_file f {\n  file /run/f\n  init_file\n}\n');
    expect(messages(r)).toEqual(["/etc/ka.conf:1:1: warning: 'vrrp_track_file' is deprecated (keepalived 2.x): use 'track_file'"]);
    expect(r.model!.trackFiles[0]).toMatchObject({ name: 'f', path: '/run/f', weight: 1, init: { value: 0, overwrite: false } });
  });

  it('bad input: no file, weight out of range, unknown tracked name, a duplicate name — all at FILE:LINE', () => {
    const r = compile(`track_file a {
  weight 1
}
track_file b {
  file /run/b
  weight 300
}
track_file b {
  file /run/b2
}
${instance('  track_file {\n    nosuch\n  }')}`);
    const text = messages(r).join('\n');
    expect(text).toContain("/etc/ka.conf:1:1: error: track_file a: no 'file PATH'");
    expect(text).toMatch(/\/etc\/ka\.conf:6:\d+: error: .*weight/);
    expect(text).toContain("/etc/ka.conf:8: error: track_file 'b' is already defined at /etc/ka.conf:4");
    expect(text).toContain("track_file 'nosuch': no track_file block of that name; ignored");
  });

  it('model() helper sanity: a track file the instance tracks survives', () => {
    const m = model(`track_file t {\n  file /run/t\n}\n${instance('  track_file {\n    t weight 5\n  }')}`);
    expect(m.vrrpInstances[0]!.trackFiles[0]).toMatchObject({ name: 't', weight: 5 });
  });

  it('FILE_CHECK in a real_server: track_file NAME, its weight unless given; no warning; unknown name dropped', () => {
    const vs = (check: string) => `track_file t {\n  file /run/t\n  weight 4 reverse\n}\nvirtual_server 10.0.0.1 80 {\n  lb_algo rr\n  protocol TCP\n  real_server 10.0.0.2 80 {\n    FILE_CHECK {\n${check}\n    }\n  }\n}\n`;
    const own = compile(vs('      track_file t'));
    expect(messages(own)).toEqual([]);
    expect(own.model!.virtualServers[0]!.realServers[0]!.checkers[0]).toMatchObject({ type: 'FILE_CHECK', trackFile: 't', path: '/run/t', weight: 4, weightReverse: true });
    const given = compile(vs('      track_file t\n      weight 0'));
    expect(given.model!.virtualServers[0]!.realServers[0]!.checkers[0]).toMatchObject({ weight: 0, weightReverse: false });
    const unknown = compile(vs('      track_file nosuch'));
    expect(messages(unknown).join('\n')).toContain("/etc/ka.conf:9: warning: FILE_CHECK: no track_file 'nosuch'; ignored");
    expect(unknown.model!.virtualServers[0]!.realServers[0]!.checkers).toEqual([]);
    const none = compile(vs('      weight 1'));
    expect(messages(none).join('\n')).toContain("/etc/ka.conf:9:5: error: FILE_CHECK: no 'track_file NAME' given");
  });
});

