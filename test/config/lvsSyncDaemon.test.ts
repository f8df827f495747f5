/**
 * `lvs_sync_daemon` (global_defs) and the legacy `lvs_sync_daemon_interface` (vrrp_instance), as keepalived's
 * lvs_syncd_handler / vrrp_lvs_syncd_handler read them: defaults, the sync id rule (id, else the instance's
 * VRID, else 0), and every refusal located at FILE:LINE:COL.
 */
import { describe, expect, it } from 'vitest';
import { compile, instance, messages, model } from './helpers.js';

const G = (line: string) => `global_defs {\n  ${line}\n}\n`; // the statement is on line 2, its arguments from column 3

describe('lvs_sync_daemon', () => {
  it('absent by default', () => {
    expect(model('').global.lvsSyncDaemon).toBeUndefined();
  });

  it('interface alone: both daemons, sync id 0, every option left to the kernel', () => {
    expect(model(G('lvs_sync_daemon eth1')).global.lvsSyncDaemon).toEqual({ loc: { file: '/etc/ka.conf', line: 2 }, interface: 'eth1', syncId: 0 });
  });

  it('named instance: the sync id defaults to its virtual_router_id', () => {
    const m = model(G('lvs_sync_daemon eth0 VI_1') + instance(''));
    expect(m.global.lvsSyncDaemon).toMatchObject({ interface: 'eth0', vrrpInstance: 'VI_1', syncId: 51 });
    expect(messages(compile(G('lvs_sync_daemon eth0 VI_1') + instance('')))).toEqual([]);
  });

  it('every option: inst, id, maxlen, port, ttl, group (IPv4 and IPv6, canonical)', () => {
    const m = model(G('lvs_sync_daemon eth0 inst VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 239.1.2.3') + instance(''));
    expect(m.global.lvsSyncDaemon).toEqual({
      loc: { file: '/etc/ka.conf', line: 2 }, interface: 'eth0', vrrpInstance: 'VI_1', syncId: 7, maxLen: 1400, port: 8849, ttl: 2, group: '239.1.2.3',
    });
    expect(model(G('lvs_sync_daemon eth0 group FF05:0:0::81')).global.lvsSyncDaemon?.group).toBe('ff05::81');
    // id 0 given explicitly is kept (not replaced by the VRID)
    expect(model(G('lvs_sync_daemon eth0 VI_1 id 0') + instance('')).global.lvsSyncDaemon?.syncId).toBe(0);
  });

  it('the 1.x positional sync id is taken, with keepalived\'s advice', () => {
    const r = compile(G('lvs_sync_daemon eth0 VI_1 9') + instance(''));
    expect(r.model?.global.lvsSyncDaemon).toMatchObject({ vrrpInstance: 'VI_1', syncId: 9 });
    expect(messages(r)).toEqual(['/etc/ka.conf:2:29: warning: lvs_sync_daemon: write "id" before the sync id (keepalived asks the same)']);
  });

  it.each([
    ['no interface', 'lvs_sync_daemon', "2:3: error: lvs_sync_daemon requires an interface"],
    ['interface too long', 'lvs_sync_daemon abcdefghijklmnop', "2:19: error: lvs_sync_daemon: interface name 'abcdefghijklmnop' is longer than 15 characters"],
    ['id out of range', 'lvs_sync_daemon eth0 id 256', '2:27: error: lvs_sync_daemon id: 256 is out of range 0..255'],
    ['id missing', 'lvs_sync_daemon eth0 id', "2:24: error: lvs_sync_daemon: 'id' needs a value"],
    ['maxlen 0', 'lvs_sync_daemon eth0 maxlen 0', '2:31: error: lvs_sync_daemon maxlen: 0 is out of range 1..65507'],
    ['port 0', 'lvs_sync_daemon eth0 port 0', '2:29: error: lvs_sync_daemon port: 0 is out of range 1..65535'],
    ['ttl 256', 'lvs_sync_daemon eth0 ttl 256', '2:28: error: lvs_sync_daemon ttl: 256 is out of range 1..255'],
    ['group unicast', 'lvs_sync_daemon eth0 group 10.0.0.1', '2:30: error: lvs_sync_daemon: group address 10.0.0.1 is not multicast'],
    ['group v6 unicast', 'lvs_sync_daemon eth0 group fe80::1', '2:30: error: lvs_sync_daemon: group address fe80::1 is not multicast'],
    ['group not an address', 'lvs_sync_daemon eth0 group nowhere', "2:30: error: lvs_sync_daemon group: 'nowhere' is not an IPv4 or IPv6 address"],
    ['unknown option', 'lvs_sync_daemon eth0 inst VI_1 speed 9', "2:34: error: lvs_sync_daemon: unknown option 'speed' (inst, id, maxlen, port, ttl, group)"],
    ['unknown instance', 'lvs_sync_daemon eth0 VI_9', "2: error: lvs_sync_daemon: no vrrp_instance 'VI_9'"],
  ])('%s is refused at its token', (_name, line, expected) => {
    const r = compile(G(line) + instance(''));
    expect(messages(r)).toContain(`/etc/ka.conf:${expected}`);
    expect(r.model).toBeUndefined();
  });

  it('a second lvs_sync_daemon is refused, pointing at the first', () => {
    const r = compile('global_defs {\n  lvs_sync_daemon eth0\n  lvs_sync_daemon eth1\n}\n');
    expect(messages(r)).toEqual(['/etc/ka.conf:3:3: error: lvs_sync_daemon has already been specified as eth0 at /etc/ka.conf:2']);
  });

  it('is no longer reported as "parsed but not acted on"', () => {
    expect(messages(compile(G('lvs_sync_daemon eth0')))).toEqual([]);
  });
});

describe('lvs_sync_daemon_interface (vrrp_instance, deprecated)', () => {
  it('becomes the global sync daemon driven by that instance, sync id = its VRID, with a warning', () => {
    const r = compile(instance('  lvs_sync_daemon_interface eth2'));
    expect(r.model?.global.lvsSyncDaemon).toEqual({ loc: { file: '/etc/ka.conf', line: 4 }, interface: 'eth2', vrrpInstance: 'VI_1', syncId: 51 });
    expect(messages(r)).toEqual([
      "/etc/ka.conf:4:29: warning: vrrp_instance VI_1: lvs_sync_daemon_interface is deprecated; use global_defs' lvs_sync_daemon eth2 VI_1",
    ]);
  });

  it('refused when global_defs already has lvs_sync_daemon', () => {
    const r = compile(G('lvs_sync_daemon eth0') + instance('  lvs_sync_daemon_interface eth2'));
    expect(messages(r)).toContain('/etc/ka.conf:7:29: error: vrrp_instance VI_1: lvs_sync_daemon_interface: the sync daemon is already given as eth0 at /etc/ka.conf:2');
    expect(r.model).toBeUndefined();
  });
});
