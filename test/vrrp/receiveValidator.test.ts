import { describe, expect, it } from 'vitest';
import {
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  encodeAdvert,
  passwordAuthData,
  type VrrpAdvert,
} from '../../src/vrrp/codec/advertCodec.js';
import { encodeIpv4Header, type Ipv4Header } from '../../src/vrrp/codec/ipv4Header.js';
import {
  ReceiveDispatcher,
  ReceiveValidator,
  constantTimeEqual,
  newReceiveCounters,
  type ReceiveSpec,
} from '../../src/vrrp/core/receiveValidator.js';

const PEER = '10.99.0.2';
const GROUP = '224.0.0.18';

function receiveSpec(over: Partial<ReceiveSpec> = {}): ReceiveSpec {
  return {
    vrid: 51,
    version: 2,
    advertIntervalMs: 1000,
    authType: AUTH_PASS,
    authData: passwordAuthData('secret1'),
    virtualAddresses: ['10.99.0.200'],
    unicastPeers: [],
    ownAddresses: ['10.99.0.1'],
    ...over,
  };
}

function advert(over: Partial<VrrpAdvert> = {}): VrrpAdvert {
  return {
    version: 2,
    vrid: 51,
    priority: 150,
    addresses: ['10.99.0.200'],
    advertInt: 1,
    maxAdvertIntCs: 100,
    authType: AUTH_PASS,
    authData: passwordAuthData('secret1'),
    ...over,
  };
}

function packet(
  a: VrrpAdvert,
  ipOver: Partial<Ipv4Header> = {},
): { ip: Ipv4Header; payload: Buffer } {
  const ip: Ipv4Header = {
    headerLength: 20,
    totalLength: 0,
    ttl: 255,
    protocol: 112,
    srcIp: PEER,
    dstIp: GROUP,
    ...ipOver,
  };
  const payload = encodeAdvert(a, { srcIp: ip.srcIp, dstIp: ip.dstIp });
  return { ip: { ...ip, totalLength: 20 + payload.length }, payload };
}

function check(v: ReceiveValidator, a: VrrpAdvert, ipOver: Partial<Ipv4Header> = {}) {
  const p = packet(a, ipOver);
  return v.validate(p.ip, p.payload);
}

