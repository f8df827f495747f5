import { formatIp, parseIp } from '../util/ipAddress.js';

/**
 * The pure rtnetlink codec for routes (struct rtmsg + RTA_* attributes) and policy rules (struct
 * fib_rule_hdr + FRA_* attributes): the payload after the nlmsghdr, as RTM_NEWROUTE / RTM_DELROUTE /
 * RTM_NEWRULE / RTM_DELRULE carry it and as a dump returns it. No sockets here: the edge
 * (src/net/rtnetlink.ts) frames and sends; tests compare these bytes with what iproute2 sends.
 *
 * Attributes are written in iproute2's order for the same arguments (`ip route add DST src S via G table T
 * metric M dev D`), so a test can hold a payload against `strace -e write` of the equivalent `ip` command.
 * Integers are host-endian (netlink is), which is little-endian on every machine tslvsd runs on.
 */

export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

/** keepalived's route and rule protocol (rtnetlink.h RTPROT_KEEPALIVED); iproute2 prints `proto keepalived`. */
export const RTPROT_KEEPALIVED = 18;

export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_NOWHERE = 255;

const AF_INET = 2;
const AF_INET6 = 10;

const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
const RTNH_F_ONLINK = 4;

const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_IIFNAME = 3;
const FRA_PRIORITY = 6;
const FRA_FWMARK = 10;
const FRA_TABLE = 15;
const FRA_FWMASK = 16;
const FRA_OIFNAME = 17;
const FRA_PROTOCOL = 21;

/** rtm_type values (rtnetlink.h), by the names iproute2 and keepalived use. */
export const ROUTE_TYPES = {
  unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9, nat: 10,
} as const;
export type RouteType = keyof typeof ROUTE_TYPES;

