/**
 * Receive-side validation of VRRP adverts for one instance (pure): RFC 3768 §7.1 / RFC 5798 §7.1 checks
 * in keepalived's order, each failure dropped and counted. Counters are a plain object named after the
 * keepalived exporter's series, so src/metrics/ can read them at scrape time.
 *
 * Where this differs from keepalived 2.2.7 (README "Differences"):
 *  - advert interval mismatch (v2) is dropped AND counted in advertIntervalErrors; keepalived drops silently.
 *  - address-list mismatch is accepted and counted, as keepalived ≥ 2.3.3 does (2.2.7 drops it).
 *  - the password compare is constant-time.
 */
import {
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  VRRP_PROTOCOL,
  advertIntervalMs,
  decodeAdvert,
  peekVrid,
  type VrrpAdvert,
} from '../codec/advertCodec.js';
import { VRRP_IP_TTL } from '../codec/ipv4Header.js';
import { decodeIpPacket, type IpPacketHeader } from '../codec/ipv6Header.js';

/** Per-instance receive counters. Names follow the keepalived exporter; comments give keepalived's stat. */
export interface VrrpReceiveCounters {
  /** Valid adverts for this instance (advert_rcvd). */
  advertisementsReceived: number;
  /** Accepted adverts carrying priority 0: the master is leaving (pri_zero_rcvd). */
  priorityZeroReceived: number;
  /** Too short, or count field larger than the packet (packet_len_err). */
  packetLengthErrors: number;
  /** TTL (IPv6: hop limit) ≠ 255 on a multicast instance, or outside a unicast peer's min_ttl..max_ttl (ip_ttl_err). */
  ipTtlErrors: number;
  /** VRRP type ≠ 1 (invalid_type_rcvd). */
  invalidTypeReceived: number;
  /** v2 advert interval differs from ours, or a v3 interval of 0. keepalived drops these without counting. */
  advertIntervalErrors: number;
  /** Advertised addresses differ from our virtual_ipaddress list (addr_list_err); accepted all the same. */
  addressListErrors: number;
  /** Auth type we do not know (not 0, 1, 2) (invalid_authtype). */
  authenticationInvalid: number;
  /** Auth type differs from ours (authtype_mismatch). */
  authenticationMismatch: number;
  /** PASS password differs, or AH which we do not implement (auth_failure). */
  authenticationFailure: number;
  /** Bad checksum (chk_err). */
  checksumErrors: number;
  /** VRRP version differs from ours, or not 2/3 (vers_err). */
  versionErrors: number;
  /** Not IP protocol 112 (a raw socket bound to 112 should never deliver one). */
  otherProtocolReceived: number;
  /** Unicast instance with check_unicast_src: sender is not one of our peers. */
  unicastSourceErrors: number;
  /** Packets for another VRID on our socket: ignored, not errors (vrid_err). */
  unknownVrid: number;
  /** Our own packets looped back: ignored. */
  ownPackets: number;
}

export function newReceiveCounters(): VrrpReceiveCounters {
  return {
    advertisementsReceived: 0,
    priorityZeroReceived: 0,
    packetLengthErrors: 0,
    ipTtlErrors: 0,
    invalidTypeReceived: 0,
    advertIntervalErrors: 0,
    addressListErrors: 0,
    authenticationInvalid: 0,
    authenticationMismatch: 0,
    authenticationFailure: 0,
    checksumErrors: 0,
    versionErrors: 0,
    otherProtocolReceived: 0,
    unicastSourceErrors: 0,
    unknownVrid: 0,
    ownPackets: 0,
  };
}

export type ReceiveDropReason = Exclude<
  keyof VrrpReceiveCounters,
  'advertisementsReceived' | 'priorityZeroReceived' | 'addressListErrors' | 'unknownVrid' | 'ownPackets'
>;

