/** GET_INFO replies and the lvs_timeouts of GET_CONFIG / SET_CONFIG. */
import { type AttributeReader, NetlinkDecodeError, u32Attr } from './attributes.js';
import { CmdAttr, InfoAttr } from './constants.js';
import type { IpvsInfo, IpvsTimeouts } from '../types.js';

export function unpackInfo(r: AttributeReader): IpvsInfo {
  const versionCode = r.u32(InfoAttr.VERSION);
  const connectionTableSize = r.u32(InfoAttr.CONN_TAB_SIZE);
  if (versionCode === undefined || connectionTableSize === undefined) throw new NetlinkDecodeError('GET_INFO reply lacks version or table size');
  const version = `${(versionCode >> 16) & 0xff}.${(versionCode >> 8) & 0xff}.${versionCode & 0xff}`;
  return { version, versionCode, connectionTableSize };
}

export function unpackTimeouts(r: AttributeReader): IpvsTimeouts {
  return {
    tcp: r.u32(CmdAttr.TIMEOUT_TCP) ?? 0,
    tcpFin: r.u32(CmdAttr.TIMEOUT_TCP_FIN) ?? 0,
    udp: r.u32(CmdAttr.TIMEOUT_UDP) ?? 0,
  };
}

/** Zero values are sent too: the kernel treats 0 as "leave unchanged". */
export function packTimeouts(t: IpvsTimeouts): Buffer {
  return Buffer.concat([
    u32Attr(CmdAttr.TIMEOUT_TCP, t.tcp),
    u32Attr(CmdAttr.TIMEOUT_TCP_FIN, t.tcpFin),
    u32Attr(CmdAttr.TIMEOUT_UDP, t.udp),
  ]);
}