describe('receive validator', () => {
  it('accepts a valid advert and counts it', () => {
    const v = new ReceiveValidator(receiveSpec());
    const r = check(v, advert());
    expect(r).toMatchObject({ verdict: 'accept', srcIp: PEER, addressListMismatch: false });
    expect(v.counters.advertisementsReceived).toBe(1);
    const nonZero = Object.entries(v.counters).filter(([, n]) => n !== 0);
    expect(nonZero).toEqual([['advertisementsReceived', 1]]);
  });

  it('accepts the real keepalived 2.2.7 advert', () => {
    const v = new ReceiveValidator(receiveSpec());
    const payload = Buffer.from('2133960101 01cf520a6300c873656372657431 00'.replace(/\s/g, ''), 'hex');
    const r = v.validate({ headerLength: 20, totalLength: 40, ttl: 255, protocol: 112, srcIp: PEER, dstIp: GROUP }, payload);
    expect(r.verdict).toBe('accept');
  });

  it('counts priority 0', () => {
    const v = new ReceiveValidator(receiveSpec());
    expect(check(v, advert({ priority: 0 })).verdict).toBe('accept');
    expect(v.counters.priorityZeroReceived).toBe(1);
  });

  const drops: Array<[string, Partial<ReceiveSpec>, Partial<VrrpAdvert>, Partial<Ipv4Header>, string]> = [
    ['TTL 254 on multicast', {}, {}, { ttl: 254 }, 'ipTtlErrors'],
    ['TTL 1 on multicast', {}, {}, { ttl: 1 }, 'ipTtlErrors'],
    ['v3 advert to a v2 instance', {}, { version: 3, maxAdvertIntCs: 100 }, {}, 'versionErrors'],
    ['v2 advert to a v3 instance', { version: 3, authType: AUTH_NONE }, {}, {}, 'versionErrors'],
    ['unknown auth type 7', {}, { authType: 7 }, {}, 'authenticationInvalid'],
    ['auth NONE to a PASS instance', {}, { authType: AUTH_NONE, authData: new Uint8Array(8) }, {}, 'authenticationMismatch'],
    ['auth PASS to a NONE instance', { authType: AUTH_NONE }, {}, {}, 'authenticationMismatch'],
    ['AH (not implemented)', { authType: AUTH_AH }, { authType: AUTH_AH }, {}, 'authenticationFailure'],
    ['wrong password', {}, { authData: passwordAuthData('secret2') }, {}, 'authenticationFailure'],
    ['password prefix only', {}, { authData: passwordAuthData('secret') }, {}, 'authenticationFailure'],
    ['advert interval 2 s vs 1 s', {}, { advertInt: 2, maxAdvertIntCs: 200 }, {}, 'advertIntervalErrors'],
    ['protocol 51', {}, {}, { protocol: 51 }, 'otherProtocolReceived'],
  ];
  for (const [name, specOver, advertOver, ipOver, reason] of drops) {
    it(`drops and counts: ${name}`, () => {
      const v = new ReceiveValidator(receiveSpec(specOver));
      const r = check(v, advert(advertOver), ipOver);
      expect(r).toMatchObject({ verdict: 'drop', reason });
      expect(v.counters[reason as keyof typeof v.counters]).toBe(1);
      expect(v.counters.advertisementsReceived).toBe(0);
    });
  }

  it('drops codec failures with their counter (checksum, type, length)', () => {
    const v = new ReceiveValidator(receiveSpec());
    const p = packet(advert());
    const bad = Buffer.from(p.payload);
    bad[2] ^= 1;
    expect(v.validate(p.ip, bad)).toMatchObject({ verdict: 'drop', reason: 'checksumErrors' });
    const type2 = Buffer.from(p.payload);
    type2[0] = 0x22;
    expect(v.validate(p.ip, type2)).toMatchObject({ verdict: 'drop', reason: 'invalidTypeReceived' });
    expect(v.validate(p.ip, p.payload.subarray(0, 12))).toMatchObject({ verdict: 'drop', reason: 'packetLengthErrors' });
    expect(v.validate(p.ip, p.payload.subarray(0, 1))).toMatchObject({ verdict: 'drop', reason: 'packetLengthErrors' });
    expect(v.counters).toMatchObject({ checksumErrors: 1, invalidTypeReceived: 1, packetLengthErrors: 2 });
  });

  it('unicast instances accept any TTL (keepalived does not check it there)', () => {
    const v = new ReceiveValidator(receiveSpec({ unicastPeers: [PEER] }));
    expect(check(v, advert(), { ttl: 64, dstIp: '10.99.0.1' }).verdict).toBe('accept');
  });

  it('check_unicast_src refuses a non-peer', () => {
    const v = new ReceiveValidator(receiveSpec({ unicastPeers: ['10.99.0.3'], checkUnicastSource: true }));
    expect(check(v, advert(), { dstIp: '10.99.0.1' })).toMatchObject({ verdict: 'drop', reason: 'unicastSourceErrors' });
    const lax = new ReceiveValidator(receiveSpec({ unicastPeers: ['10.99.0.3'] }));
    expect(check(lax, advert(), { dstIp: '10.99.0.1' }).verdict).toBe('accept');
  });

  it('unicast_peer min_ttl/max_ttl: with check_unicast_src a TTL outside the peer\'s range is dropped and counted', () => {
    const spec = receiveSpec({ unicastPeers: [PEER, '10.99.0.3'], checkUnicastSource: true, unicastPeerTtl: { [PEER]: [250, 254] } });
    const v = new ReceiveValidator(spec);
    expect(check(v, advert(), { ttl: 250, dstIp: '10.99.0.1' }).verdict).toBe('accept');
    expect(check(v, advert(), { ttl: 254, dstIp: '10.99.0.1' }).verdict).toBe('accept');
    expect(check(v, advert(), { ttl: 249, dstIp: '10.99.0.1' })).toMatchObject({ verdict: 'drop', reason: 'ipTtlErrors', detail: 'TTL 249 from 10.99.0.2 not in 250..254' });
    expect(check(v, advert(), { ttl: 255, dstIp: '10.99.0.1' })).toMatchObject({ verdict: 'drop', reason: 'ipTtlErrors' });
    expect(v.counters.ipTtlErrors).toBe(2);
    expect(v.counters.advertisementsReceived).toBe(2);
    // A peer without limits: any TTL.
    expect(check(v, advert(), { srcIp: '10.99.0.3', ttl: 1, dstIp: '10.99.0.1' }).verdict).toBe('accept');
    // keepalived 2.2.7 checks the range only with check_unicast_src.
    const lax = new ReceiveValidator({ ...spec, checkUnicastSource: false });
    expect(check(lax, advert(), { ttl: 64, dstIp: '10.99.0.1' }).verdict).toBe('accept');
  });

  it('address list mismatch: accepted and counted (keepalived ≥ 2.3.3)', () => {
    const v = new ReceiveValidator(receiveSpec({ virtualAddresses: ['10.99.0.200', '10.99.0.201'] }));
    expect(check(v, advert())).toMatchObject({ verdict: 'accept', addressListMismatch: true });
    expect(check(v, advert({ addresses: ['10.99.0.201', '10.99.0.200'] }))).toMatchObject({
      verdict: 'accept',
      addressListMismatch: false, // order does not matter
    });
    expect(check(v, advert({ addresses: ['10.99.0.200', '10.99.0.9'] })).verdict).toBe('accept');
    expect(v.counters.addressListErrors).toBe(2);
    expect(v.counters.advertisementsReceived).toBe(3);
  });

  it('ignores other VRIDs and our own packets without counting errors', () => {
    const v = new ReceiveValidator(receiveSpec());
    expect(check(v, advert({ vrid: 52 }))).toEqual({ verdict: 'ignore', reason: 'unknownVrid' });
    expect(check(v, advert(), { srcIp: '10.99.0.1', ttl: 1 })).toEqual({ verdict: 'ignore', reason: 'ownPackets' });
    expect(v.counters).toEqual({ ...newReceiveCounters(), unknownVrid: 1, ownPackets: 1 });
  });

  it('v3: no auth, no interval check (learnt), pseudo-header checksum', () => {
    const v = new ReceiveValidator(receiveSpec({ version: 3, authType: AUTH_NONE, advertIntervalMs: 1000 }));
    const a = advert({ version: 3, maxAdvertIntCs: 50, advertInt: 0.5, authType: AUTH_NONE, authData: new Uint8Array(8) });
    expect(check(v, a).verdict).toBe('accept');
    // checksum computed for another destination fails against the real one
    const p = packet(a, { dstIp: '10.99.0.1' });
    expect(v.validate({ ...p.ip, dstIp: GROUP }, p.payload)).toMatchObject({ verdict: 'drop', reason: 'checksumErrors' });
  });

  it('reconfigure keeps the counters', () => {
    const v = new ReceiveValidator(receiveSpec());
    check(v, advert());
    v.reconfigure(receiveSpec({ authType: AUTH_NONE }));
    expect(check(v, advert()).verdict).toBe('drop');
    expect(v.counters).toMatchObject({ advertisementsReceived: 1, authenticationMismatch: 1 });
  });

  it('constant-time compare is still a correct compare', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });
});