/** What the validator needs to know about its instance. */
export interface ReceiveSpec {
  vrid: number;
  version: 2 | 3;
  /** Our configured advert interval (v2: must equal the received one; v3: learnt, not checked). */
  advertIntervalMs: number;
  /** AUTH_NONE or AUTH_PASS (v2 only; v3 has no authentication). */
  authType: number;
  /** 8 bytes, see passwordAuthData(); ignored unless authType is AUTH_PASS. */
  authData: Uint8Array;
  /** Our virtual_ipaddress list (what the master should advertise). */
  virtualAddresses: readonly string[];
  /** Empty: multicast instance (TTL 255 enforced). Otherwise the unicast peers. */
  unicastPeers: readonly string[];
  /** Addresses we send from: a packet from one of them is our own, looped back. */
  ownAddresses: readonly string[];
  /**
   * keepalived's check_unicast_src / vrrp_check_unicast_src: refuse unicast adverts from a non-peer, and
   * from a peer whose TTL is outside its unicastPeerTtl range.
   */
  checkUnicastSource?: boolean;
  /** unicast_peer { ADDR min_ttl N max_ttl N }: inclusive TTL range per peer (default 0..255). */
  unicastPeerTtl?: Readonly<Record<string, readonly [number, number]>>;
}

export type ReceiveVerdict =
  | {
      verdict: 'accept';
      advert: VrrpAdvert;
      srcIp: string;
      /** The advertised address list differs from ours (counted; accepted anyway). */
      addressListMismatch: boolean;
    }
  | { verdict: 'drop'; reason: ReceiveDropReason; detail: string }
  | { verdict: 'ignore'; reason: 'unknownVrid' | 'ownPackets' };

/** Constant-time equality of two byte strings of the same length (here: 8 bytes of auth data). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function sameAddressSet(advertised: readonly string[], ours: readonly string[]): boolean {
  if (advertised.length !== ours.length) return false;
  const set = new Set(advertised);
  return ours.every((a) => set.has(a));
}

export class ReceiveValidator {
  readonly counters: VrrpReceiveCounters;

  constructor(
    private spec: ReceiveSpec,
    counters: VrrpReceiveCounters = newReceiveCounters(),
  ) {
    this.counters = counters;
  }

  /** For SIGHUP reload: new settings, same counters. */
  reconfigure(spec: ReceiveSpec): void {
    this.spec = spec;
  }

  /** Validates one received packet: the decoded IPv4 or IPv6 header and its payload (the VRRP message). */
  validate(ip: IpPacketHeader, payload: Uint8Array): ReceiveVerdict {
    const spec = this.spec;
    if (ip.protocol !== VRRP_PROTOCOL) return this.drop('otherProtocolReceived', `IP protocol ${ip.protocol}`);
    const vrid = peekVrid(payload);
    if (vrid === undefined) return this.drop('packetLengthErrors', `${payload.length} bytes`);
    // Other VRIDs and our own looped-back packets are not errors: ignore before any check can count them.
    if (vrid !== spec.vrid) return this.ignore('unknownVrid');
    if (spec.ownAddresses.includes(ip.srcIp)) return this.ignore('ownPackets');
    // RFC 3768 §7.1 MUST: TTL 255. keepalived (vrrp_in_chk) checks it only for multicast instances: a
    // unicast advert may cross routers (unicast_ttl), so any TTL is accepted there. We do the same.
    if (spec.unicastPeers.length === 0 && ip.ttl !== VRRP_IP_TTL) {
      return this.drop('ipTtlErrors', `${ip.srcIp.includes(':') ? 'hop limit' : 'TTL'} ${ip.ttl}`);
    }
    const decoded = decodeAdvert(payload, { srcIp: ip.srcIp, dstIp: ip.dstIp });
    if (!decoded.ok) return this.drop(decoded.reason, decoded.detail);
    const advert = decoded.advert;
    if (advert.version !== spec.version) {
      return this.drop('versionErrors', `version ${advert.version}, ours ${spec.version}`);
    }
    if (advert.version === 2) {
      if (advert.authType !== AUTH_NONE && advert.authType !== AUTH_PASS && advert.authType !== AUTH_AH) {
        return this.drop('authenticationInvalid', `auth type ${advert.authType}`);
      }
      if (advert.authType !== spec.authType) {
        return this.drop('authenticationMismatch', `auth type ${advert.authType}, ours ${spec.authType}`);
      }
      if (spec.authType === AUTH_AH) {
        return this.drop('authenticationFailure', 'IPSEC-AH is not implemented');
      }
      if (spec.authType === AUTH_PASS && !constantTimeEqual(advert.authData, spec.authData)) {
        return this.drop('authenticationFailure', 'wrong password');
      }
      // RFC 3768 §7.1 MUST: same advert interval, else drop (two masters could otherwise coexist).
      if (advertIntervalMs(advert) !== spec.advertIntervalMs) {
        return this.drop(
          'advertIntervalErrors',
          `interval ${advertIntervalMs(advert)} ms, ours ${spec.advertIntervalMs} ms`,
        );
      }
    }
    // v3: a zero interval would make every backup's master-down timer zero (instant takeover); RFC 5798
    // gives it no meaning, so it is refused like a v2 mismatch.
    if (advert.version === 3 && advert.maxAdvertIntCs === 0) {
      return this.drop('advertIntervalErrors', 'v3 max advert interval 0');
    }
    if (spec.checkUnicastSource && spec.unicastPeers.length > 0) {
      if (!spec.unicastPeers.includes(ip.srcIp)) return this.drop('unicastSourceErrors', `${ip.srcIp} is not a unicast peer`);
      // keepalived 2.2.7 (vrrp_check_packet): the peer's TTL range, checked only with check_unicast_src.
      const range = spec.unicastPeerTtl?.[ip.srcIp];
      if (range && (ip.ttl < range[0] || ip.ttl > range[1])) {
        return this.drop('ipTtlErrors', `TTL ${ip.ttl} from ${ip.srcIp} not in ${range[0]}..${range[1]}`);
      }
    }
    this.counters.advertisementsReceived++;
    // RFC 3768 §7.1 MAY verify the addresses; keepalived ≥ 2.3.3 logs, counts and still accepts, because
    // refusing would let both routers become master over a configuration typo.
    const addressListMismatch = !sameAddressSet(advert.addresses, spec.virtualAddresses);
    if (addressListMismatch) this.counters.addressListErrors++;
    if (advert.priority === 0) this.counters.priorityZeroReceived++;
    return { verdict: 'accept', advert, srcIp: ip.srcIp, addressListMismatch };
  }

  private drop(reason: ReceiveDropReason, detail: string): ReceiveVerdict {
    this.counters[reason]++;
    return { verdict: 'drop', reason, detail };
  }

  private ignore(reason: 'unknownVrid' | 'ownPackets'): ReceiveVerdict {
    this.counters[reason]++;
    return { verdict: 'ignore', reason };
  }
}

