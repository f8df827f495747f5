/**
 * The real transport against the host's real kernel. The host has no IPVS, so the batching is exercised on
 * the generic netlink controller (family 0x10), which needs no privileges: GETFAMILY of a known family
 * replies, of an unknown one fails with ENOENT — in the middle of an ACK-less batch too.
 */
import { describe, expect, it } from 'vitest';
import { AttributeReader, stringAttr } from '../../src/ipvs/codec/attributes.js';
import { CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, GENL_ID_CTRL } from '../../src/ipvs/codec/constants.js';
import { decodeGenlMessage, encodeGenlRequest } from '../../src/ipvs/codec/message.js';
import { IpvsNoEntryError, IpvsTimeoutError, IpvsUnavailableError } from '../../src/ipvs/errors.js';
import { GenericNetlinkTransport } from '../../src/ipvs/netlinkTransport.js';
import { FakeClock } from '../../src/util/clock.js';

const getFamily = (name: string): Buffer =>
  encodeGenlRequest({ familyId: GENL_ID_CTRL, cmd: CTRL_CMD_GETFAMILY, version: 1, dump: false, attributes: stringAttr(CTRL_ATTR_FAMILY_NAME, name) });
const familyIdOf = (parts: Buffer[]): number | undefined => new AttributeReader(decodeGenlMessage(parts[0]).attributes).u16(CTRL_ATTR_FAMILY_ID);

