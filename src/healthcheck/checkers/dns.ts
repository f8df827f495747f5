import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { DnsCheckSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { classifyReply, encodeQuery } from './dnsMessage.js';
import { describeSocketError } from './tcp.js';

/**
 * DNS_CHECK: one UDP query (type, name); up when a response with our id and RCODE NOERROR arrives within
 * connect_timeout. As keepalived, the answer count is not required (it is reported).
 */
export function probeDns(spec: DnsCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  const ms = (): number => performance.now() - started;
  return new Promise((resolve) => {
    const id = randomInt(0, 0x10000);
    let query: Buffer;
    try {
      query = encodeQuery(id, spec.name, spec.queryType);
    } catch (err) {
      resolve(downResult((err as Error).message, 0));
      return;
    }
    const socket = createSocket(isIPv6(spec.target.host) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish(downResult(`no answer within ${spec.target.timeoutMs} ms`, ms())), spec.target.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => finish(downResult(describeSocketError(err), ms())));
    socket.on('message', (msg) => {
      const v = classifyReply(msg, id);
      if (v.kind === 'ignore') return;
      if (v.rcode !== 0) finish(downResult(`rcode ${v.rcode}`, ms()));
      else finish(upResult(`NOERROR, ${v.answers} answer(s)`, ms()));
    });
    const send = (): void => {
      socket.connect(spec.target.port, spec.target.host, () => socket.send(query));
    };
    if (spec.target.bindTo || spec.target.bindPort) socket.bind({ address: spec.target.bindTo, port: spec.target.bindPort ?? 0 }, send);
    else send();
  });
}
