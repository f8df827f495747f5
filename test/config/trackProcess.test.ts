import { describe, expect, it } from 'vitest';
import { compile, instance, messages } from './helpers.js';

describe('vrrp_track_process / track_process', () => {
  it('the block with every keyword, defaults, and track_process lists in instances and sync groups', () => {
    const r = compile(`vrrp_track_process nginx {
  process /usr/sbin/nginx -g daemon
  param_match initial
  full_command
  quorum 2
  quorum_max 4
  delay 3
  terminate_delay 5
  weight -20 reverse
}
vrrp_track_process sshd {
  process sshd
}
${instance('  track_process {\n    nginx\n    sshd weight 10\n  }')}
vrrp_sync_group G { group { VI_1 } track_process { sshd weight 2 reverse } }
`);
    expect(messages(r)).toEqual([]);
    const m = r.model!;
    expect(m.trackProcesses).toEqual([
      {
        loc: { file: '/etc/ka.conf', line: 1 }, name: 'nginx', process: '/usr/sbin/nginx', params: ['-g', 'daemon'], paramMatch: 'initial',
        fullCommand: true, quorum: 2, quorumMax: 4, forkDelay: 3, terminateDelay: 5, weight: -20, weightReverse: true,
      },
      {
        loc: { file: '/etc/ka.conf', line: 11 }, name: 'sshd', process: 'sshd', params: [], paramMatch: 'any',
        fullCommand: false, quorum: 1, quorumMax: Number.MAX_SAFE_INTEGER, forkDelay: 0, terminateDelay: 0, weight: 0, weightReverse: false,
      },
    ]);
    expect(m.vrrpInstances[0]!.trackProcesses.map((t) => [t.name, t.weight, t.weightReverse])).toEqual([['nginx', undefined, false], ['sshd', 10, false]]);
    expect(m.vrrpSyncGroups[0]!.trackProcesses.map((t) => [t.name, t.weight, t.weightReverse])).toEqual([['sshd', 2, true]]);
  });

  it('parameters or param_match imply full_command; a bare param_match is exact (keepalived vrrp_parser.c)', () => {
    const r = compile(`vrrp_track_process a {\n  process sleep 1000\n}\nvrrp_track_process b {\n  process sleep\n  param_match\n}\n`);
    expect(messages(r)).toEqual([]);
    expect(r.model!.trackProcesses.map((t) => [t.name, t.params, t.paramMatch, t.fullCommand])).toEqual([
      ['a', ['1000'], 'exact', true],
      ['b', [], 'exact', true],
    ]);
  });

  it('bad input is answered at FILE:LINE: no process, bad param_match, quorum_max < quorum, weight range, unknown name', () => {
    const r = compile(`vrrp_track_process a {
  quorum 1
}
vrrp_track_process b {
  process b
  param_match fuzzy
}
vrrp_track_process c {
  process c
  quorum 3
  quorum_max 2
}
vrrp_track_process d {
  process d
  weight 300
}
${instance('  track_process {\n    nosuch\n  }')}
`);
    const text = messages(r).join('\n');
    expect(text).toContain("/etc/ka.conf:1:1: error: vrrp_track_process a: no 'process NAME'");
    expect(text).toMatch(/\/etc\/ka\.conf:6:\d+: error: param_match: expected exact, initial or partial, not 'fuzzy'/);
    expect(text).toContain('/etc/ka.conf:8:1: error: vrrp_track_process c: quorum_max 2 is below quorum 3');
    expect(text).toContain('/etc/ka.conf:15:10: error: weight: 300 is out of range -254..254');
    expect(text).toMatch(/\/etc\/ka\.conf:\d+: warning: track_process 'nosuch': no vrrp_track_process of that name; ignored/);
  });
});