/** fib_rule_hdr action values (fib_rules.h). */
export const RULE_ACTIONS = { table: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
export type RuleAction = keyof typeof RULE_ACTIONS;

export type Family = 'inet' | 'inet6';

/** One route as the kernel holds it (the fields tslvsd sets or must see to recognise its own). */
export interface RouteEntry {
  family: Family;
  /** Destination network (canonical text); `0.0.0.0`/`::` with prefix 0 for a default route. */
  destination: string;
  prefixLength: number;
  /** IPv6 source-specific routing (`from`), rare. */
  source?: { address: string; prefixLength: number };
  type: RouteType;
  /** Full 32-bit table id (RTA_TABLE when >= 256). */
  table: number;
  protocol: number;
  scope: number;
  gateway?: string;
  /** Preferred source address (`src`). */
  preferredSource?: string;
  oif?: number;
  metric?: number;
  onlink: boolean;
  tos: number;
}

/** One policy rule. */
export interface RuleEntry {
  family: Family;
  from?: { address: string; prefixLength: number };
  to?: { address: string; prefixLength: number };
  action: RuleAction;
  /** For action `table`. */
  table?: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  protocol?: number;
  tos: number;
}

export class RouteCodecError extends Error {}

// ---------------------------------------------------------------------------------------------- routes

/**
 * The payload of RTM_NEWROUTE (op 'add') or RTM_DELROUTE (op 'delete'). A delete asks for scope NOWHERE
 * (match any scope) and names the type only when it is not unicast, as keepalived and `ip route del` do;
 * the protocol is always given, so only a route of that protocol can match.
 */
export function encodeRoute(route: RouteEntry, op: 'add' | 'delete'): Buffer {
  const af = familyNumber(route.family);
  const header = Buffer.alloc(12);
  header.writeUInt8(af, 0);
  header.writeUInt8(route.prefixLength, 1);
  header.writeUInt8(route.source?.prefixLength ?? 0, 2);
  header.writeUInt8(route.tos, 3);
  header.writeUInt8(route.table < 256 ? route.table : RT_TABLE_UNSPEC, 4);
  header.writeUInt8(route.protocol, 5);
  header.writeUInt8(op === 'delete' ? RT_SCOPE_NOWHERE : route.scope, 6);
  header.writeUInt8(op === 'delete' && route.type === 'unicast' ? 0 : ROUTE_TYPES[route.type], 7);
  header.writeUInt32LE(route.onlink ? RTNH_F_ONLINK : 0, 8);
  const attrs: Buffer[] = [header];
  if (route.prefixLength > 0) attrs.push(attr(RTA_DST, addressBytes(route.destination, route.family)));
  if (route.source) attrs.push(attr(RTA_SRC, addressBytes(route.source.address, route.family)));
  if (route.preferredSource) attrs.push(attr(RTA_PREFSRC, addressBytes(route.preferredSource, route.family)));
  if (route.gateway) attrs.push(attr(RTA_GATEWAY, addressBytes(route.gateway, route.family)));
  if (route.table >= 256) attrs.push(u32Attr(RTA_TABLE, route.table));
  if (route.metric !== undefined) attrs.push(u32Attr(RTA_PRIORITY, route.metric));
  if (route.oif !== undefined) attrs.push(u32Attr(RTA_OIF, route.oif));
  return Buffer.concat(attrs);
}

/** A route from an RTM_NEWROUTE payload (a dump reply or a notification); undefined for other families. */
export function decodeRoute(payload: Buffer): RouteEntry | undefined {
  if (payload.length < 12) throw new RouteCodecError(`route message of ${payload.length} bytes is shorter than struct rtmsg`);
  const af = payload.readUInt8(0);
  const family: Family | undefined = af === AF_INET ? 'inet' : af === AF_INET6 ? 'inet6' : undefined;
  if (family === undefined) return undefined;
  const typeNumber = payload.readUInt8(7);
  const type = (Object.entries(ROUTE_TYPES).find(([, v]) => v === typeNumber)?.[0] ?? 'unicast') as RouteType;
  const route: RouteEntry = {
    family,
    destination: family === 'inet' ? '0.0.0.0' : '::',
    prefixLength: payload.readUInt8(1),
    type,
    table: payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    scope: payload.readUInt8(6),
    onlink: (payload.readUInt32LE(8) & RTNH_F_ONLINK) !== 0,
    tos: payload.readUInt8(3),
  };
  const srcLen = payload.readUInt8(2);
  for (const [kind, value] of attributes(payload, 12)) {
    if (kind === RTA_DST) route.destination = bytesToAddress(value);
    else if (kind === RTA_SRC) route.source = { address: bytesToAddress(value), prefixLength: srcLen };
    else if (kind === RTA_PREFSRC) route.preferredSource = bytesToAddress(value);
    else if (kind === RTA_GATEWAY) route.gateway = bytesToAddress(value);
    else if (kind === RTA_TABLE && value.length >= 4) route.table = value.readUInt32LE(0);
    else if (kind === RTA_PRIORITY && value.length >= 4) route.metric = value.readUInt32LE(0);
    else if (kind === RTA_OIF && value.length >= 4) route.oif = value.readUInt32LE(0);
  }
  return route;
}

/** The rtmsg of a dump request for every route of every table and family. */
export function encodeRouteDumpRequest(): Buffer {
  return Buffer.alloc(12);
}

// ----------------------------------------------------------------------------------------------- rules

/** The payload of RTM_NEWRULE / RTM_DELRULE (the kernel deletes the first rule matching every field given). */
export function encodeRule(rule: RuleEntry): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt8(familyNumber(rule.family), 0);
  header.writeUInt8(rule.to?.prefixLength ?? 0, 1);
  header.writeUInt8(rule.from?.prefixLength ?? 0, 2);
  header.writeUInt8(rule.tos, 3);
  const table = rule.action === 'table' ? (rule.table ?? RT_TABLE_MAIN) : 0;
  header.writeUInt8(table < 256 ? table : RT_TABLE_UNSPEC, 4);
  header.writeUInt8(RULE_ACTIONS[rule.action], 7);
  const attrs: Buffer[] = [header];
  if (rule.to) attrs.push(attr(FRA_DST, addressBytes(rule.to.address, rule.family)));
  if (rule.from) attrs.push(attr(FRA_SRC, addressBytes(rule.from.address, rule.family)));
  if (rule.fwmark !== undefined) attrs.push(u32Attr(FRA_FWMARK, rule.fwmark));
  if (rule.fwmask !== undefined) attrs.push(u32Attr(FRA_FWMASK, rule.fwmask));
  if (rule.iif !== undefined) attrs.push(attr(FRA_IIFNAME, Buffer.from(`${rule.iif}\0`)));
  if (rule.oif !== undefined) attrs.push(attr(FRA_OIFNAME, Buffer.from(`${rule.oif}\0`)));
  if (rule.priority !== undefined) attrs.push(u32Attr(FRA_PRIORITY, rule.priority));
  if (table >= 256) attrs.push(u32Attr(FRA_TABLE, table));
  if (rule.protocol !== undefined) attrs.push(attr(FRA_PROTOCOL, Buffer.from([rule.protocol])));
  return Buffer.concat(attrs);
}

