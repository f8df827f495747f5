// By path: the package's index also loads its nl80211 and WireGuard tables (≈ 5 MiB of heap we never use).
import { createRtNetlink } from 'netlink/dist/rt/rt.js';
import type { RtNetlinkSocket, rt } from 'netlink';
import { isIPv4, isIPv6 } from 'node:net';
import { formatMac } from './arpFrame.js';
import { formatIp, parseIp } from '../util/ipAddress.js';
import {
  decodeRoute, decodeRule, encodeRoute, encodeRouteDumpRequest, encodeRule, encodeRuleDumpRequest, RTM_DELROUTE, RTM_DELRULE,
  RTM_GETROUTE, RTM_GETRULE, RTM_NEWROUTE, RTM_NEWRULE, type RouteEntry, type RuleEntry,
} from './routeCodec.js';

/**
 * The rtnetlink edge: interfaces (index, MAC, up/down) and addresses, over the `netlink` package's socket.
 * Address changes are idempotent because keepalived semantics demand it: a VIP already present is not an
 * error when becoming master, a VIP already gone is not an error when releasing.
 */

export interface LinkInfo {
  index: number;
  name: string;
  /** Hardware address as 6 bytes (empty for interfaces without one, such as lo has all zeros). */
  mac: Buffer;
  /** Administratively up (IFF_UP). */
  adminUp: boolean;
  /** Operationally usable: IFF_UP and IFF_RUNNING (carrier). keepalived's track_interface reads the same. */
  up: boolean;
  /** IFLA_INFO_KIND ("macvlan", "veth", …); absent for devices without one (physical NICs, lo). */
  kind?: string;
  /** IFLA_LINK: the parent of a macvlan/vlan/veth (its index in the parent's namespace). */
  parentIndex?: number;
  /** IFLA_MACVLAN_MODE of a macvlan (1 private, 2 vepa, 4 bridge, 8 passthru, 16 source). */
  macvlanMode?: number;
}

export const MACVLAN_MODE_PRIVATE = 1;

/** A macvlan to create: keepalived's VMAC (use_vmac). */
export interface MacvlanSpec {
  name: string;
  parentIndex: number;
  mac: Buffer;
  mode: number;
}

/** Link creation and removal over rtnetlink (VMAC interfaces); the edge behind RtNetlink implements it. */
export interface LinkControl {
  /** RTM_NEWLINK (CREATE|EXCL) of a macvlan; EEXIST when the name is taken. Returns the new link. */
  addMacvlan(spec: MacvlanSpec): Promise<LinkInfo>;
  /** Sets IFF_UP. */
  setLinkUp(index: number): Promise<void>;
  /** RTM_DELLINK; a link already gone is 'unchanged'. */
  deleteLink(index: number): Promise<AddressChange>;
}

export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

/** One address on one interface, as VIP lines describe it. */
export interface InterfaceAddress {
  /** IPv4 or IPv6 text form, no prefix. */
  address: string;
  prefixLength: number;
  ifindex: number;
  /** IPv4 broadcast; keepalived sets none unless `brd` is given. */
  broadcast?: string;
  scope?: AddressScope | number;
  /** IPv4 label (must start with the interface name, as the kernel requires). */
  label?: string;
  /** Don't install the prefix route (`no_prefixroute`). */
  noPrefixRoute?: boolean;
}

export type AddressChange = 'changed' | 'unchanged';

export interface LinkEvent {
  link: LinkInfo;
  /** true when the interface was deleted. */
  removed: boolean;
}

const SCOPES: Record<AddressScope, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const AF_INET = 2;
const AF_INET6 = 10;
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

export class RtNetlinkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface RtNetlink {
  linkByName(name: string): Promise<LinkInfo | undefined>;
  linkByIndex(index: number): Promise<LinkInfo | undefined>;
  links(): Promise<LinkInfo[]>;
  addresses(ifindex?: number): Promise<InterfaceAddress[]>;
  /** Adds the address; an address already present is 'unchanged', never an error. */
  addAddress(addr: InterfaceAddress): Promise<AddressChange>;
  /** Removes the address; an address already absent is 'unchanged', never an error. */
  removeAddress(addr: InterfaceAddress): Promise<AddressChange>;
  /** Every route of every table and family (RTM_GETROUTE dump), decoded by src/net/routeCodec.ts. */
  routes(): Promise<RouteEntry[]>;
  /** Adds the route; one with the same key (table, destination, tos, metric) already present is 'unchanged'. */
  addRoute(route: RouteEntry): Promise<AddressChange>;
  /** Removes the route of that protocol; one already absent is 'unchanged'. */
  removeRoute(route: RouteEntry): Promise<AddressChange>;
  rules(): Promise<RuleEntry[]>;
  /** Adds the rule; an identical rule already present is 'unchanged'. */
  addRule(rule: RuleEntry): Promise<AddressChange>;
  removeRule(rule: RuleEntry): Promise<AddressChange>;
  /** Calls listener on every link change the kernel announces (RTNLGRP_LINK). Returns an unsubscribe. */
  onLinkChange(listener: (event: LinkEvent) => void): () => void;
  close(): void;
}

