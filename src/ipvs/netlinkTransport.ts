/**
 * How IPVS requests reach the kernel. The client speaks to this narrow interface; the real implementation
 * is a generic netlink socket of the `netlink` package, a fake one (test/ipvs/fakeKernel.ts) plays the
 * kernel in unit tests.
 */
import { RawNetlinkSocket, createGenericNetlink, genl } from 'netlink';
import type { MessageInfo } from 'netlink';
import { IpvsCmd, IPVS_GENL_NAME, NLMSG_HDRLEN, NLM_F_ACK } from './codec/constants.js';
import { NetlinkDecodeError } from './codec/attributes.js';
import { setSequence, splitNetlinkMessages } from './codec/message.js';
import { IpvsTimeoutError, IpvsUnavailableError, ipvsErrorFromErrno } from './errors.js';
import { SystemClock, type Clock, type TimerHandle } from '../util/clock.js';

export interface NetlinkRequestOptions {
  /** The message asks for a dump (NLM_F_DUMP): replies end with NLMSG_DONE instead of an ACK. */
  dump: boolean;
}

export interface NetlinkTransport {
  /** The generic netlink family id of "IPVS", resolved through the controller at open. */
  readonly familyId: number;
  /**
   * Sends one framed request (codec/requests.ts) and resolves with its reply messages (each a whole netlink
   * message, header included; ACK and DONE not included). Rejects with a typed IpvsKernelError on NLMSG_ERROR.
   */
  request(message: Buffer, options: NetlinkRequestOptions): Promise<Buffer[]>;
  close(): void;
}

/** Counters of what the transport dropped rather than crash on. */
export interface TransportCounters {
  requests: number;
  datagramsReceived: number;
  malformedDatagrams: number;
  unmatchedMessages: number;
  timeouts: number;
}

const CMD_NAMES = new Map<number, string>(Object.entries(IpvsCmd).map(([k, v]) => [v, k]));

export function commandName(message: Buffer): string {
  const cmd = message.length > NLMSG_HDRLEN ? message.readUInt8(NLMSG_HDRLEN) : -1;
  return CMD_NAMES.get(cmd) ?? `command ${cmd}`;
}

interface Pending {
  message: Buffer;
  dump: boolean;
  operation: string;
  seq: number;
  parts: Buffer[];
  batch?: Batch;
  resolve: (parts: Buffer[]) => void;
  reject: (err: Error) => void;
}

/** Requests sent in one datagram; only the last asks for an ACK. */
interface Batch {
  members: Pending[];
  timer?: TimerHandle;
}

export interface GenericNetlinkTransportOptions {
  /** Per-batch deadline (default 10 s). */
  timeoutMs?: number;
  /** Requests per datagram (default 64). */
  batchSize?: number;
  /** Datagrams awaiting their ACK at once (default 2); with batchSize it bounds the error replies queued. */
  batchesInFlight?: number;
  clock?: Clock;
}

const NETLINK_GENERIC = 16;

/**
 * Requests queued in the same tick leave together, up to batchSize per datagram. The kernel handles the
 * messages of a datagram in order and answers an error for any that fails whether or not it asked for an ACK
 * (netlink_rcv_skb), so only the last of a batch carries NLM_F_ACK: its ACK proves that every earlier one
 * without an error succeeded. That turns 11,000 round trips into ~170 and is what makes building a large
 * table fast. Dumps go alone, one at a time: the kernel answers a second concurrent dump on a socket with
 * EBUSY.
 */
export class GenericNetlinkTransport implements NetlinkTransport {
  readonly counters: TransportCounters = {
    requests: 0,
    datagramsReceived: 0,
    malformedDatagrams: 0,
    unmatchedMessages: 0,
    timeouts: 0,
  };
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private batchesOut = 0;
  private dumpInFlight = false;
  private nextSeq = 1;
  private flushScheduled = false;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly batchesInFlight: number;
  private readonly clock: Clock;

  private constructor(
    readonly familyId: number,
    private readonly socket: RawNetlinkSocket,
    options: GenericNetlinkTransportOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.batchSize = Math.max(1, options.batchSize ?? 64);
    this.batchesInFlight = Math.max(1, options.batchesInFlight ?? 2);
    this.clock = options.clock ?? new SystemClock();
    socket.on('message', (msg: Buffer, rinfo: MessageInfo) => this.receive(msg, rinfo));
    // ENOBUFS (error replies overran the socket) and the like: nothing in flight can be trusted any more.
    socket.on('error', (err: Error) => this.failAll(err));
    socket.unref();
  }

  /** Resolves the IPVS family and opens the socket; IpvsUnavailableError when the kernel has no IPVS. */
  static async open(options: GenericNetlinkTransportOptions = {}): Promise<GenericNetlinkTransport> {
    return GenericNetlinkTransport.forFamily(await resolveIpvsFamily(), options);
  }

