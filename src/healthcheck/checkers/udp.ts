import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { UdpCheckSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { describeSocketError } from './tcp.js';

/**
 * UDP_CHECK: sends `payload` on a connected UDP socket.
 * - with require_reply: up only if a reply starting with those bytes arrives within connect_timeout;
 * - without: up unless the kernel reports an ICMP error (port unreachable → ECONNREFUSED) in that time;
 *   any reply also counts as up.
 */
export function probeUdp(spec: UdpCheckSpec): Promise<ProbeResult> {
  const started = performance.now();
  const ms = (): number => performance.now() - started;
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(spec.target.host) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish(spec.requireReply ? downResult(`no reply within ${spec.target.timeoutMs} ms`, ms()) : upResult('no ICMP error', ms()));
    }, spec.target.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => finish(downResult(describeSocketError(err), ms())));
    socket.on('message', (msg) => {
      const want = spec.requireReply;
      if (!want) return finish(upResult('reply received', ms()));
      if (msg.length >= want.length && Buffer.from(want).equals(msg.subarray(0, want.length))) {
        finish(upResult('expected reply', ms()));
      } else {
        finish(downResult(`unexpected reply (${msg.length} bytes)`, ms()));
      }
    });
    const send = (): void => {
      socket.connect(spec.target.port, spec.target.host, () => socket.send(Buffer.from(spec.payload)));
    };
    if (spec.target.bindTo || spec.target.bindPort) socket.bind({ address: spec.target.bindTo, port: spec.target.bindPort ?? 0 }, send);
    else send();
  });
}
