/**
 * The sync daemon object (IPVS_CMD_ATTR_DAEMON): NEW_DAEMON carries what keepalived's libipvs
 * ipvs_start_daemon sends, in its order (state, interface, sync id, then the 4.3+ options only when set);
 * DEL_DAEMON carries state and sync id, as ipvs_stop_daemon; GET_DAEMON dump parts are decoded back.
 */
import { type AttributeReader, NetlinkDecodeError, attr, nestedAttr, stringAttr, u16Attr, u32Attr, u8Attr } from './attributes.js';
import { addressToBytes, bytesToAddress, familyOfAddress } from './address.js';
import { CmdAttr, DaemonAttr, SyncState } from './constants.js';
import type { SyncDaemonEntry, SyncDaemonSpec, SyncDaemonState } from '../types.js';

const stateCode = (state: SyncDaemonState): number => (state === 'master' ? SyncState.MASTER : SyncState.BACKUP);

export function packDaemon(d: SyncDaemonSpec): Buffer {
  const parts = [u32Attr(DaemonAttr.STATE, stateCode(d.state)), stringAttr(DaemonAttr.MCAST_IFN, d.interface), u32Attr(DaemonAttr.SYNC_ID, d.syncId)];
  if (d.maxLen !== undefined) parts.push(u16Attr(DaemonAttr.SYNC_MAXLEN, d.maxLen));
  if (d.port !== undefined) parts.push(u16Attr(DaemonAttr.MCAST_PORT, d.port));
  if (d.ttl !== undefined) parts.push(u8Attr(DaemonAttr.MCAST_TTL, d.ttl));
  if (d.group !== undefined) {
    // IPv4 as the 4 bytes of s_addr (network order), IPv6 as the 16 of in6_addr.
    parts.push(attr(familyOfAddress(d.group) === 'ipv6' ? DaemonAttr.MCAST_GROUP6 : DaemonAttr.MCAST_GROUP, addressToBytes(d.group)));
  }
  return nestedAttr(CmdAttr.DAEMON, parts);
}

export function packDaemonStop(state: SyncDaemonState, syncId: number): Buffer {
  return nestedAttr(CmdAttr.DAEMON, [u32Attr(DaemonAttr.STATE, stateCode(state)), u32Attr(DaemonAttr.SYNC_ID, syncId)]);
}

export function unpackDaemon(r: AttributeReader): SyncDaemonEntry {
  const code = r.u32(DaemonAttr.STATE);
  const ifname = r.string(DaemonAttr.MCAST_IFN);
  const syncId = r.u32(DaemonAttr.SYNC_ID);
  if (code === undefined || ifname === undefined || syncId === undefined) throw new NetlinkDecodeError('daemon without state, interface or sync id');
  if (code !== SyncState.MASTER && code !== SyncState.BACKUP) throw new NetlinkDecodeError(`daemon state ${code} is neither master nor backup`);
  const entry: SyncDaemonEntry = { state: code === SyncState.MASTER ? 'master' : 'backup', interface: ifname, syncId };
  const maxLen = r.u16(DaemonAttr.SYNC_MAXLEN);
  const port = r.u16(DaemonAttr.MCAST_PORT);
  const ttl = r.u8(DaemonAttr.MCAST_TTL);
  if (maxLen !== undefined) entry.maxLen = maxLen;
  if (port !== undefined) entry.port = port;
  if (ttl !== undefined) entry.ttl = ttl;
  const g4 = r.raw(DaemonAttr.MCAST_GROUP);
  const g6 = r.raw(DaemonAttr.MCAST_GROUP6);
  if (g6 !== undefined) {
    if (g6.length < 16) throw new NetlinkDecodeError(`daemon MCAST_GROUP6: ${g6.length} bytes, expected 16`);
    entry.group = bytesToAddress(g6.subarray(0, 16), 'ipv6');
  } else if (g4 !== undefined) {
    if (g4.length < 4) throw new NetlinkDecodeError(`daemon MCAST_GROUP: ${g4.length} bytes, expected 4`);
    entry.group = bytesToAddress(g4.subarray(0, 4), 'ipv4');
  }
  return entry;
}
