/**
 * Sync daemon commands, byte for byte: NEW_DAEMON as keepalived's libipvs ipvs_start_daemon builds it
 * (state, interface with its NUL, sync id, then maxlen / port / ttl / group only when set), DEL_DAEMON with
 * state and sync id (ipvs_stop_daemon), GET_DAEMON as a bare dump; and the kernel's GET_DAEMON parts
 * (ip_vs_genl_fill_daemon: state, ifname, syncid, maxlen, port, ttl, group) decoded back.
 */
import { describe, expect, it } from 'vitest';
import { attr, nestedAttr, stringAttr, u16Attr, u32Attr, u8Attr, NetlinkDecodeError } from '../../src/ipvs/codec/attributes.js';
import { CmdAttr, DaemonAttr, IpvsCmd } from '../../src/ipvs/codec/constants.js';
import { IpvsRequest, decodeDaemonReply } from '../../src/ipvs/codec/requests.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const FAMILY = 0x2a;

function reply(cmd: number, attrs: Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const out = Buffer.alloc(20 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(FAMILY, 4);
  out.writeUInt16LE(0x2, 6);
  out.writeUInt8(cmd, 16);
  out.writeUInt8(1, 17);
  body.copy(out, 20);
  return out;
}

describe('sync daemon requests (byte-exact)', () => {
  it('NEW_DAEMON backup on eth0, sync id 51, no options: state 2, "eth0\\0", id', () => {
    const msg = IpvsRequest.newDaemon(FAMILY, { state: 'backup', interface: 'eth0', syncId: 51 });
    expect(msg.toString('hex')).toBe(hex(`
      34000000 2a00 0500 00000000 00000000   09 01 0000
      2000 0380
        0800 0100 02000000
        0900 0200 65746830 00 000000
        0800 0300 33000000
    `).toString('hex'));
  });

  it('NEW_DAEMON master with every option: maxlen and port host-order u16, ttl u8, IPv4 group in network order', () => {
    const msg = IpvsRequest.newDaemon(FAMILY, { state: 'master', interface: 'eth1', syncId: 7, maxLen: 1400, port: 8849, ttl: 2, group: '239.1.2.3' });
    expect(msg.toString('hex')).toBe(hex(`
      54000000 2a00 0500 00000000 00000000   09 01 0000
      4000 0380
        0800 0100 01000000
        0900 0200 65746831 00 000000
        0800 0300 07000000
        0600 0400 7805 0000
        0600 0700 9122 0000
        0500 0800 02 000000
        0800 0500 ef010203
    `).toString('hex'));
  });

  it('an IPv6 group goes in MCAST_GROUP6 (16 bytes)', () => {
    const msg = IpvsRequest.newDaemon(FAMILY, { state: 'backup', interface: 'eth0', syncId: 0, group: 'ff05::81' });
    expect(msg.subarray(msg.length - 20).toString('hex')).toBe(hex('1400 0600 ff050000 00000000 00000000 00000081').toString('hex'));
  });

  it('DEL_DAEMON carries state and sync id only; GET_DAEMON is a dump without attributes', () => {
    expect(IpvsRequest.delDaemon(FAMILY, 'master', 51).toString('hex')).toBe(hex(`
      28000000 2a00 0500 00000000 00000000   0a 01 0000
      1400 0380
        0800 0100 01000000
        0800 0300 33000000
    `).toString('hex'));
    const dump = IpvsRequest.getDaemons(FAMILY);
    expect(dump.toString('hex')).toBe(hex('14000000 2a00 0503 00000000 00000000 0b 01 0000').toString('hex'));
  });
});

describe('GET_DAEMON replies', () => {
  const kernelPart = (extra: Buffer[]) => reply(IpvsCmd.NEW_DAEMON, [nestedAttr(CmdAttr.DAEMON, [
    u32Attr(DaemonAttr.STATE, 2), stringAttr(DaemonAttr.MCAST_IFN, 'eth0'), u32Attr(DaemonAttr.SYNC_ID, 51),
    u16Attr(DaemonAttr.SYNC_MAXLEN, 1472), u16Attr(DaemonAttr.MCAST_PORT, 8848), u8Attr(DaemonAttr.MCAST_TTL, 1), ...extra,
  ])]);

  it('decodes what ip_vs_genl_fill_daemon puts, with the IPv4 group', () => {
    expect(decodeDaemonReply(kernelPart([attr(DaemonAttr.MCAST_GROUP, hex('e0000051'))]))).toEqual({
      state: 'backup', interface: 'eth0', syncId: 51, maxLen: 1472, port: 8848, ttl: 1, group: '224.0.0.81',
    });
  });

  it('an IPv6 group, and an old kernel without the options', () => {
    expect(decodeDaemonReply(kernelPart([attr(DaemonAttr.MCAST_GROUP6, hex('ff050000000000000000000000000081'))])).group).toBe('ff05::81');
    const old = reply(IpvsCmd.NEW_DAEMON, [nestedAttr(CmdAttr.DAEMON, [u32Attr(1, 1), stringAttr(2, 'bond0'), u32Attr(3, 0)])]);
    expect(decodeDaemonReply(old)).toEqual({ state: 'master', interface: 'bond0', syncId: 0 });
  });

  it('refuses what is not a daemon: another command, no nest, a missing field, an unknown state, a short group', () => {
    const bad = [
      reply(IpvsCmd.NEW_SERVICE, []),
      reply(IpvsCmd.NEW_DAEMON, []),
      reply(IpvsCmd.NEW_DAEMON, [nestedAttr(CmdAttr.DAEMON, [u32Attr(1, 1), u32Attr(3, 0)])]),
      reply(IpvsCmd.NEW_DAEMON, [nestedAttr(CmdAttr.DAEMON, [u32Attr(1, 0), stringAttr(2, 'eth0'), u32Attr(3, 0)])]),
      kernelPart([attr(DaemonAttr.MCAST_GROUP, hex('e000'))]),
    ];
    for (const raw of bad) expect(() => decodeDaemonReply(raw)).toThrow(NetlinkDecodeError);
  });

  it('fuzz: random corruption of a daemon part only ever throws NetlinkDecodeError', () => {
    const good = kernelPart([attr(DaemonAttr.MCAST_GROUP, hex('e0000051'))]);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let n = 0; n < 2000; n++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 3; k++) b[20 + Math.floor(rnd() * (b.length - 20))] = Math.floor(rnd() * 256);
      try {
        decodeDaemonReply(b);
      } catch (e) {
        expect(e).toBeInstanceOf(NetlinkDecodeError);
      }
    }
  });
});
