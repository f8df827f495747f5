import type { DnsRecordType } from '../plan.js';

/** RFC 1035 type codes of the records DNS_CHECK can ask for. */
export const DNS_TYPE_CODES: Record<DnsRecordType, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28,
};

/** A query as keepalived's dns_make_query builds it: one question, class IN, recursion desired. */
export function encodeQuery(id: number, name: string, type: DnsRecordType): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const qname: number[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad DNS label in ${JSON.stringify(name)}`);
    qname.push(bytes.length, ...bytes);
  }
  qname.push(0);
  const buf = Buffer.alloc(12 + qname.length + 4);
  buf.writeUInt16BE(id & 0xffff, 0);
  buf.writeUInt16BE(0x0100, 2); // RD
  buf.writeUInt16BE(1, 4); // QDCOUNT
  Buffer.from(qname).copy(buf, 12);
  buf.writeUInt16BE(DNS_TYPE_CODES[type], 12 + qname.length);
  buf.writeUInt16BE(1, 12 + qname.length + 2); // class IN
  return buf;
}

export type DnsReplyVerdict =
  | { kind: 'ignore'; why: string } // not ours: keep waiting, as keepalived does
  | { kind: 'answer'; rcode: number; answers: number };

/** Judges a datagram received on the query's socket. */
export function classifyReply(reply: Buffer, id: number): DnsReplyVerdict {
  if (reply.length < 12) return { kind: 'ignore', why: 'shorter than a DNS header' };
  if (reply.readUInt16BE(0) !== (id & 0xffff)) return { kind: 'ignore', why: 'id mismatch' };
  const flags = reply.readUInt16BE(2);
  if ((flags & 0x8000) === 0) return { kind: 'ignore', why: 'not a response' };
  return { kind: 'answer', rcode: flags & 0x000f, answers: reply.readUInt16BE(6) };
}
