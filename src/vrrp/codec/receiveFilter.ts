import { parseIpv4 } from './ipv4Address.js';
import { parseIpv6 } from './ipv6Address.js';
import { VRRP_PROTOCOL, type VrrpFamily } from './advertCodec.js';

/**
 * The kernel-side receive filter of a VRRP socket: a classic BPF program (SO_ATTACH_FILTER) that lets
 * through only IPv4 protocol-112 packets sent to one of our destinations (the multicast groups we joined,
 * the addresses our unicast instances send from) and carrying one of our VRIDs. Everything else — a flood
 * aimed at the director's address, other routers' VRIDs — is dropped by the kernel before it is queued,
 * so it costs no receive buffer and no event-loop time. Pure: the same spec always gives the same bytes.
 *
 * The program runs on the packet from its IPv4 header on (raw IPv4 sockets see it so). A load beyond the
 * packet's end makes the kernel return 0 (drop): a packet too short to carry a VRID never reaches us.
 *
 * IPv6 (family 'inet6'): a raw IPv6 socket's filter sees the packet from the VRRP header on (the kernel
 * has pulled the IPv6 header), so the VRID is at offset 1 and the addresses are read through the
 * kernel's network-header window (SKF_NET_OFF + 8 for the source, + 24 for the destination), four words
 * each; the protocol needs no check (the socket is bound to next header 112).
 */

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export interface ReceiveFilterSpec {
  /** IPv4 destination addresses we accept (groups joined, unicast source addresses). */
  destinations: readonly string[];
  /** VRIDs of the instances on the socket (1..255). */
  vrids: readonly number[];
  /**
   * Senders whose adverts matter most (the master we follow, our unicast peers): read through a socket of
   * their own, so a flood from anyone else cannot fill the queue they wait in. Unset: any sender.
   */
  preferredSources?: readonly string[];
}

/** Which senders a socket takes: anyone, only the preferred ones (the priority lane), or all but those. */
export type SourceSelection = 'any' | 'preferred' | 'others';

// Classic BPF opcodes (linux/bpf_common.h, linux/filter.h).
export const BPF = {
  LD_B_ABS: 0x30, // A = packet[k] (byte)
  LD_W_ABS: 0x20, // A = packet[k..k+3] (big-endian word)
  LDX_B_MSH: 0xb1, // X = 4 * (packet[k] & 0x0f): the IPv4 header length
  LD_B_IND: 0x50, // A = packet[X + k] (byte)
  JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  LD_W_NET: 0x20, // LD_W_ABS with k = SKF_NET_OFF + offset: a word of the network header
  JA: 0x05, // pc += k
  RET_K: 0x06, // accept k bytes (0 = drop)
} as const;

/** What an accepted packet keeps: all of it (IPv4's maximum). */
export const ACCEPT_BYTES = 0xffff;

/** Longest list a chain of jeq can skip with its 8-bit jump offsets; longer lists are not checked. */
export const MAX_LIST = 255;

const IP_PROTOCOL_OFFSET = 9;
const IP_SOURCE_OFFSET = 12;
const IP_DESTINATION_OFFSET = 16;
const VRID_OFFSET = 1; // in the VRRP header, after the IPv4 header
/** linux/filter.h SKF_NET_OFF: loads at k = SKF_NET_OFF + n read byte n of the network (IPv6) header. */
export const SKF_NET_OFF = -0x100000;
const IP6_SOURCE_OFFSET = 8;
const IP6_DESTINATION_OFFSET = 24;

/** A label-resolving assembler, so every jump offset is computed (and checked) rather than counted by hand. */
class Assembler {
  private readonly code: ({ kind: 'insn'; insn: BpfInstruction } | { kind: 'jeq' | 'jne'; k: number; label: string } | { kind: 'ja'; label: string })[] = [];
  private readonly labels = new Map<string, number>();

