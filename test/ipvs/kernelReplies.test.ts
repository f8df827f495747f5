/**
 * Decoding of replies recorded from a real kernel (6.1, Debian) by fixtures/capture-kernel-replies.mts after
 * the table was written by ipvsadm: the decoders must read back exactly what ipvsadm put there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeDestinationReply,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from '../../src/ipvs/codec/requests.js';
import { splitNetlinkMessages } from '../../src/ipvs/codec/message.js';
import { serviceKeyString } from '../../src/ipvs/types.js';

interface Fixture {
  kernel: string;
  replies: Record<string, string[]>;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/kernel-replies.json', import.meta.url), 'utf8')) as Fixture;
const parts = (name: string): Buffer[] => (fixture.replies[name] ?? []).map((h) => Buffer.from(h, 'hex'));

describe(`replies recorded from kernel ${fixture.kernel}`, () => {
  it('every recorded reply is one well-formed netlink data message', () => {
    for (const [name, list] of Object.entries(fixture.replies)) {
      for (const h of list) {
        const msgs = splitNetlinkMessages(Buffer.from(h, 'hex'));
        expect(msgs.map((m) => m.kind), name).toEqual(['data']);
      }
    }
  });

  it('GET_SERVICE dump: the four services ipvsadm added, with scheduler, persistence, mask and flags', () => {
    const services = parts('getServices').map((m) => decodeServiceReply(m));
    const byKey = new Map(services.map((s) => [serviceKeyString(s.key), s]));
    expect([...byKey.keys()].sort()).toEqual(['fwmark:ipv4:7', 'tcp:127.0.1.1:8080', 'tcp:[2001:db8::10]:443', 'udp:10.0.0.53:53']);
    const tcp4 = byKey.get('tcp:127.0.1.1:8080')!;
    expect(tcp4).toMatchObject({ scheduler: 'wlc', persistence: { timeoutSeconds: 300, prefixLength: 31 }, onePacket: false, schedulerFlags: 0 });
    const udp = byKey.get('udp:10.0.0.53:53')!;
    expect(udp).toMatchObject({ scheduler: 'sh', onePacket: true, schedulerFlags: 0x18 });
    expect(udp.persistence).toBeUndefined();
    expect(byKey.get('tcp:[2001:db8::10]:443')).toMatchObject({ scheduler: 'mh', persistence: { timeoutSeconds: 60, prefixLength: 64 } });
    expect(byKey.get('fwmark:ipv4:7')).toMatchObject({ scheduler: 'rr', key: { kind: 'fwmark', fwmark: 7, family: 'ipv4' } });
    for (const s of services) expect(s.stats?.connections).toBe(0);
  });

  it('GET_DEST dumps: NAT/DR/TUN destinations with weights and thresholds', () => {
    const tcp4 = parts('getDests.tcp4').map((p) => decodeDestinationReply(p, 'ipv4'));
    expect(tcp4.map((d) => [d.address, d.port, d.forwarding, d.weight, d.upperThreshold, d.lowerThreshold]).sort()).toEqual([
      ['10.1.0.2', 80, 'nat', 3, 100, 10],
      ['10.1.0.3', 8080, 'dr', 0, 0, 0],
    ]);
    const udp = parts('getDests.udp4').map((p) => decodeDestinationReply(p, 'ipv4'));
    expect(udp).toMatchObject([{ address: '10.1.0.4', port: 53, forwarding: 'tunnel', weight: 1, family: 'ipv4', tunnel: { type: 'ipip', port: 0, flags: 0 } }]);
    const v6 = parts('getDests.tcp6').map((p) => decodeDestinationReply(p, 'ipv6'));
    expect(v6).toMatchObject([{ address: '2001:db8::20', port: 443, forwarding: 'dr', weight: 5, family: 'ipv6' }]);
    expect(parts('getDests.fwmark7')).toEqual([]);
  });

  it('GET_INFO and GET_CONFIG', () => {
    expect(decodeInfoReply(parts('getInfo')[0])).toEqual({ version: '1.2.1', versionCode: 0x010201, connectionTableSize: 4096 });
    expect(decodeTimeoutsReply(parts('getConfig')[0])).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });
});
