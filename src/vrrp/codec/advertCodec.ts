/**
 * VRRP advertisement codec (pure).
 *
 * v2 (RFC 3768):                              v3 for IPv4 and IPv6 (RFC 5798):
 *   0: version<<4 | type  1: VRID               0: version<<4 | type  1: VRID
 *   2: priority           3: count IP addrs     2: priority           3: count IPvX addrs
 *   4: auth type          5: advert int (s)     4-5: rsvd(4 bits) | max advert int (12 bits, centiseconds)
 *   6-7: checksum                               6-7: checksum
 *   8..: addresses, then 8 bytes auth data      8..: addresses
 *
 * The v2 checksum covers the VRRP message only; the v3 checksum starts with the IPv4 pseudo-header
 * (src, dst, 0, protocol 112, VRRP length) or the IPv6 one (RFC 8200 §8.1: src, dst, 32-bit length,
 * 3 zero bytes, next header 112), so encode and decode need the IP addresses of the packet. The family of
 * the envelope is the family of the advert: an IPv6 advert carries 16-byte addresses (v3 only).
 * Bytes past the length the header declares (Ethernet padding of short frames) are ignored.
 */
import { onesComplementAdd, finishChecksum } from '../../util/internetChecksum.js';
import { formatIpv4, ipv4Bytes, parseIpv4 } from './ipv4Address.js';
import { formatIpv6, ipv6Bytes, parseIpv6 } from './ipv6Address.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_MULTICAST_GROUP = '224.0.0.18';
/** RFC 5798 §5.1.2.2: the IPv6 VRRP group (keepalived's vrrp_mcast_group6 default). */
export const VRRP_MULTICAST_GROUP6 = 'ff02::12';
export const VRRP_ADVERTISEMENT_TYPE = 1;
export const VRRP_HEADER_LENGTH = 8;
export const VRRP_V2_AUTH_DATA_LENGTH = 8;

/** v2 authentication types (RFC 2338 §5.3.6; RFC 3768 deprecates them but keepalived still speaks 1). */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

export interface VrrpAdvert {
  version: 2 | 3;
  /** Virtual router id, 1..255. */
  vrid: number;
  /** 0 = the master is leaving, 255 = address owner. */
  priority: number;
  /** The virtual addresses announced, in packet order: dotted quads, or RFC 5952 text in an IPv6 advert. */
  addresses: string[];
  /** v2: advertisement interval in whole seconds (1..255). v3: decode fills maxAdvertIntCs / 100. */
  advertInt: number;
  /** v3: maximum advertisement interval in centiseconds (1..4095). v2: decode fills advertInt × 100. */
  maxAdvertIntCs: number;
  /**
   * v2 only (v3 has none; decode gives 0): AUTH_NONE, AUTH_PASS or AUTH_AH. A plain number because a
   * received packet may carry any byte here; the receive validator counts the unknown ones.
   */
  authType: number;
  /** v2 only: the 8 bytes after the addresses (the password, NUL-padded, for PASS). v3: 8 zero bytes. */
  authData: Uint8Array;
}

/** The IP addresses of the packet the advert travels in: the v3 checksum covers them. */
export interface AdvertEnvelope {
  srcIp: string;
  dstIp: string;
}

/**
 * Why a received buffer was not a valid advertisement. Each reason is the name of the per-instance
 * counter it increments (see src/vrrp/core/receiveValidator.ts), so edges can `counters[reason]++`.
 */
export type AdvertDecodeFailure =
  | 'packetLengthErrors'
  | 'versionErrors'
  | 'invalidTypeReceived'
  | 'checksumErrors';

/** The contract's name for it (issue 3). */
export type DropReason = AdvertDecodeFailure;

export type AdvertDecodeResult =
  | { ok: true; advert: VrrpAdvert }
  | { ok: false; reason: AdvertDecodeFailure; detail: string };

/** Address family of a VRRP packet. */
export type VrrpFamily = 'inet' | 'inet6';

/** The family of an envelope: IPv6 when its source is an IPv6 address. */
export function envelopeFamily(envelope: AdvertEnvelope): VrrpFamily {
  return envelope.srcIp.includes(':') ? 'inet6' : 'inet';
}