describe('GenericNetlinkTransport on the real kernel', () => {
  it('batches: successes resolve with their replies, a failure in the middle rejects only itself', async () => {
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL, { batchSize: 4, batchesInFlight: 2 });
    try {
      const names = Array.from({ length: 23 }, (_, i) => (i % 5 === 2 ? `tsl-nosuch${i}` : 'nlctrl'));
      const results = await Promise.allSettled(names.map((n) => t.request(getFamily(n), { dump: false })));
      results.forEach((r, i) => {
        if (names[i] === 'nlctrl') {
          expect(r.status, `request ${i}`).toBe('fulfilled');
          if (r.status === 'fulfilled') expect(familyIdOf(r.value)).toBe(GENL_ID_CTRL);
        } else {
          expect(r.status, `request ${i}`).toBe('rejected');
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IpvsNoEntryError);
        }
      });
      // 23 requests in batches of 4 → 6 datagrams; the replies of the batches came back as datagrams too
      expect(t.counters.requests).toBe(23);
      expect(t.counters.unmatchedMessages).toBe(0);
      expect(t.counters.timeouts).toBe(0);
    } finally {
      t.close();
    }
  });

  it('a dump runs alone and ends at DONE', async () => {
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL);
    try {
      const dump = encodeGenlRequest({ familyId: GENL_ID_CTRL, cmd: CTRL_CMD_GETFAMILY, version: 1, dump: true, attributes: Buffer.alloc(0) });
      const [a, b, one] = await Promise.all([
        t.request(dump, { dump: true }),
        t.request(dump, { dump: true }),
        t.request(getFamily('nlctrl'), { dump: false }),
      ]);
      expect(a.length).toBeGreaterThan(1);
      expect(b.length).toBe(a.length);
      expect(familyIdOf(one)).toBe(GENL_ID_CTRL);
    } finally {
      t.close();
    }
  });

  it('drops and counts what is not a reply of ours (garbage, another sender, unknown sequence) and keeps working', async () => {
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL);
    try {
      const socket = (t as unknown as { socket: { emit(e: string, m: Buffer, r: { port: number; groups: number }): void } }).socket;
      const bogusLength = Buffer.alloc(20);
      bogusLength.writeUInt32LE(9999, 0);
      socket.emit('message', bogusLength, { port: 0, groups: 0 });
      const stray = Buffer.alloc(20);
      stray.writeUInt32LE(20, 0);
      stray.writeUInt16LE(3, 4); // DONE
      stray.writeUInt32LE(424242, 8);
      socket.emit('message', stray, { port: 0, groups: 0 });
      socket.emit('message', stray, { port: 1234, groups: 0 });
      expect(t.counters.malformedDatagrams).toBe(1);
      expect(t.counters.unmatchedMessages).toBe(2);
      expect(familyIdOf(await t.request(getFamily('nlctrl'), { dump: false }))).toBe(GENL_ID_CTRL);
    } finally {
      t.close();
    }
  });

  // 32 KiB reads: the kernel sizes dump datagrams by the reader's largest read, so the data of a small dump is
  // one datagram; kernels from about 6.10 also pack the DONE into it (this host, 6.18: exactly one per dump),
  // older ones (the VM's 6.1) send the DONE alone: at most two.
  it('1,000 queued dumps each come back whole, in at most two datagrams', async () => {
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL);
    try {
      const dump = encodeGenlRequest({ familyId: GENL_ID_CTRL, cmd: CTRL_CMD_GETFAMILY, version: 1, dump: true, attributes: Buffer.alloc(0) });
      const first = await t.request(dump, { dump: true });
      const before = t.counters.datagramsReceived;
      const all = await Promise.all(Array.from({ length: 1000 }, () => t.request(dump, { dump: true })));
      expect(all.every((parts) => parts.length === first.length)).toBe(true);
      const datagrams = t.counters.datagramsReceived - before;
      expect(datagrams).toBeGreaterThanOrEqual(1000);
      expect(datagrams).toBeLessThanOrEqual(2000);
      expect(t.counters.truncatedDatagrams).toBe(0);
      expect(t.counters.unmatchedMessages).toBe(0);
    } finally {
      t.close();
    }
  });

  it('one sweep timer: a batch without an answer fails with IpvsTimeoutError, its late reply is dropped, the transport goes on', async () => {
    const clock = new FakeClock(0);
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL, { clock, timeoutMs: 1000 });
    try {
      const a = t.request(getFamily('nlctrl'), { dump: false });
      const b = t.request(getFamily('nlctrl'), { dump: false });
      await Promise.resolve(); // the queued requests leave (microtask)
      expect(clock.pending).toBe(1);
      clock.advance(999);
      clock.advance(1);
      await expect(a).rejects.toBeInstanceOf(IpvsTimeoutError);
      await expect(b).rejects.toBeInstanceOf(IpvsTimeoutError);
      expect(t.counters.timeouts).toBe(1);
      expect(clock.pending).toBe(0);
      expect(familyIdOf(await t.request(getFamily('nlctrl'), { dump: false }))).toBe(GENL_ID_CTRL);
      expect(t.counters.unmatchedMessages).toBe(3); // the expired batch arriving late: two replies and the ACK
      expect(clock.pending).toBe(0);
    } finally {
      t.close();
    }
  });

  it('a datagram cut by the receive buffer fails what is in flight (it cannot be matched) and is counted', async () => {
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL);
    try {
      const p = t.request(getFamily('nlctrl'), { dump: false });
      await Promise.resolve();
      (t as unknown as { socket: { emit(e: string): void } }).socket.emit('truncatedMessage');
      await expect(p).rejects.toThrow(/larger than 32768 bytes/);
      expect(t.counters.truncatedDatagrams).toBe(1);
    } finally {
      t.close();
    }
  });

  it('rejects everything pending and queued once closed', async () => {
    const t = GenericNetlinkTransport.forFamily(GENL_ID_CTRL);
    const p = t.request(getFamily('nlctrl'), { dump: false });
    t.close();
    await expect(p).rejects.toThrow(/closed/);
    await expect(t.request(getFamily('nlctrl'), { dump: false })).rejects.toThrow(/closed/);
  });

  it('this kernel has no IPVS: open fails with the one-sentence IpvsUnavailableError', async () => {
    const err = await GenericNetlinkTransport.open().then(
      (t) => {
        t.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    if (err === undefined) return; // a kernel with IPVS (inside the VM): nothing to assert here
    expect(err).toBeInstanceOf(IpvsUnavailableError);
    expect((err as Error).message).toBe('this kernel has no IPVS (generic netlink family "IPVS" not found): load ip_vs or run with --vrrp-only');
  });
});