describe('receive dispatcher (one socket, several instances)', () => {
  function raw(a: VrrpAdvert, ttl = 255): Buffer {
    const payload = encodeAdvert(a, { srcIp: PEER, dstIp: GROUP });
    return Buffer.concat([encodeIpv4Header({ srcIp: PEER, dstIp: GROUP, protocol: 112, payloadLength: payload.length, ttl }), payload]);
  }

  it('routes by VRID and counts what belongs to nobody', () => {
    const d = new ReceiveDispatcher<{ name: string; validator: ReceiveValidator }>();
    const a = { name: 'A', validator: new ReceiveValidator(receiveSpec()) };
    const b = { name: 'B', validator: new ReceiveValidator(receiveSpec({ vrid: 52 })) };
    d.set(51, a);
    d.set(52, b);
    const r1 = d.dispatch(raw(advert()));
    expect(r1.delivered && r1.instance.name).toBe('A');
    const r2 = d.dispatch(raw(advert({ vrid: 52 }), 10));
    expect(r2.delivered && r2.instance.name).toBe('B');
    expect(r2.delivered && r2.verdict).toMatchObject({ verdict: 'drop', reason: 'ipTtlErrors' });
    expect(d.dispatch(raw(advert({ vrid: 9 })))).toMatchObject({ delivered: false, reason: 'unknownVrid' });
    expect(d.dispatch(Buffer.alloc(10))).toMatchObject({ delivered: false, reason: 'undecodable' });
    const headerOnly = encodeIpv4Header({ srcIp: PEER, dstIp: GROUP, protocol: 112, payloadLength: 1 });
    expect(d.dispatch(Buffer.concat([headerOnly, Buffer.from([0x21])]))).toMatchObject({ delivered: false, reason: 'undecodable' });
    expect(d.counters).toEqual({ undecodable: 2, unknownVrid: 1 });
    expect(a.validator.counters.advertisementsReceived).toBe(1);
    expect(b.validator.counters.ipTtlErrors).toBe(1);
    d.delete(52);
    expect(d.dispatch(raw(advert({ vrid: 52 })))).toMatchObject({ delivered: false, reason: 'unknownVrid' });
  });

  it('a flood of random packets: never throws, every packet accounted for exactly once', () => {
    const d = new ReceiveDispatcher<{ validator: ReceiveValidator }>();
    const inst = { validator: new ReceiveValidator(receiveSpec()) };
    d.set(51, inst);
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      let pkt: Buffer;
      if (i % 3 === 0) {
        pkt = Buffer.alloc(rand() % 80);
        for (let j = 0; j < pkt.length; j++) pkt[j] = rand() & 0xff;
      } else {
        // a valid packet with a few random byte flips
        pkt = raw(advert());
        const flips = 1 + (rand() % 3);
        for (let f = 0; f < flips; f++) pkt[rand() % pkt.length] = rand() & 0xff;
      }
      d.dispatch(pkt); // a throw fails the test
    }
    const c = inst.validator.counters;
    const perInstance =
      c.advertisementsReceived + // accepted (addressListErrors and priorityZeroReceived are subsets)
      c.packetLengthErrors + c.ipTtlErrors + c.invalidTypeReceived + c.advertIntervalErrors +
      c.authenticationInvalid + c.authenticationMismatch + c.authenticationFailure + c.checksumErrors +
      c.versionErrors + c.otherProtocolReceived + c.unicastSourceErrors + c.unknownVrid + c.ownPackets;
    expect(perInstance + d.counters.undecodable + d.counters.unknownVrid).toBe(N);
    expect(c.checksumErrors).toBeGreaterThan(0);
  });
});

