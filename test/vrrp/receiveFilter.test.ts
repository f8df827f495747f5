import { describe, expect, it } from 'vitest';
import { ACCEPT_BYTES, BPF, MAX_LIST, buildReceiveFilter, encodeBpfProgram, type BpfInstruction } from '../../src/vrrp/codec/receiveFilter.js';
import { encodeIpv4Header } from '../../src/vrrp/codec/ipv4Header.js';

/**
 * A classic BPF interpreter for the opcodes the builder uses, with the kernel's rules: a load beyond the
 * packet's end ends the program with 0 (drop). The filter is judged by what it does to packets, and its
 * bytes by a fixed vector.
 */
function run(program: readonly BpfInstruction[], packet: Uint8Array): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case BPF.LD_B_ABS:
        if (k >= packet.length) return 0;
        a = packet[k]!;
        break;
      case BPF.LD_W_ABS:
        if (k + 4 > packet.length) return 0;
        a = ((packet[k]! << 24) | (packet[k + 1]! << 16) | (packet[k + 2]! << 8) | packet[k + 3]!) >>> 0;
        break;
      case BPF.LDX_B_MSH:
        if (k >= packet.length) return 0;
        x = (packet[k]! & 0x0f) * 4;
        break;
      case BPF.LD_B_IND:
        if (x + k >= packet.length) return 0;
        a = packet[x + k]!;
        break;
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

function packet(dst: string, vrid: number | undefined, { protocol = 112, ihl = 5, src = '10.0.0.2' } = {}): Buffer {
  const payload = vrid === undefined ? Buffer.alloc(0) : Buffer.from([0x21, vrid, 100, 0, 0, 1, 0, 0]);
  const header = encodeIpv4Header({ srcIp: src, dstIp: dst, protocol, payloadLength: payload.length });
  if (ihl === 5) return Buffer.concat([header, payload]);
  // IP options: a longer header moves the VRRP message (and its VRID) further in.
  const longer = Buffer.concat([header, Buffer.alloc((ihl - 5) * 4, 1)]);
  longer[0] = 0x40 | ihl;
  return Buffer.concat([longer, payload]);
}

