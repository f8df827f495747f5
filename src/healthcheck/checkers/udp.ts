import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { UdpCheckSpec } from '../plan.js';
import { downResult, upResult, type ProbeResult } from '../result.js';
import { describeSocketError } from './tcp.js';

/**
 * True when `reply` matches `pattern` (hex digits; `x` matches any nibble) over the bytes both have, as
 * keepalived's check_udp_reply (a shorter reply is judged by the length bounds, not here).
 */
export function matchesPattern(reply: Uint8Array, pattern: string): boolean {
  const hex = pattern.toLowerCase().replace(/[^0-9a-fx]/g, '');
  for (let i = 0; i < hex.length; i++) {
    const byte = reply[i >> 1];
    if (byte === undefined) return true;
    const want = hex[i]!;
    if (want === 'x') continue;
    const nibble = i % 2 === 0 ? byte >> 4 : byte & 0x0f;
    if (nibble !== parseInt(want, 16)) return false;
  }
  return true;
}

/** Null when the reply is acceptable, else why not. */
export function judgeReply(spec: UdpCheckSpec, reply: Uint8Array): string | null {
  if (spec.minReplyLength > 0 && reply.length < spec.minReplyLength) return `reply of ${reply.length} bytes < ${spec.minReplyLength}`;
  if (spec.maxReplyLength > 0 && reply.length > spec.maxReplyLength) return `reply of ${reply.length} bytes > ${spec.maxReplyLength}`;
  if (spec.replyPattern && !matchesPattern(reply, spec.replyPattern)) return `reply does not match ${spec.replyPattern}`;
  return null;
}

/**
 * UDP_CHECK: sends `payload` on a connected UDP socket.
 * - with require_reply: up only if a reply (matching the pattern and length bounds) arrives in connect_timeout;
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
      const problem = judgeReply(spec, msg);
      finish(problem ? downResult(problem, ms()) : upResult(`reply of ${msg.length} bytes`, ms()));
    });
    const send = (): void => {
      socket.connect(spec.target.port, spec.target.host, () => socket.send(Buffer.from(spec.payload)));
    };
    if (spec.target.bindTo || spec.target.bindPort) socket.bind({ address: spec.target.bindTo, port: spec.target.bindPort ?? 0 }, send);
    else send();
  });
}
