import type { LinkInfo } from '../../net/rtnetlink.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { VrrpFamily } from '../codec/advertCodec.js';
import type { ReceiveFilterSpec } from '../codec/receiveFilter.js';
import type { VrrpInstancePlan } from '../core/fromConfig.js';
import { ReceiveDispatcher, type ReceiveValidator, type ReceiveVerdict, type SocketReceiveCounters } from '../core/receiveValidator.js';
import type { TransportCounters, TransportOptions, VrrpTransport } from '../edge/rawSocketTransport.js';

/**
 * The VRRP sockets, one set per interface, family and multicast groups, shared by every instance on it
 * whichever unit (instance or sync group, src/vrrp/units.ts) it runs in. Each set is one VrrpTransport
 * (native/tslvsd_native.cc: a priority-lane and a general receive socket, protocol 112, plus an
 * IPPROTO_RAW send socket for IPv4) with the core's ReceiveDispatcher routing its packets by VRID. The
 * set opens with its first instance and closes with its last.
 */

/** One instance on a socket, as the socket sees it. */
export interface SocketMember {
  readonly vrid: number;
  readonly validator: ReceiveValidator;
  /** What the socket's kernel filter must let through for this instance (read at every refresh). */
  filter(): FilterMember;
  /** A packet for this instance's VRID, judged by its validator. Never called after leave(). */
  receive(verdict: ReceiveVerdict): void;
}

/** An instance's part of a socket's filter. */
export interface FilterMember {
  vrid: number;
  plan: VrrpInstancePlan;
  sourceIp: string;
  /** The master this BACKUP follows (its adverts get the priority lane). */
  followedMaster: string | undefined;
}

export interface VrrpInterfaceStatus {
  interface: string;
  /** The sockets' family ('inet6': VRRPv3 over IPv6). */
  family: VrrpFamily;
  transport: TransportCounters;
  /** Packets on this interface's socket that reached no instance. */
  dispatcher: SocketReceiveCounters;
}

/** One shared socket set. */
export interface InterfaceRuntime {
  readonly key: string;
  readonly link: LinkInfo;
  readonly family: VrrpFamily;
  readonly transport: VrrpTransport;
  readonly dispatcher: ReceiveDispatcher<SocketMember>;
  readonly members: Set<SocketMember>;
}

export class VrrpVridInUseError extends Error {}

export class VrrpInterfaces {
  private readonly interfaces = new Map<string, InterfaceRuntime>();

  constructor(
    private readonly openTransport: (options: TransportOptions) => VrrpTransport,
    private readonly logger: Logger,
    /** Bounds the flush of a closing socket set. */
    private readonly clock: Clock,
  ) {}

  /**
   * Puts an instance on the socket set of its interface, family and groups (opening it if it is the first).
   * Throws VrrpVridInUseError when another instance on that socket has the VRID.
   */
  join(link: LinkInfo, family: VrrpFamily, groups: string[], member: SocketMember): InterfaceRuntime {
    const key = socketKey(link, family, groups);
    let iface = this.interfaces.get(key);
    if (iface && [...iface.members].some((m) => m.vrid === member.vrid)) {
      throw new VrrpVridInUseError(`VRID ${member.vrid} already used on ${link.name}`);
    }
    if (!iface) {
      const transport = this.openTransport({ ifname: link.name, ifindex: link.index, family, multicastGroups: groups, accept: receiveFilterSpec([member.filter()]) });
      const dispatcher = new ReceiveDispatcher<SocketMember>();
      const opened: InterfaceRuntime = { key, link, family, transport, dispatcher, members: new Set() };
      transport.onPacket((packet) => this.receive(opened, packet));
      transport.onError((error) => this.logger.warn({ event: 'vrrp_socket_error', interface: link.name, err: error.message }, 'VRRP socket error'));
      this.interfaces.set(key, opened);
      iface = opened;
    }
    iface.members.add(member);
    iface.dispatcher.set(member.vrid, member);
    return iface;
  }

