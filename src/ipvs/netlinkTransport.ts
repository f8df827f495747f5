/**
 * How IPVS requests reach the kernel. The client speaks to this narrow interface; the real implementation
 * is a generic netlink socket of the `netlink` package, a fake one (test/ipvs/fakeKernel.ts) plays the
 * kernel in unit tests.
 */
// The package's index also loads its nl80211 and WireGuard tables (≈ 5 MiB of heap we never use): import the
// three modules this file needs by path.
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { createGenericNetlink } from 'netlink/dist/genl/genl.js';
import { Commands as GenlCommands } from 'netlink/dist/genl/structs.js';
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
  /** Datagrams larger than the receive buffer (cut by the kernel): everything in flight fails. */
  truncatedDatagrams: number;
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
  /** clock.now() after which the batch fails with IpvsTimeoutError. */
  deadline: number;
  done: boolean;
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
 * Bytes read per datagram. The kernel sizes a dump's datagrams by the largest buffer its reader offered
 * (netlink_recvmsg's max_recvmsg_len, capped just under 32 KiB; else about one page), so offering 32 KiB up
 * front gets a dump in fewer datagrams (the 1,000-service list in ~8 instead of ~60; recent kernels also
 * pack a small dump's DONE with its data), and spares the package's peek (a second recvmsg) per datagram.
 */
const RECEIVE_CHUNK = 32 * 1024;

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
    truncatedDatagrams: 0,
  };
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Batch>();
  /** One timer for every batch in flight (not one per batch: a read-back sends 1,001 dumps). */
  private sweepTimer: TimerHandle | undefined;
  private referenced = false;
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
    socket.on('truncatedMessage', () => {
      this.counters.truncatedDatagrams++;
      this.failAll(new Error(`IPVS transport: a netlink datagram larger than ${RECEIVE_CHUNK} bytes was cut`));
    });
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
    const socket = new RawNetlinkSocket(NETLINK_GENERIC, {
      recvBufferSize: 1 << 20,
      sendBufferSize: 1 << 20,
      messagePeeking: false,
      msgBufferSize: RECEIVE_CHUNK,
    });
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
      this.send(members);
    }
  }

  private send(members: Pending[]): void {
    const batch: Batch = { members, deadline: this.clock.now() + this.timeoutMs, done: false };
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
    this.inFlight.add(batch);
    this.sweepTimer ??= this.clock.setTimer(this.timeoutMs, () => this.sweep());
    if (!this.referenced) {
      this.referenced = true;
      this.socket.ref();
    }
    const datagram = batch.members.length === 1 ? batch.members[0].message : Buffer.concat(batch.members.map((p) => p.message));
    this.socket.send(datagram, { port: 0 }, (err) => {
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

  /**
   * Settles what is left of a batch (with err, or as succeeded) and sends what waited for it right away
   * (the next of 1,001 dumps leaves from the same wake-up). The socket keeps the process alive only while
   * something is in flight or queued.
   */
  private finishBatch(batch: Batch, err: Error | undefined): void {
    if (batch.done) return;
    batch.done = true;
    this.inFlight.delete(batch);
    for (const p of batch.members) this.settle(p, err);
    this.batchesOut--;
    if (batch.members.some((p) => p.dump)) this.dumpInFlight = false;
    if (this.queue.length > 0 && !this.closed) this.flush();
    if (this.inFlight.size === 0) {
      this.clock.clearTimer(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    if (this.pending.size === 0 && this.queue.length === 0 && this.referenced) {
      this.referenced = false;
      this.socket.unref();
    }
  }

  /** Fails the batches past their deadline (between 1 and 2 × timeoutMs after sending) and re-arms. */
  private sweep(): void {
    this.sweepTimer = undefined;
    const now = this.clock.now();
    for (const batch of [...this.inFlight]) {
      if (batch.deadline > now) continue;
      this.counters.timeouts++;
      this.finishBatch(batch, new IpvsTimeoutError(batch.members[batch.members.length - 1].operation, this.timeoutMs));
    }
    if (this.inFlight.size > 0 && !this.closed) this.sweepTimer ??= this.clock.setTimer(this.timeoutMs, () => this.sweep());
  }

  private failAll(err: Error): void {
    const batches = new Set<Batch>();
    for (const p of this.pending.values()) if (p.batch) batches.add(p.batch);
    // Queued requests first, so that finishing the batches does not send them.
    for (const p of this.queue.splice(0)) p.reject(err);
    for (const b of batches) this.finishBatch(b, err);
  }
}

/** Asks the generic netlink controller for the "IPVS" family id. */
async function resolveIpvsFamily(): Promise<number> {
  const ctrl = createGenericNetlink();
  try {
    const replies = await ctrl.ctrlRequest(GenlCommands.GET_FAMILY, { familyName: IPVS_GENL_NAME }, { timeout: 5000 });
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

