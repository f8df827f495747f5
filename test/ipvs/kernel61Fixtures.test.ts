/**
 * Decoding of the datagrams recorded by the VM harness (fixtures/kernel-6.1, see its README): requests
 * encoded by hand there, table written by ipvsadm, expectations taken from ipvsadm's own reading
 * (fixtures/kernel-6.1/ipvsadm.txt).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitNetlinkMessages } from '../../src/ipvs/codec/message.js';
import {
  decodeDestinationReply,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from '../../src/ipvs/codec/requests.js';
import { serviceKeyString, type IpFamily } from '../../src/ipvs/types.js';

interface Recorded {
  replies: string[];
}
const load = (name: string): Recorded =>
  JSON.parse(readFileSync(new URL(`./fixtures/kernel-6.1/${name}.json`, import.meta.url), 'utf8')) as Recorded;

/** Data messages of all datagrams; asserts the exchange ended with DONE (dump) or ACK (do). */
function dataMessages(name: string, dump: boolean): Buffer[] {
  const msgs = load(name).replies.flatMap((h) => splitNetlinkMessages(Buffer.from(h, 'hex')));
  const last = msgs[msgs.length - 1];
  if (dump) expect(last.kind).toBe('done');
  else expect(last).toMatchObject({ kind: 'error', errno: 0 });
  return msgs.filter((m) => m.kind === 'data').map((m) => m.raw);
}

const dests = (name: string, family: IpFamily) => dataMessages(name, true).map((m) => decodeDestinationReply(m, family));

describe('kernel 6.1 recordings (VM harness)', () => {
  it('GET_SERVICE dump: 7 services with schedulers, flags, persistence and traffic stats', () => {
    const services = dataMessages('get-service-dump', true).map((m) => decodeServiceReply(m));
    const byKey = new Map(services.map((s) => [serviceKeyString(s.key), s]));
    expect([...byKey.keys()].sort()).toEqual([
      'fwmark:ipv4:7',
      'fwmark:ipv6:9',
      'sctp:10.99.0.3:3868',
      'tcp:10.99.0.1:80',
      'tcp:[fd00:99::1]:80',
      'udp:10.99.0.2:53',
    ].sort());
    expect(services).toHaveLength(6);
    expect(byKey.get('tcp:10.99.0.1:80')).toMatchObject({ scheduler: 'wlc', persistence: { timeoutSeconds: 300, prefixLength: 24 } });
    expect(byKey.get('tcp:10.99.0.1:80')!.stats).toMatchObject({ connections: 5, packetsIn: 31, packetsOut: 29, bytesIn: 2057, bytesOut: 2473 });
    expect(byKey.get('tcp:[fd00:99::1]:80')).toMatchObject({ scheduler: 'rr', persistence: { timeoutSeconds: 120, prefixLength: 64 } });
    expect(byKey.get('tcp:[fd00:99::1]:80')!.stats).toMatchObject({ connections: 5, bytesIn: 2692, bytesOut: 3053 });
    expect(byKey.get('udp:10.99.0.2:53')).toMatchObject({ scheduler: 'rr', onePacket: true, schedulerFlags: 0 });
    expect(byKey.get('sctp:10.99.0.3:3868')).toMatchObject({ scheduler: 'sh', schedulerFlags: 0x18 });
    expect(byKey.get('fwmark:ipv4:7')).toMatchObject({ scheduler: 'mh', schedulerFlags: 0x08, persistence: { timeoutSeconds: 60, prefixLength: 32 } });
    expect(byKey.get('fwmark:ipv6:9')).toMatchObject({ scheduler: 'lc' });
  });

  it('GET_SERVICE of one service is a single reply then an ACK', () => {
    const [one] = dataMessages('get-service-ipv4-tcp', false).map((m) => decodeServiceReply(m));
    expect(serviceKeyString(one.key)).toBe('tcp:10.99.0.1:80');
  });

  it('GET_DEST dumps: NAT thresholds and counters, DR weight 0, TUN gue:6080 nocsum and gre csum', () => {
    const tcp = dests('get-dest-dump-ipv4-tcp', 'ipv4');
    const by = new Map(tcp.map((d) => [d.address, d]));
    expect(by.get('10.99.1.2')).toMatchObject({ port: 80, forwarding: 'nat', weight: 5, upperThreshold: 1000, lowerThreshold: 100, activeConnections: 0, inactiveConnections: 5, persistentConnections: 1 });
    expect(by.get('10.99.1.2')!.stats).toMatchObject({ connections: 5, packetsIn: 31, bytesIn: 2057, bytesOut: 2473 });
    expect(by.get('10.99.1.3')).toMatchObject({ forwarding: 'dr', weight: 0 });
    expect(by.get('10.99.1.4')).toMatchObject({ forwarding: 'tunnel', weight: 2, tunnel: { type: 'gue', port: 6080, flags: 0 } });
    expect(by.get('10.99.1.5')).toMatchObject({ forwarding: 'tunnel', weight: 3, tunnel: { type: 'gre', port: 0, flags: 1 } });
    expect(dests('get-dest-dump-ipv4-udp', 'ipv4')).toMatchObject([{ address: '10.99.1.2', port: 53, forwarding: 'nat', weight: 1 }]);
    expect(dests('get-dest-dump-ipv4-sctp', 'ipv4')).toMatchObject([{ address: '10.99.1.2', port: 3868, forwarding: 'dr' }]);
    expect(dests('get-dest-dump-ipv4-fwmark', 'ipv4')).toMatchObject([{ address: '10.99.1.2', port: 0, forwarding: 'dr', weight: 4 }]);
    const v6 = new Map(dests('get-dest-dump-ipv6-tcp', 'ipv6').map((d) => [d.address, d]));
    expect(v6.get('fd00:98::2')).toMatchObject({ port: 80, forwarding: 'nat', weight: 7, family: 'ipv6', inactiveConnections: 5 });
    expect(v6.get('fd00:98::3')).toMatchObject({ port: 80, forwarding: 'dr', weight: 1 });
    expect(dests('get-dest-dump-ipv6-fwmark', 'ipv6')).toMatchObject([{ address: 'fd00:98::2', port: 0, forwarding: 'tunnel', tunnel: { type: 'ipip' } }]);
  });

  it('GET_DEST of a missing service is an empty dump, not an error', () => {
    expect(dests('get-dest-missing-service', 'ipv4')).toEqual([]);
  });

  it('GET_INFO and GET_CONFIG', () => {
    expect(decodeInfoReply(dataMessages('get-info', false)[0])).toMatchObject({ version: '1.2.1', connectionTableSize: 4096 });
    expect(decodeTimeoutsReply(dataMessages('get-config', false)[0])).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });
});