  /**
   * Takes instances off their sockets; a socket left without instances closes once what was sent on it has
   * gone out (at most 1 s: a stopping master's priority-0 advert leaves before its socket closes).
   */
  async leave(members: Iterable<SocketMember>): Promise<void> {
    const gone = new Set(members);
    const emptied: InterfaceRuntime[] = [];
    for (const iface of this.interfaces.values()) {
      let changed = false;
      for (const m of iface.members) {
        if (!gone.has(m)) continue;
        iface.members.delete(m);
        iface.dispatcher.delete(m.vrid);
        changed = true;
      }
      if (changed && iface.members.size === 0) emptied.push(iface);
    }
    for (const iface of emptied) this.interfaces.delete(iface.key);
    await Promise.all(emptied.map((i) => withTimeout(this.clock, i.transport.flush(), 1000)));
    for (const iface of emptied) iface.transport.close();
    this.refreshFilters();
  }

  /** Each socket's kernel filter: the destinations, VRIDs and preferred sources of the instances on it. */
  refreshFilters(): void {
    for (const iface of this.interfaces.values()) {
      if (iface.members.size === 0) continue;
      try {
        iface.transport.acceptOnly(receiveFilterSpec([...iface.members].map((m) => m.filter())));
      } catch (error) {
        // The filter in place stays (it may let through a little more than needed; user space still checks).
        this.logger.error({ event: 'vrrp_filter_error', interface: iface.link.name, err: (error as Error).message }, 'cannot update the VRRP receive filter');
      }
    }
  }

  /** The sockets the given instances are on (all sockets without an argument). */
  status(of?: Iterable<SocketMember>): VrrpInterfaceStatus[] {
    const wanted = of ? new Set(of) : undefined;
    return [...this.interfaces.values()]
      .filter((i) => !wanted || [...i.members].some((m) => wanted.has(m)))
      .map((i) => ({ interface: i.link.name, family: i.family, transport: { ...i.transport.counters }, dispatcher: { ...i.dispatcher.counters } }));
  }

  private receive(iface: InterfaceRuntime, packet: Buffer): void {
    // Never throws: a packet that breaks something is logged and dropped, the daemon goes on.
    try {
      const result = iface.dispatcher.dispatch(packet);
      if (result.delivered) result.instance.receive(result.verdict);
    } catch (error) {
      this.logger.error({ event: 'vrrp_receive_error', err: (error as Error).message }, 'VRRP receive failed');
    }
  }
}

/**
 * Which instances share a socket set: the same interface and family, and the same multicast groups (a
 * socket joins its groups when it opens; an instance with other groups, or a unicast one, gets its own).
 */
function socketKey(link: LinkInfo, family: VrrpFamily, groups: string[]): string {
  return JSON.stringify([link.index, link.name, family, [...groups].sort()]);
}

/**
 * What a socket must let through: adverts to the multicast groups of its multicast instances and to the
 * source addresses of its unicast ones (keepalived binds its unicast socket to that address, and its
 * multicast socket to the group), for the VRIDs it runs. Preferred (the priority lane): the unicast peers,
 * and the master each BACKUP follows.
 */
export function receiveFilterSpec(members: FilterMember[]): ReceiveFilterSpec {
  const destinations = new Set<string>();
  const preferred = new Set<string>();
  for (const m of members) {
    if (m.plan.receive.unicastPeers.length === 0) for (const group of m.plan.destinations) destinations.add(group);
    else destinations.add(m.sourceIp);
    for (const peer of m.plan.receive.unicastPeers) preferred.add(peer);
    if (m.followedMaster !== undefined) preferred.add(m.followedMaster);
  }
  return { destinations: [...destinations], vrids: [...new Set(members.map((m) => m.vrid))], preferredSources: [...preferred] };
}

/** Waits for work, but at most ms on the clock; the timer never keeps a stopping process alive. */
async function withTimeout(clock: Clock, work: Promise<unknown>, ms: number): Promise<void> {
  let timer: TimerHandle | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = clock.setTimer(ms, resolve)))]);
  clock.clearTimer(timer);
}
