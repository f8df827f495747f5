/**
 * The lines keepalived 2.2.7 writes to its notify FIFOs, byte for byte (vrrp/vrrp_notify.c notify_fifo,
 * check/ipwrapper.c notify_fifo_vs / notify_fifo_rs, check/check_data.c format_vs / format_rs). Pure: no
 * I/O. Each line ends in "\n"; a reader splits on it.
 *
 *   INSTANCE "VI_1" MASTER 150           GROUP "G1" BACKUP 0   (a group's priority is always 0)
 *   VS [10.0.0.1]:tcp:80 UP              VS FWM 7 DOWN         VS [GROUP_NAME]:0 UP
 *   RS [192.168.1.2]:tcp:8080 [10.0.0.1]:tcp:80 DOWN
 */
import type { L4Protocol, RealServer, VirtualServer } from '../config/model.js';

/** What a VRRP FIFO line can say: the states, and keepalived's three events. */
export type VrrpFifoState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED' | 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

export interface VrrpFifoEvent {
  readonly type: 'INSTANCE' | 'GROUP';
  readonly name: string;
  readonly state: VrrpFifoState;
  /** The instance's effective priority (0 for a group, as keepalived). */
  readonly priority: number;
}

export function vrrpFifoLine(event: VrrpFifoEvent): string {
  return `${event.type} "${event.name}" ${event.state} ${event.type === 'GROUP' ? 0 : event.priority}\n`;
}

type ServiceAddress = Pick<VirtualServer, 'address' | 'port' | 'fwmark' | 'group' | 'protocol'>;

function trio(address: string, protocol: L4Protocol, port: number): string {
  return `[${address}]:${protocol.toLowerCase()}:${port}`;
}

/**
 * keepalived's format_vs: `[GROUP]:PORT` for a virtual_server_group (keepalived prints the port of the
 * service's own address, 0 for a group), `FWM N`, else `[ADDR]:proto:PORT`.
 */
export function keepalivedVirtualServerName(vs: ServiceAddress): string {
  if (vs.group !== undefined) return `[${vs.group}]:0`;
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}`;
  return trio(vs.address ?? '', vs.protocol, vs.port ?? 0);
}

/** keepalived's format_rs: the real server's address and port with the virtual server's protocol. */
export function keepalivedRealServerName(rs: Pick<RealServer, 'address' | 'port'>, vs: Pick<VirtualServer, 'protocol'>): string {
  return trio(rs.address, vs.protocol, rs.port);
}

/** A virtual server's quorum went up or down. */
export function virtualServerFifoLine(vs: ServiceAddress, up: boolean): string {
  return `VS ${keepalivedVirtualServerName(vs)} ${up ? 'UP' : 'DOWN'}\n`;
}

/** A real server became alive (all its checkers up) or dead. */
export function realServerFifoLine(rs: Pick<RealServer, 'address' | 'port'>, vs: ServiceAddress, alive: boolean): string {
  return `RS ${keepalivedRealServerName(rs, vs)} ${keepalivedVirtualServerName(vs)} ${alive ? 'UP' : 'DOWN'}\n`;
}