  /** A transport for an already resolved generic netlink family (the batching works for any family). */
  static forFamily(familyId: number, options: GenericNetlinkTransportOptions = {}): GenericNetlinkTransport {
    const socket = new RawNetlinkSocket(NETLINK_GENERIC, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    return new GenericNetlinkTransport(familyId, socket, options);
  }

  request(message: Buffer, options: NetlinkRequestOptions): Promise<Buffer[]> {
    if (this.closed) return Promise.reject(new Error('IPVS transport is closed'));
    return new Promise<Buffer[]>((resolve, reject) => {
      const copy = Buffer.from(message);
      this.queue.push({ message: copy, dump: options.dump, operation: commandName(copy), seq: 0, parts: [], resolve, reject });
      this.scheduleFlush();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('IPVS transport closed'));
    this.socket.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends as many batches as allowed, in queue order. */
  private flush(): void {
    while (!this.closed && this.queue.length > 0 && this.batchesOut < this.batchesInFlight) {
      const members: Pending[] = [];
      if (this.queue[0].dump) {
        if (this.dumpInFlight) return;
        members.push(this.queue.shift()!);
        this.dumpInFlight = true;
      } else {
        while (this.queue.length > 0 && !this.queue[0].dump && members.length < this.batchSize) members.push(this.queue.shift()!);
      }
      this.send({ members });
    }
  }

  private send(batch: Batch): void {
    const last = batch.members.length - 1;
    batch.members.forEach((p, i) => {
      p.seq = this.allocateSeq();
      p.batch = batch;
      setSequence(p.message, p.seq);
      const flags = p.message.readUInt16LE(6);
      p.message.writeUInt16LE(i === last ? flags | NLM_F_ACK : flags & ~NLM_F_ACK, 6);
      this.pending.set(p.seq, p);
      this.counters.requests++;
    });
    this.batchesOut++;
    batch.timer = this.clock.setTimer(this.timeoutMs, () => this.expire(batch));
    this.socket.ref();
    this.socket.send(Buffer.concat(batch.members.map((p) => p.message)), { port: 0 }, (err) => {
      if (err) this.finishBatch(batch, err);
    });
  }

  private allocateSeq(): number {
    let seq = this.nextSeq;
    while (seq === 0 || this.pending.has(seq)) seq = (seq + 1) >>> 0;
    this.nextSeq = (seq + 1) >>> 0;
    return seq;
  }

  private receive(datagram: Buffer, rinfo: MessageInfo): void {
    this.counters.datagramsReceived++;
    if (rinfo.port !== 0) {
      this.counters.unmatchedMessages++;
      return;
    }
    let messages;
    try {
      messages = splitNetlinkMessages(datagram);
    } catch (e) {
      if (!(e instanceof NetlinkDecodeError)) throw e;
      this.counters.malformedDatagrams++;
      return;
    }
    for (const m of messages) {
      const p = this.pending.get(m.seq);
      if (!p) {
        this.counters.unmatchedMessages++;
        continue;
      }
      if (m.kind === 'data') {
        // A slice, not a copy: the netlink addon hands over a fresh buffer per datagram.
        p.parts.push(m.raw);
        continue;
      }
      let err: Error | undefined;
      if (m.kind === 'error' && m.errno !== 0) err = ipvsErrorFromErrno(m.errno, p.operation);
      if (m.kind === 'done') {
        // NLMSG_DONE carries the dump's final status as an int (negative errno when it failed midway).
        const status = m.raw.length >= NLMSG_HDRLEN + 4 ? m.raw.readInt32LE(NLMSG_HDRLEN) : 0;
        if (status < 0) err = ipvsErrorFromErrno(-status, p.operation);
      }
      this.settle(p, err);
      // The answer to the batch's last request: every earlier one without an error has succeeded.
      const batch = p.batch;
      if (batch && batch.members[batch.members.length - 1] === p) this.finishBatch(batch, undefined);
    }
  }

  private settle(p: Pending, err: Error | undefined): void {
    if (this.pending.get(p.seq) !== p) return;
    this.pending.delete(p.seq);
    if (err) p.reject(err);
    else p.resolve(p.parts);
  }

  /** Settles what is left of a batch (with err, or as succeeded) and lets the next one go. */
  private finishBatch(batch: Batch, err: Error | undefined): void {
    if (batch.timer === undefined) return;
    this.clock.clearTimer(batch.timer);
    batch.timer = undefined;
    for (const p of batch.members) this.settle(p, err);
    this.batchesOut--;
    if (batch.members.some((p) => p.dump)) this.dumpInFlight = false;
    if (this.pending.size === 0) this.socket.unref();
    if (this.queue.length > 0 && !this.closed) this.scheduleFlush();
  }

  private expire(batch: Batch): void {
    this.counters.timeouts++;
    this.finishBatch(batch, new IpvsTimeoutError(batch.members[batch.members.length - 1].operation, this.timeoutMs));
  }

  private failAll(err: Error): void {
    const batches = new Set<Batch>();
    for (const p of this.pending.values()) if (p.batch) batches.add(p.batch);
    for (const b of batches) this.finishBatch(b, err);
    for (const p of this.queue.splice(0)) p.reject(err);
  }
}

/** Asks the generic netlink controller for the "IPVS" family id. */
async function resolveIpvsFamily(): Promise<number> {
  const ctrl = createGenericNetlink();
  try {
    const replies = await ctrl.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: IPVS_GENL_NAME }, { timeout: 5000 });
    const id = replies[0]?.familyId;
    if (id === undefined) throw new IpvsUnavailableError('the generic netlink controller did not return the IPVS family');
    return id;
  } catch (e) {
    if (e instanceof IpvsUnavailableError) throw e;
    const text = e instanceof Error ? e.message : String(e);
    if (/ENOENT/.test(text)) throw new IpvsUnavailableError('generic netlink family "IPVS" not found');
    throw new IpvsUnavailableError(`generic netlink controller: ${text}`);
  } finally {
    ctrl.socket.close();
  }
}