/** Opens an rtnetlink socket in the calling process's network namespace. */
export function openRtNetlink(): RtNetlink & LinkControl {
  return new RtNetlinkEdge(createRtNetlink());
}

const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_MACVLAN_MODE = 1;

class RtNetlinkEdge implements RtNetlink, LinkControl {
  private events: RtNetlinkSocket | undefined;
  private readonly linkListeners = new Set<(event: LinkEvent) => void>();
  /** Settles when the last queued request has; see request(). */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly socket: RtNetlinkSocket) {}

  async links(): Promise<LinkInfo[]> {
    const messages = await this.request(() => this.socket.getLinks());
    return messages.map(toLinkInfo);
  }

  async linkByName(name: string): Promise<LinkInfo | undefined> {
    return (await this.links()).find((link) => link.name === name);
  }

  async linkByIndex(index: number): Promise<LinkInfo | undefined> {
    return (await this.links()).find((link) => link.index === index);
  }

  async addresses(ifindex?: number): Promise<InterfaceAddress[]> {
    const messages = await this.request(() => this.socket.getAddresses());
    const result: InterfaceAddress[] = [];
    for (const message of messages) {
      const raw = message.attrs.local ?? message.attrs.address;
      if (!raw || message.data.index === undefined) continue;
      if (ifindex !== undefined && message.data.index !== ifindex) continue;
      const entry: InterfaceAddress = {
        address: bytesToIp(raw),
        prefixLength: message.data.prefixlen ?? 0,
        ifindex: message.data.index,
        scope: scopeName(message.data.scope ?? 0),
      };
      if (message.attrs.broadcast) entry.broadcast = bytesToIp(message.attrs.broadcast);
      if (message.attrs.label) entry.label = message.attrs.label;
      result.push(entry);
    }
    return result;
  }

  async addAddress(addr: InterfaceAddress): Promise<AddressChange> {
    const { data, attrs } = toAddressMessage(addr);
    try {
      // CREATE|EXCL so an existing address is reported (EEXIST) instead of silently replaced.
      await this.request(() => this.socket.newAddress(data, attrs, { flags: 0x400 | 0x200 }));
      return 'changed';
    } catch (error) {
      if (error instanceof RtNetlinkError && error.code === 'EEXIST') return 'unchanged';
      throw error;
    }
  }

  async removeAddress(addr: InterfaceAddress): Promise<AddressChange> {
    const { data, attrs } = toAddressMessage(addr);
    // The kernel matches on local address + prefix length (+ label when given); pass only those.
    const match: rt.AddressAttrs = {};
    if (attrs.local) match.local = attrs.local;
    if (attrs.address) match.address = attrs.address;
    try {
      await this.request(() => this.socket.delAddress(data, match));
      return 'changed';
    } catch (error) {
      if (error instanceof RtNetlinkError && (error.code === 'EADDRNOTAVAIL' || error.code === 'ENODEV')) {
        return 'unchanged';
      }
      throw error;
    }
  }

  async addMacvlan(spec: MacvlanSpec): Promise<LinkInfo> {
    if (spec.mac.length !== 6) throw new RtNetlinkError('a macvlan MAC is 6 bytes', 'EINVAL');
    const mode = Buffer.alloc(4);
    mode.writeUInt32LE(spec.mode);
    const linkinfo = Buffer.concat([
      netlinkAttribute(IFLA_INFO_KIND, Buffer.from('macvlan')),
      netlinkAttribute(IFLA_INFO_DATA, netlinkAttribute(IFLA_MACVLAN_MODE, mode)),
    ]);
    const parent = Buffer.alloc(4);
    parent.writeUInt32LE(spec.parentIndex);
    await this.request(() =>
      this.socket.newLink({ family: 0 }, { ifname: spec.name, link: parent, address: spec.mac, linkinfo }, { flags: 0x400 | 0x200 }),
    );
    const link = await this.linkByName(spec.name);
    if (!link) throw new RtNetlinkError(`macvlan ${spec.name} was created but cannot be found`, 'ENODEV');
    return link;
  }

  async setLinkUp(index: number): Promise<void> {
    await this.request(() => this.socket.newLink({ family: 0, index, flags: { up: true }, change: { up: true } }, {}));
  }

  async deleteLink(index: number): Promise<AddressChange> {
    try {
      await this.request(() => this.socket.delLink({ family: 0, index }, {}));
      return 'changed';
    } catch (error) {
      if (error instanceof RtNetlinkError && error.code === 'ENODEV') return 'unchanged';
      throw error;
    }
  }

  async routes(): Promise<RouteEntry[]> {
    const replies = await this.raw(RTM_GETROUTE, encodeRouteDumpRequest(), NLM_F_DUMP);
    return replies.filter((m) => m.type === RTM_NEWROUTE).map((m) => decodeRoute(m.data)).filter((r): r is RouteEntry => r !== undefined);
  }

  async addRoute(route: RouteEntry): Promise<AddressChange> {
    return await this.change(RTM_NEWROUTE, encodeRoute(route, 'add'), NLM_F_CREATE | NLM_F_EXCL, ['EEXIST']);
  }

  async removeRoute(route: RouteEntry): Promise<AddressChange> {
    return await this.change(RTM_DELROUTE, encodeRoute(route, 'delete'), 0, ['ESRCH', 'ENOENT', 'ENODEV']);
  }

  async rules(): Promise<RuleEntry[]> {
    const replies = await this.raw(RTM_GETRULE, encodeRuleDumpRequest(), NLM_F_DUMP);
    return replies.filter((m) => m.type === RTM_NEWRULE).map((m) => decodeRule(m.data)).filter((r): r is RuleEntry => r !== undefined);
  }

  async addRule(rule: RuleEntry): Promise<AddressChange> {
    return await this.change(RTM_NEWRULE, encodeRule(rule), NLM_F_CREATE | NLM_F_EXCL, ['EEXIST']);
  }

  async removeRule(rule: RuleEntry): Promise<AddressChange> {
    return await this.change(RTM_DELRULE, encodeRule(rule), 0, ['ENOENT', 'ESRCH']);
  }

  /** One change request; the errors in `unchangedOn` mean the kernel already is as asked. */
  private async change(type: number, payload: Buffer, flags: number, unchangedOn: string[]): Promise<AddressChange> {
    try {
      await this.raw(type, payload, flags);
      return 'changed';
    } catch (error) {
      if (error instanceof RtNetlinkError && unchangedOn.includes(error.code)) return 'unchanged';
      throw error;
    }
  }

  /** A request with a payload from the codec, below the package's typed layer (its replies undecoded). */
  private async raw(type: number, payload: Buffer, flags: number): Promise<{ type: number; data: Buffer }[]> {
    const [messages] = await this.request(() => this.socket.socket.request(type, payload, { flags }));
    return messages.map((m) => ({ type: m.type, data: Buffer.from(m.data) }));
  }

  onLinkChange(listener: (event: LinkEvent) => void): () => void {
    if (!this.events) {
      // A second socket for notifications, so replies to requests and events never interleave; ref'd while
      // someone listens (a daemon waiting on link events must not exit).
      // (The package's typings mark the buffer sizes as required; 1 MiB receive keeps link-event bursts.)
      const events = createRtNetlink({ ref: true, recvBufferSize: 1 << 20, sendBufferSize: 1 << 16 });
      events.addMembership('LINK');
      events.on('message', (messages) => {
        for (const message of messages) {
          if (message.kind !== 'link') continue;
          let link: LinkInfo;
          try {
            link = toLinkInfo(message);
          } catch {
            continue; // a link message we cannot read is not ours to act on
          }
          // RTM_DELLINK arrives as a link message without IFF_UP; the name survives, the device doesn't.
          const event: LinkEvent = { link, removed: false };
          for (const l of this.linkListeners) l(event);
        }
      });
      this.events = events;
    }
    this.linkListeners.add(listener);
    return () => {
      this.linkListeners.delete(listener);
      if (this.linkListeners.size === 0 && this.events) {
        this.events.socket.socket.close();
        this.events = undefined;
      }
    };
  }

  close(): void {
    if (this.events) this.events.socket.socket.close();
    this.events = undefined;
    this.linkListeners.clear();
    this.socket.socket.socket.close();
  }

  /**
   * Runs one request at a time on this socket, turning the package's "Request rejected: CODE" into an
   * RtNetlinkError with that code. One in flight because the kernel refuses a second dump on a socket whose
   * dump is still running (EBUSY from netlink_dump_start), and the package collects one multipart reply at a
   * time: an ACK or error arriving between a dump's datagrams ends that dump as "not terminated properly".
   */
  private request<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      try {
        return await fn();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const match = /Request rejected: (\w+)/.exec(message);
        throw new RtNetlinkError(message, match?.[1] ?? 'EUNKNOWN');
      }
    });
    // The next request waits for this one to settle either way; a failure belongs to its own caller only.
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function toLinkInfo(message: rt.LinkMessage): LinkInfo {
  const flags = message.data.flags ?? {};
  const info: LinkInfo = {
    index: message.data.index ?? 0,
    name: message.attrs.ifname ?? '',
    mac: message.attrs.address ? Buffer.from(message.attrs.address) : Buffer.alloc(0),
    adminUp: flags.up === true,
    up: flags.up === true && flags.running === true,
  };
  if (message.attrs.link && message.attrs.link.length >= 4) info.parentIndex = message.attrs.link.readUInt32LE(0);
  if (message.attrs.linkinfo) {
    const attrs = parseNetlinkAttributes(message.attrs.linkinfo);
    const kind = attrs.get(IFLA_INFO_KIND);
    if (kind) info.kind = kind.toString('utf8').replace(/\0+$/, '');
    const data = attrs.get(IFLA_INFO_DATA);
    const mode = data && info.kind === 'macvlan' ? parseNetlinkAttributes(data).get(IFLA_MACVLAN_MODE) : undefined;
    if (mode && mode.length >= 4) info.macvlanMode = mode.readUInt32LE(0);
  }
  return info;
}