/** Counters of packets a socket received that could not be given to any instance. */
export interface SocketReceiveCounters {
  /** Not even an IPv4 header, or too short to carry a VRID. */
  undecodable: number;
  /** No instance on this socket has that VRID. */
  unknownVrid: number;
}

export type DispatchResult<T> =
  | { delivered: true; instance: T; verdict: ReceiveVerdict }
  | { delivered: false; reason: keyof SocketReceiveCounters; detail: string };

/**
 * Routes raw packets from one socket (IPv4 header included, as raw sockets deliver them; IPv6 with the
 * header the addon rebuilds, see src/vrrp/codec/ipv6Header.ts) to the
 * validator of the instance with that VRID. Several instances can share an interface's socket.
 */
export class ReceiveDispatcher<T extends { validator: ReceiveValidator }> {
  readonly counters: SocketReceiveCounters = { undecodable: 0, unknownVrid: 0 };
  private readonly byVrid = new Map<number, T>();

  set(vrid: number, instance: T): void {
    this.byVrid.set(vrid, instance);
  }

  delete(vrid: number): void {
    this.byVrid.delete(vrid);
  }

  dispatch(packet: Uint8Array): DispatchResult<T> {
    const ip = decodeIpPacket(packet);
    if (!ip.ok) {
      this.counters.undecodable++;
      return { delivered: false, reason: 'undecodable', detail: ip.detail };
    }
    const vrid = peekVrid(ip.payload);
    if (vrid === undefined) {
      this.counters.undecodable++;
      return { delivered: false, reason: 'undecodable', detail: `${ip.payload.length}-byte payload` };
    }
    const instance = this.byVrid.get(vrid);
    if (!instance) {
      this.counters.unknownVrid++;
      return { delivered: false, reason: 'unknownVrid', detail: `VRID ${vrid}` };
    }
    return { delivered: true, instance, verdict: instance.validator.validate(ip.header, ip.payload) };
  }
}
