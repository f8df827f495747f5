import { describe, expect, it } from 'vitest';
import { ACCEPT_BYTES, BPF, SKF_NET_OFF, buildReceiveFilter, type BpfInstruction } from '../../src/vrrp/codec/receiveFilter.js';
import { encodeIpv6Header } from '../../src/vrrp/codec/ipv6Header.js';

/**
 * The IPv6 filter, run by a classic BPF interpreter with the kernel's view of a raw IPv6 socket: absolute
 * loads read the payload (the VRRP header first), loads at SKF_NET_OFF + n read the IPv6 header; a load
 * beyond either ends the program with 0 (drop).
 */
function run(program: readonly BpfInstruction[], network: Uint8Array, payload: Uint8Array): number {
  let a = 0;
  const load = (k: number, size: 1 | 4): number | undefined => {
    const signed = k | 0;
    const [buf, at] = signed < 0 ? [network, signed - SKF_NET_OFF] : [payload, signed];
    if (at < 0 || at + size > buf.length) return undefined;
    return size === 1 ? buf[at]! : ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
  };
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case BPF.LD_B_ABS:
      case BPF.LD_W_ABS: {
        const v = load(k, code === BPF.LD_B_ABS ? 1 : 4);
        if (v === undefined) return 0;
        a = v;
        break;
      }
      case BPF.JEQ_K:
        pc += a === k ? jt : jf;
        break;
      case BPF.JA:
        pc += k;
        break;
      case BPF.RET_K:
        return k;
      default:
        throw new Error(`opcode 0x${code.toString(16)} not in the interpreter`);
    }
  }
  throw new Error('program ran off its end');
}

const packet = (src: string, dst: string, vrid?: number) => ({
  network: encodeIpv6Header({ srcIp: src, dstIp: dst, nextHeader: 112, payloadLength: 8, hopLimit: 255 }),
  payload: vrid === undefined ? new Uint8Array(0) : Uint8Array.from([0x31, vrid, 100, 0, 0, 100, 0, 0]),
});
const verdict = (program: BpfInstruction[], p: ReturnType<typeof packet>) => run(program, p.network, p.payload);

describe('VRRP receive filter for IPv6 sockets', () => {
  const spec = { destinations: ['ff02::12', 'fd00::1'], vrids: [51, 52], preferredSources: ['fe80::2'] };

  it('accepts our destinations with our VRIDs, drops other destinations, VRIDs and packets too short for a VRID', () => {
    const any = buildReceiveFilter(spec, 'any', 'inet6');
    expect(verdict(any, packet('fe80::9', 'ff02::12', 51))).toBe(ACCEPT_BYTES);
    expect(verdict(any, packet('fe80::9', 'fd00::1', 52))).toBe(ACCEPT_BYTES);
    expect(verdict(any, packet('fe80::9', 'ff02::12', 53))).toBe(0);
    expect(verdict(any, packet('fe80::9', 'ff02::1', 51))).toBe(0);
    expect(verdict(any, packet('fe80::9', 'fd00::1:0:0:1', 51))).toBe(0); // differs in one word only
    expect(verdict(any, packet('fe80::9', 'ff02::12'))).toBe(0);
  });

  it('splits the senders between the two lanes: each packet read by exactly one', () => {
    const preferred = buildReceiveFilter(spec, 'preferred', 'inet6');
    const others = buildReceiveFilter(spec, 'others', 'inet6');
    const fromMaster = packet('fe80::2', 'ff02::12', 51);
    const fromJunk = packet('fe80::3', 'ff02::12', 51);
    expect([verdict(preferred, fromMaster), verdict(others, fromMaster)]).toEqual([ACCEPT_BYTES, 0]);
    expect([verdict(preferred, fromJunk), verdict(others, fromJunk)]).toEqual([0, ACCEPT_BYTES]);
    expect(buildReceiveFilter({ ...spec, preferredSources: [] }, 'preferred', 'inet6')).toEqual([{ code: BPF.RET_K, jt: 0, jf: 0, k: 0 }]);
  });

  it('refuses IPv4 addresses in an IPv6 spec', () => {
    expect(() => buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: [1] }, 'any', 'inet6')).toThrow(/not an IPv6 address/);
  });
});