/** One netlink attribute (struct nlattr, host byte order, payload padded to 4 bytes). */
function netlinkAttribute(type: number, payload: Buffer): Buffer {
  const length = 4 + payload.length;
  const out = Buffer.alloc((length + 3) & ~3);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

/** The attributes of a nested attribute's payload, by type (the last of a repeated type wins). */
function parseNetlinkAttributes(data: Buffer): Map<number, Buffer> {
  const result = new Map<number, Buffer>();
  for (let at = 0; at + 4 <= data.length; ) {
    const length = data.readUInt16LE(at);
    if (length < 4 || at + length > data.length) break;
    result.set(data.readUInt16LE(at + 2) & 0x3fff, data.subarray(at + 4, at + length));
    at += (length + 3) & ~3;
  }
  return result;
}

function toAddressMessage(addr: InterfaceAddress): { data: rt.Address; attrs: rt.AddressAttrs } {
  const v4 = isIPv4(addr.address);
  if (!v4 && !isIPv6(addr.address)) throw new RtNetlinkError(`not an IP address: ${addr.address}`, 'EINVAL');
  const maxPrefix = v4 ? 32 : 128;
  if (!Number.isInteger(addr.prefixLength) || addr.prefixLength < 0 || addr.prefixLength > maxPrefix) {
    throw new RtNetlinkError(`bad prefix length /${addr.prefixLength}`, 'EINVAL');
  }
  const bytes = ipToBytes(addr.address);
  const scope = typeof addr.scope === 'number' ? addr.scope : SCOPES[addr.scope ?? 'global'];
  const data: rt.Address = { family: v4 ? AF_INET : AF_INET6, prefixlen: addr.prefixLength, scope, index: addr.ifindex };
  const attrs: rt.AddressAttrs = { local: bytes, address: bytes };
  if (v4 && addr.broadcast) attrs.broadcast = ipToBytes(addr.broadcast);
  if (v4 && addr.label) attrs.label = addr.label;
  if (addr.noPrefixRoute) attrs.flags = { noprefixroute: true };
  if (!v4) attrs.flags = { ...attrs.flags, nodad: true }; // a VIP must be usable at once, not after DAD
  return { data, attrs };
}

function scopeName(scope: number): AddressScope | number {
  for (const [name, value] of Object.entries(SCOPES)) if (value === scope) return name as AddressScope;
  return scope;
}

export function ipToBytes(ip: string): Buffer {
  const bytes = parseIp(ip);
  if (!bytes) throw new RtNetlinkError(`not an IP address: ${ip}`, 'EINVAL');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** An address attribute's text (src/util/ipAddress.ts); a link-layer address of another length as a MAC. */
export function bytesToIp(bytes: Uint8Array): string {
  return bytes.length === 4 || bytes.length === 16 ? formatIp(bytes) : formatMac(bytes);
}