export function decodeRule(payload: Buffer): RuleEntry | undefined {
  if (payload.length < 12) throw new RouteCodecError(`rule message of ${payload.length} bytes is shorter than struct fib_rule_hdr`);
  const af = payload.readUInt8(0);
  const family: Family | undefined = af === AF_INET ? 'inet' : af === AF_INET6 ? 'inet6' : undefined;
  if (family === undefined) return undefined;
  const actionNumber = payload.readUInt8(7);
  const action = Object.entries(RULE_ACTIONS).find(([, v]) => v === actionNumber)?.[0] as RuleAction | undefined;
  if (action === undefined) return undefined; // an action tslvsd never sets (l3mdev, …) is not ours
  const rule: RuleEntry = { family, action, tos: payload.readUInt8(3) };
  if (action === 'table') rule.table = payload.readUInt8(4);
  for (const [kind, value] of attributes(payload, 12)) {
    if (kind === FRA_DST) rule.to = { address: bytesToAddress(value), prefixLength: payload.readUInt8(1) };
    else if (kind === FRA_SRC) rule.from = { address: bytesToAddress(value), prefixLength: payload.readUInt8(2) };
    else if (kind === FRA_FWMARK && value.length >= 4) rule.fwmark = value.readUInt32LE(0);
    else if (kind === FRA_FWMASK && value.length >= 4) rule.fwmask = value.readUInt32LE(0);
    else if (kind === FRA_IIFNAME) rule.iif = cString(value);
    else if (kind === FRA_OIFNAME) rule.oif = cString(value);
    else if (kind === FRA_PRIORITY && value.length >= 4) rule.priority = value.readUInt32LE(0);
    else if (kind === FRA_TABLE && value.length >= 4 && action === 'table') rule.table = value.readUInt32LE(0);
    else if (kind === FRA_PROTOCOL && value.length >= 1) rule.protocol = value.readUInt8(0);
  }
  return rule;
}

/** The fib_rule_hdr of a dump request for every rule of every family. */
export function encodeRuleDumpRequest(): Buffer {
  return Buffer.alloc(12);
}

// -------------------------------------------------------------------------------------------- helpers

function familyNumber(family: Family): number {
  return family === 'inet' ? AF_INET : AF_INET6;
}

function attr(type: number, value: Buffer): Buffer {
  const length = 4 + value.length;
  const out = Buffer.alloc((length + 3) & ~3);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

function u32Attr(type: number, value: number): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32LE(value >>> 0, 0);
  return attr(type, v);
}

/** Each attribute (type without the nested/byte-order bits, value) after `offset`; stops at a malformed one. */
function* attributes(payload: Buffer, offset: number): Generator<[number, Buffer]> {
  let at = offset;
  while (at + 4 <= payload.length) {
    const length = payload.readUInt16LE(at);
    if (length < 4 || at + length > payload.length) return;
    yield [payload.readUInt16LE(at + 2) & 0x3fff, payload.subarray(at + 4, at + length)];
    at += (length + 3) & ~3;
  }
}

function cString(value: Buffer): string {
  const end = value.indexOf(0);
  return value.subarray(0, end < 0 ? value.length : end).toString();
}

/** The address's bytes (src/util/ipAddress.ts, the one parser), checked against the route's family. */
export function addressBytes(address: string, family: Family): Buffer {
  const bytes = parseIp(address);
  if (!bytes || bytes.length !== (family === 'inet' ? 4 : 16)) throw new RouteCodecError(`${address} is not an ${family} address`);
  return Buffer.from(bytes);
}

/** RFC 5952 text of 4 or 16 address bytes (src/util/ipAddress.ts, the one formatter). */
export function bytesToAddress(bytes: Buffer): string {
  if (bytes.length !== 4 && bytes.length !== 16) throw new RouteCodecError(`address of ${bytes.length} bytes`);
  return formatIp(bytes);
}
