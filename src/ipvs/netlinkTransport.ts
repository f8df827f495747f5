/**
 * How IPVS requests reach the kernel. The client speaks to this narrow interface; the real implementation
 * is a generic netlink socket of the `netlink` package, a fake one (test/ipvs/fakeKernel.ts) plays the
 * kernel in unit tests.
 */
import { RawNetlinkSocket, createGenericNetlink, genl } from 'netlink';
import type { MessageInfo } from 'netlink';
import { IpvsCmd, IPVS_GENL_NAME, NLMSG_HDRLEN } from './codec/constants.js';
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
  resolve: (parts: Buffer[]) => void;
  reject: (err: Error) => void;
  timer?: TimerHandle;
}

export interface GenericNetlinkTransportOptions {
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number;
  /** Requests in flight at once; beyond it they queue (keeps ACKs within the socket buffer). */
  window?: number;
  clock?: Clock;
}

const NETLINK_GENERIC = 16;

/**
 * Requests that are queued in the same tick leave in one datagram (the kernel's netlink_rcv_skb handles
 * every message of a datagram and ACKs each), which is what makes building a large table fast. At most one
 * dump runs at a time: the kernel answers a second concurrent dump on a socket with EBUSY.
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
  private dumpInFlight = false;
  private nextSeq = 1;
  private flushScheduled = false;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly window: number;
  private readonly clock: Clock;

  private constructor(
    readonly familyId: number,
    private readonly socket: RawNetlinkSocket,
    options: GenericNetlinkTransportOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.window = options.window ?? 64;
    this.clock = options.clock ?? new SystemClock();
    socket.on('message', (msg: Buffer, rinfo: MessageInfo) => this.receive(msg, rinfo));
    socket.on('error', (err: Error) => this.failAll(err));
    socket.unref();
  }

  /** Resolves the IPVS family and opens the socket; IpvsUnavailableError when the kernel has no IPVS. */
  static async open(options: GenericNetlinkTransportOptions = {}): Promise<GenericNetlinkTransport> {
    const familyId = await resolveIpvsFamily();
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

  /** Sends what the window and the one-dump rule allow, in queue order, coalesced into one datagram. */
  private flush(): void {
    const batch: Pending[] = [];
    while (this.queue.length > 0 && this.pending.size + batch.length < this.window) {
      const next = this.queue[0];
      if (next.dump && (this.dumpInFlight || batch.some((p) => p.dump))) break;
      this.queue.shift();
      batch.push(next);
    }
    if (batch.length === 0) return;
    for (const p of batch) {
      p.seq = this.allocateSeq();
      setSequence(p.message, p.seq);
      if (p.dump) this.dumpInFlight = true;
      this.pending.set(p.seq, p);
      p.timer = this.clock.setTimer(this.timeoutMs, () => this.expire(p));
      this.counters.requests++;
    }
    if (this.pending.size > 0) this.socket.ref();
    this.socket.send(Buffer.concat(batch.map((p) => p.message)), { port: 0 }, (err) => {
      if (err) for (const p of batch) this.settle(p, err);
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
        p.parts.push(Buffer.from(m.raw));
      } else if (m.kind === 'error') {
        this.settle(p, m.errno === 0 ? undefined : ipvsErrorFromErrno(m.errno, p.operation));
      } else if (m.kind === 'done') {
        // NLMSG_DONE carries the dump's final status as an int (negative errno when it failed midway).
        const status = m.raw.length >= NLMSG_HDRLEN + 4 ? m.raw.readInt32LE(NLMSG_HDRLEN) : 0;
        this.settle(p, status < 0 ? ipvsErrorFromErrno(-status, p.operation) : undefined);
      }
    }
  }

  private settle(p: Pending, err: Error | undefined): void {
    if (this.pending.get(p.seq) !== p) return;
    this.pending.delete(p.seq);
    this.clock.clearTimer(p.timer);
    if (p.dump) this.dumpInFlight = false;
    if (err) p.reject(err);
    else p.resolve(p.parts);
    if (this.pending.size === 0) this.socket.unref();
    if (this.queue.length > 0 && !this.closed) this.scheduleFlush();
  }

  private expire(p: Pending): void {
    this.counters.timeouts++;
    this.settle(p, new IpvsTimeoutError(p.operation, this.timeoutMs));
  }

  private failAll(err: Error): void {
    for (const p of [...this.pending.values()]) this.settle(p, err);
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