describe('v3 interval 0', () => {
  it('is refused (it would zero every backup down timer)', () => {
    const v = new ReceiveValidator({
      vrid: 51, version: 3, advertIntervalMs: 1000, authType: AUTH_NONE, authData: new Uint8Array(8),
      virtualAddresses: ['10.99.0.200'], unicastPeers: [], ownAddresses: [],
    });
    const payload = encodeAdvert(
      { version: 3, vrid: 51, priority: 100, addresses: ['10.99.0.200'], advertInt: 1, maxAdvertIntCs: 1, authType: 0, authData: new Uint8Array(8) },
      { srcIp: PEER, dstIp: GROUP },
    );
    // patch the interval to 0 and fix the checksum by re-encoding through the decoder's own rules
    payload.writeUInt16BE(0, 4);
    payload.writeUInt16BE(0, 6);
    const pseudo = Buffer.from([10, 99, 0, 2, 224, 0, 0, 18, 0, 112, 0, payload.length]);
    let sum = 0;
    for (const b of [pseudo, payload]) for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    payload.writeUInt16BE(~sum & 0xffff, 6);
    const ip: Ipv4Header = { headerLength: 20, totalLength: 20 + payload.length, ttl: 255, protocol: 112, srcIp: PEER, dstIp: GROUP };
    expect(v.validate(ip, payload)).toMatchObject({ verdict: 'drop', reason: 'advertIntervalErrors' });
  });
});