/** Bytes of one advertised address. */
export function addressBytes(family: VrrpFamily): 4 | 16 {
  return family === 'inet6' ? 16 : 4;
}

/** Declared VRRP message length for a version and address count (v2 carries 8 bytes of auth data). */
export function advertLength(version: 2 | 3, addressCount: number, family: VrrpFamily = 'inet'): number {
  return VRRP_HEADER_LENGTH + addressBytes(family) * addressCount + (version === 2 ? VRRP_V2_AUTH_DATA_LENGTH : 0);
}

/**
 * The 8 bytes of v2 PASS authentication data for a password: keepalived keeps the first 8 bytes of
 * `auth_pass` and pads with NUL.
 */
export function passwordAuthData(password: string): Uint8Array {
  const data = new Uint8Array(VRRP_V2_AUTH_DATA_LENGTH);
  data.set(Buffer.from(password, 'utf8').subarray(0, VRRP_V2_AUTH_DATA_LENGTH));
  return data;
}

/** The advertisement interval the advert announces, in milliseconds. */
export function advertIntervalMs(advert: VrrpAdvert): number {
  return advert.version === 2 ? advert.advertInt * 1000 : advert.maxAdvertIntCs * 10;
}

function pseudoHeaderSum(envelope: AdvertEnvelope, vrrpLength: number): number {
  if (envelopeFamily(envelope) === 'inet6') {
    const src6 = parseIpv6(envelope.srcIp);
    const dst6 = parseIpv6(envelope.dstIp);
    if (!src6 || !dst6) throw new RangeError(`envelope needs IPv6 addresses, got ${envelope.srcIp} → ${envelope.dstIp}`);
    const pseudo6 = new Uint8Array(40);
    pseudo6.set(src6, 0);
    pseudo6.set(dst6, 16);
    pseudo6[34] = vrrpLength >> 8;
    pseudo6[35] = vrrpLength & 0xff;
    pseudo6[39] = VRRP_PROTOCOL;
    return onesComplementAdd(0, pseudo6);
  }
  const pseudo = new Uint8Array(12);
  const src = parseIpv4(envelope.srcIp);
  const dst = parseIpv4(envelope.dstIp);
  if (!src || !dst) throw new RangeError(`envelope needs IPv4 addresses, got ${envelope.srcIp} → ${envelope.dstIp}`);
  pseudo.set(src, 0);
  pseudo.set(dst, 4);
  pseudo[8] = 0;
  pseudo[9] = VRRP_PROTOCOL;
  pseudo[10] = vrrpLength >> 8;
  pseudo[11] = vrrpLength & 0xff;
  return onesComplementAdd(0, pseudo);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/**
 * Encodes an advertisement (the VRRP message only, no IP header). Throws RangeError on values the
 * wire cannot carry: those come from our own configuration, which the config compiler validated.
 */
export function encodeAdvert(advert: VrrpAdvert, envelope: AdvertEnvelope): Buffer {
  checkInteger('vrid', advert.vrid, 1, 255);
  checkInteger('priority', advert.priority, 0, 255);
  checkInteger('address count', advert.addresses.length, 0, 255);
  const family = envelopeFamily(envelope);
  if (family === 'inet6' && advert.version !== 3) throw new RangeError('an IPv6 advert is VRRPv3');
  const length = advertLength(advert.version, advert.addresses.length, family);
  const buf = Buffer.alloc(length);
  buf[0] = (advert.version << 4) | VRRP_ADVERTISEMENT_TYPE;
  buf[1] = advert.vrid;
  buf[2] = advert.priority;
  buf[3] = advert.addresses.length;
  if (advert.version === 2) {
    checkInteger('advertInt', advert.advertInt, 1, 255);
    checkInteger('authType', advert.authType, 0, 255); // any byte: test tools send unknown types
    buf[4] = advert.authType;
    buf[5] = advert.advertInt;
  } else {
    checkInteger('maxAdvertIntCs', advert.maxAdvertIntCs, 1, 0x0fff);
    buf.writeUInt16BE(advert.maxAdvertIntCs & 0x0fff, 4); // the 4 reserved bits stay zero
  }
  const size = addressBytes(family);
  advert.addresses.forEach((address, i) =>
    buf.set(family === 'inet6' ? ipv6Bytes(address) : ipv4Bytes(address), VRRP_HEADER_LENGTH + size * i),
  );
  if (advert.version === 2) {
    if (advert.authData.length > VRRP_V2_AUTH_DATA_LENGTH) throw new RangeError('authData is at most 8 bytes');
    buf.set(advert.authData, VRRP_HEADER_LENGTH + size * advert.addresses.length);
  }
  const start = advert.version === 3 ? pseudoHeaderSum(envelope, length) : 0;
  buf.writeUInt16BE(finishChecksum(onesComplementAdd(start, buf)), 6);
  return buf;
}

/**
 * Decodes a received VRRP message (the IP payload). Never throws: anything malformed comes back as
 * { ok: false, reason } naming the counter to increment. Checks, in order: minimum length, version
 * (2 or 3), type (advertisement), declared length, checksum. Semantic checks against the instance
 * configuration (VRID, auth, interval, addresses, TTL) are the receive validator's.
 */
export function decodeAdvert(buf: Uint8Array, envelope: AdvertEnvelope): AdvertDecodeResult {
  if (buf.length < VRRP_HEADER_LENGTH) {
    return { ok: false, reason: 'packetLengthErrors', detail: `${buf.length} bytes, shorter than the VRRP header` };
  }
  const version = buf[0] >> 4;
  if (version !== 2 && version !== 3) {
    return { ok: false, reason: 'versionErrors', detail: `version ${version}` };
  }
  const type = buf[0] & 0x0f;
  if (type !== VRRP_ADVERTISEMENT_TYPE) {
    return { ok: false, reason: 'invalidTypeReceived', detail: `type ${type}` };
  }
  const family = envelopeFamily(envelope);
  if (family === 'inet6' && version !== 3) {
    return { ok: false, reason: 'versionErrors', detail: `version ${version} over IPv6` };
  }
  const count = buf[3];
  const length = advertLength(version, count, family);
  if (buf.length < length) {
    return {
      ok: false,
      reason: 'packetLengthErrors',
      detail: `${buf.length} bytes, ${count} addresses need ${length}`,
    };
  }
  const message = buf.subarray(0, length); // anything after is padding
  let start = 0;
  if (version === 3) {
    const parse = family === 'inet6' ? parseIpv6 : parseIpv4;
    if (!parse(envelope.srcIp) || !parse(envelope.dstIp)) {
      return { ok: false, reason: 'checksumErrors', detail: 'no IP addresses of one family for the v3 pseudo-header' };
    }
    start = pseudoHeaderSum(envelope, length);
  }
  if (finishChecksum(onesComplementAdd(start, message)) !== 0) {
    return { ok: false, reason: 'checksumErrors', detail: `bad v${version} checksum` };
  }
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    addresses.push(
      family === 'inet6' ? formatIpv6(message, VRRP_HEADER_LENGTH + 16 * i) : formatIpv4(message, VRRP_HEADER_LENGTH + 4 * i),
    );
  }
  if (version === 2) {
    const advertInt = message[5];
    const authType = message[4];
    return {
      ok: true,
      advert: {
        version,
        vrid: message[1],
        priority: message[2],
        addresses,
        advertInt,
        maxAdvertIntCs: advertInt * 100,
        authType,
        authData: Uint8Array.from(message.subarray(length - VRRP_V2_AUTH_DATA_LENGTH, length)),
      },
    };
  }
  const maxAdvertIntCs = ((message[4] << 8) | message[5]) & 0x0fff;
  return {
    ok: true,
    advert: {
      version,
      vrid: message[1],
      priority: message[2],
      addresses,
      advertInt: maxAdvertIntCs / 100,
      maxAdvertIntCs,
      authType: AUTH_NONE,
      authData: new Uint8Array(VRRP_V2_AUTH_DATA_LENGTH),
    },
  };
}

/** The VRID byte of a received message, to route it to its instance before full validation. */
export function peekVrid(buf: Uint8Array): number | undefined {
  return buf.length >= 2 ? buf[1] : undefined;
}