describe('VRRP receive filter (classic BPF)', () => {
  const filter = buildReceiveFilter({ destinations: ['224.0.0.18', '10.0.0.1'], vrids: [51, 52] });

  it('accepts protocol 112 to our destinations with our VRIDs, whole', () => {
    expect(run(filter, packet('224.0.0.18', 51))).toBe(ACCEPT_BYTES);
    expect(run(filter, packet('224.0.0.18', 52))).toBe(ACCEPT_BYTES);
    expect(run(filter, packet('10.0.0.1', 51))).toBe(ACCEPT_BYTES);
  });

  it('drops other VRIDs, other destinations, other protocols', () => {
    expect(run(filter, packet('224.0.0.18', 53))).toBe(0);
    expect(run(filter, packet('224.0.0.18', 0))).toBe(0);
    expect(run(filter, packet('10.0.0.9', 51))).toBe(0); // unicast to another address of ours
    expect(run(filter, packet('224.0.0.19', 51))).toBe(0);
    expect(run(filter, packet('224.0.0.18', 51, { protocol: 17 }))).toBe(0);
  });

  it('finds the VRID behind IP options (header length from the packet, not assumed 20)', () => {
    expect(run(filter, packet('224.0.0.18', 51, { ihl: 6 }))).toBe(ACCEPT_BYTES);
    expect(run(filter, packet('224.0.0.18', 99, { ihl: 7 }))).toBe(0);
  });

  it('drops a packet too short to carry a VRID (the load past the end)', () => {
    expect(run(filter, packet('224.0.0.18', undefined))).toBe(0);
    expect(run(filter, packet('224.0.0.18', 51).subarray(0, 21))).toBe(0);
    expect(run(filter, Buffer.alloc(0))).toBe(0);
  });

  it('a program for one group and one VRID, byte for byte (little-endian struct sock_filter[])', () => {
    const program = buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: [51] });
    // ldb [9]; jeq #112 jt 1; ja drop; ld [16]; jeq #0xe0000012 jt 1; ja drop; ldxb 4*([0]&0xf);
    // ldb [x+1]; jeq #51 jt 1; ret #0; ret #0xffff
    expect(program).toEqual([
      { code: 0x30, jt: 0, jf: 0, k: 9 },
      { code: 0x15, jt: 1, jf: 0, k: 112 },
      { code: 0x05, jt: 0, jf: 0, k: 6 },
      { code: 0x20, jt: 0, jf: 0, k: 16 },
      { code: 0x15, jt: 1, jf: 0, k: 0xe0000012 },
      { code: 0x05, jt: 0, jf: 0, k: 3 },
      { code: 0xb1, jt: 0, jf: 0, k: 0 },
      { code: 0x50, jt: 0, jf: 0, k: 1 },
      { code: 0x15, jt: 1, jf: 0, k: 51 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
      { code: 0x06, jt: 0, jf: 0, k: 0xffff },
    ]);
    expect(encodeBpfProgram(program, 'LE').toString('hex')).toBe(
      [
        '3000000009000000',
        '1500010070000000',
        '0500000006000000',
        '2000000010000000',
        '15000100120000e0',
        '0500000003000000',
        'b100000000000000',
        '5000000001000000',
        '1500010033000000',
        '0600000000000000',
        '06000000ffff0000',
      ].join(''),
    );
    expect(encodeBpfProgram(program, 'BE').subarray(32, 40).toString('hex')).toBe('00150100e0000012');
  });

  it('duplicates cost nothing; the same spec gives the same program', () => {
    const a = buildReceiveFilter({ destinations: ['224.0.0.18', '224.0.0.18'], vrids: [51, 51] });
    expect(a).toEqual(buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: [51] }));
  });

  it('255 VRIDs still fit the 8-bit jumps; every one accepted, and only those', () => {
    const all = Array.from({ length: 255 }, (_, i) => i + 1);
    const program = buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: all });
    expect(program.every((i) => i.jt <= 0xff)).toBe(true);
    for (const vrid of all) expect(run(program, packet('224.0.0.18', vrid))).toBe(ACCEPT_BYTES);
    expect(run(program, packet('224.0.0.18', 0))).toBe(0);
  });

  it(`more than ${MAX_LIST} destinations: the address check is left out (user space still validates), VRIDs still checked`, () => {
    const many = Array.from({ length: MAX_LIST + 1 }, (_, i) => `10.1.${i >> 8}.${i & 0xff}`);
    const program = buildReceiveFilter({ destinations: many, vrids: [51] });
    expect(program.some((i) => i.code === BPF.LD_W_ABS)).toBe(false);
    expect(run(program, packet('192.0.2.1', 51))).toBe(ACCEPT_BYTES);
    expect(run(program, packet('192.0.2.1', 52))).toBe(0);
  });

  it('refuses what cannot be a filter: no VRID, VRID 0 or 256, a non-IPv4 destination', () => {
    expect(() => buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: [] })).toThrow(/no destination or no VRID/);
    expect(() => buildReceiveFilter({ destinations: [], vrids: [51] })).toThrow(/no destination or no VRID/);
    expect(() => buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: [0] })).toThrow(/VRID 0/);
    expect(() => buildReceiveFilter({ destinations: ['224.0.0.18'], vrids: [256] })).toThrow(/VRID 256/);
    expect(() => buildReceiveFilter({ destinations: ['fe80::1'], vrids: [51] })).toThrow(/not an IPv4 address/);
  });

  describe('two lanes: the preferred senders (master we follow, unicast peers) get a socket of their own', () => {
    const spec = { destinations: ['224.0.0.18'], vrids: [51], preferredSources: ['10.0.0.7', '10.0.0.8'] };
    const preferred = buildReceiveFilter(spec, 'preferred');
    const others = buildReceiveFilter(spec, 'others');
    const any = buildReceiveFilter(spec);

    it('every packet goes to exactly one lane; the checks on destination and VRID stay in both', () => {
      const cases = [
        { src: '10.0.0.7', dst: '224.0.0.18', vrid: 51, lane: 'preferred' },
        { src: '10.0.0.8', dst: '224.0.0.18', vrid: 51, lane: 'preferred' },
        { src: '10.0.0.66', dst: '224.0.0.18', vrid: 51, lane: 'others' },
        { src: '10.0.0.7', dst: '224.0.0.18', vrid: 52, lane: 'none' },
        { src: '10.0.0.7', dst: '10.0.0.1', vrid: 51, lane: 'none' },
      ];
      for (const c of cases) {
        const p = packet(c.dst, c.vrid, { src: c.src });
        const lanes = [run(preferred, p) > 0 ? 'preferred' : '', run(others, p) > 0 ? 'others' : ''].filter(Boolean);
        expect(lanes, JSON.stringify(c)).toEqual(c.lane === 'none' ? [] : [c.lane]);
        expect(run(any, p) > 0, JSON.stringify(c)).toBe(c.lane !== 'none');
      }
    });

    it('nobody to prefer: the priority lane takes nothing, the other lane everything', () => {
      const none = { destinations: ['224.0.0.18'], vrids: [51] };
      expect(buildReceiveFilter(none, 'preferred')).toEqual([{ code: BPF.RET_K, jt: 0, jf: 0, k: 0 }]);
      expect(buildReceiveFilter(none, 'others')).toEqual(buildReceiveFilter(none));
    });

    it('the exclusion still jumps within 8 bits with 255 VRIDs behind it', () => {
      const all = Array.from({ length: 255 }, (_, i) => i + 1);
      const program = buildReceiveFilter({ ...spec, vrids: all }, 'others');
      expect(run(program, packet('224.0.0.18', 200, { src: '10.0.0.66' }))).toBe(ACCEPT_BYTES);
      expect(run(program, packet('224.0.0.18', 200, { src: '10.0.0.7' }))).toBe(0);
    });

    it(`more than ${MAX_LIST} preferred senders is refused (the lanes would overlap)`, () => {
      const many = Array.from({ length: MAX_LIST + 1 }, (_, i) => `10.2.${i >> 8}.${i & 0xff}`);
      expect(() => buildReceiveFilter({ ...spec, preferredSources: many }, 'others')).toThrow(/preferred sources/);
    });
  });
});