  emit(code: number, k: number): void {
    this.code.push({ kind: 'insn', insn: { code, jt: 0, jf: 0, k } });
  }

  /** A == k: jump to label; else next instruction. */
  jeqTo(k: number, label: string): void {
    this.code.push({ kind: 'jeq', k, label });
  }

  /** A != k: jump to label; else next instruction. */
  jneTo(k: number, label: string): void {
    this.code.push({ kind: 'jne', k, label });
  }

  jumpTo(label: string): void {
    this.code.push({ kind: 'ja', label });
  }

  label(name: string): void {
    this.labels.set(name, this.code.length);
  }

  assemble(): BpfInstruction[] {
    return this.code.map((entry, pc) => {
      if (entry.kind === 'insn') return entry.insn;
      const target = this.labels.get(entry.label);
      if (target === undefined || target <= pc) throw new Error(`BPF: label ${entry.label} is not ahead of ${pc}`);
      const offset = target - pc - 1;
      if (entry.kind === 'ja') return { code: BPF.JA, jt: 0, jf: 0, k: offset };
      if (offset > 0xff) throw new Error(`BPF: jump of ${offset} from ${pc} does not fit 8 bits`);
      if (entry.kind === 'jne') return { code: BPF.JEQ_K, jt: 0, jf: offset, k: entry.k >>> 0 };
      return { code: BPF.JEQ_K, jt: offset, jf: 0, k: entry.k >>> 0 };
    });
  }
}

function addressWord(address: string): number {
  const bytes = parseIpv4(address);
  if (!bytes) throw new Error(`receive filter: not an IPv4 address: ${address}`);
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** The four big-endian words of an IPv6 address. */
function address6Words(address: string): number[] {
  const bytes = parseIpv6(address);
  if (!bytes) throw new Error(`receive filter: not an IPv6 address: ${address}`);
  return [0, 4, 8, 12].map((i) => ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0);
}

let listCount = 0;

/** Jumps to `matched` when the IPv6 address at network-header `offset` is one of `addresses`, else goes on. */
function matchAddress6(asm: Assembler, offset: number, addresses: readonly number[][], matched: string): void {
  const list = `list${listCount++}`;
  addresses.forEach((words, n) => {
    const next = `${list}-next${n}`;
    words.forEach((word, i) => {
      asm.emit(BPF.LD_W_NET, (SKF_NET_OFF + offset + 4 * i) >>> 0);
      asm.jneTo(word, next);
    });
    asm.jumpTo(matched);
    asm.label(next);
  });
}

function buildReceiveFilter6(spec: ReceiveFilterSpec, senders: SourceSelection): BpfInstruction[] {
  const destinations = [...new Set(spec.destinations)].map(address6Words);
  const preferred = [...new Set(spec.preferredSources ?? [])].map(address6Words);
  if (preferred.length > MAX_LIST) throw new Error(`receive filter: more than ${MAX_LIST} preferred sources`);
  if (senders === 'preferred' && preferred.length === 0) return [{ code: BPF.RET_K, jt: 0, jf: 0, k: 0 }];
  const vrids = [...new Set(spec.vrids)];
  for (const vrid of vrids) if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new Error(`receive filter: VRID ${vrid} is not 1..255`);
  if (destinations.length === 0 || vrids.length === 0) throw new Error('receive filter: no destination or no VRID to accept');

  const asm = new Assembler();
  if (destinations.length <= MAX_LIST) {
    matchAddress6(asm, IP6_DESTINATION_OFFSET, destinations, 'destination-ok');
    asm.jumpTo('drop');
  }
  asm.label('destination-ok');
  if (senders === 'preferred') {
    matchAddress6(asm, IP6_SOURCE_OFFSET, preferred, 'source-ok');
    asm.jumpTo('drop');
    asm.label('source-ok');
  } else if (senders === 'others' && preferred.length > 0) {
    matchAddress6(asm, IP6_SOURCE_OFFSET, preferred, 'drop'); // the priority lane reads it
  }
  asm.emit(BPF.LD_B_ABS, VRID_OFFSET);
  for (const v of vrids) asm.jeqTo(v, 'accept');
  asm.label('drop');
  asm.emit(BPF.RET_K, 0);
  asm.label('accept');
  asm.emit(BPF.RET_K, ACCEPT_BYTES);
  return asm.assemble();
}

/**
 * The filter for one socket. A list longer than MAX_LIST is left unchecked (user space still validates),
 * except a preferred-sources list, which must fit: the two lanes must never both take a packet.
 */
export function buildReceiveFilter(spec: ReceiveFilterSpec, senders: SourceSelection = 'any', family: VrrpFamily = 'inet'): BpfInstruction[] {
  if (family === 'inet6') return buildReceiveFilter6(spec, senders);
  const destinations = [...new Set(spec.destinations)].map(addressWord);
  const preferred = [...new Set(spec.preferredSources ?? [])].map(addressWord);
  if (preferred.length > MAX_LIST) throw new Error(`receive filter: more than ${MAX_LIST} preferred sources`);
  // The priority lane with nobody to prefer takes nothing.
  if (senders === 'preferred' && preferred.length === 0) return [{ code: BPF.RET_K, jt: 0, jf: 0, k: 0 }];
  const vrids = [...new Set(spec.vrids)];
  for (const vrid of vrids) if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new Error(`receive filter: VRID ${vrid} is not 1..255`);
  if (destinations.length === 0 || vrids.length === 0) throw new Error('receive filter: no destination or no VRID to accept');

  const asm = new Assembler();
  asm.emit(BPF.LD_B_ABS, IP_PROTOCOL_OFFSET);
  asm.jeqTo(VRRP_PROTOCOL, 'protocol-ok');
  asm.jumpTo('drop');
  asm.label('protocol-ok');
  if (destinations.length <= MAX_LIST) {
    asm.emit(BPF.LD_W_ABS, IP_DESTINATION_OFFSET);
    for (const d of destinations) asm.jeqTo(d, 'destination-ok');
    asm.jumpTo('drop');
  }
  asm.label('destination-ok');
  if (senders === 'preferred') {
    asm.emit(BPF.LD_W_ABS, IP_SOURCE_OFFSET);
    for (const p of preferred) asm.jeqTo(p, 'source-ok');
    asm.jumpTo('drop');
    asm.label('source-ok');
  } else if (senders === 'others' && preferred.length > 0) {
    asm.emit(BPF.LD_W_ABS, IP_SOURCE_OFFSET);
    for (const p of preferred) asm.jeqTo(p, 'source-taken');
    asm.jumpTo('source-ok');
    asm.label('source-taken'); // the priority lane reads it
    asm.jumpTo('drop');
    asm.label('source-ok');
  }
  asm.emit(BPF.LDX_B_MSH, 0);
  asm.emit(BPF.LD_B_IND, VRID_OFFSET);
  for (const v of vrids) asm.jeqTo(v, 'accept');
  asm.label('drop');
  asm.emit(BPF.RET_K, 0);
  asm.label('accept');
  asm.emit(BPF.RET_K, ACCEPT_BYTES);
  return asm.assemble();
}

/** struct sock_filter[] as the kernel reads it: u16 code, u8 jt, u8 jf, u32 k, in host byte order. */
export function encodeBpfProgram(program: readonly BpfInstruction[], endianness: 'LE' | 'BE'): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    const at = i * 8;
    if (endianness === 'LE') out.writeUInt16LE(insn.code, at);
    else out.writeUInt16BE(insn.code, at);
    out.writeUInt8(insn.jt, at + 2);
    out.writeUInt8(insn.jf, at + 3);
    if (endianness === 'LE') out.writeUInt32LE(insn.k >>> 0, at + 4);
    else out.writeUInt32BE(insn.k >>> 0, at + 4);
  });
  return out;
}
