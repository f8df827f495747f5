/**
 * The IPVS table over generic netlink: what ipvsadm does, as typed async calls. Reads are dumps (one for
 * the services, one per service for its destinations: the kernel has no dump of all destinations), writes
 * are one request per object and fail with typed errors (errors.ts).
 */
import { NetlinkDecodeError } from './codec/attributes.js';
import { AddressError } from './codec/address.js';
import {
  IpvsRequest,
  decodeDaemonReply,
  decodeDestinationReply,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from './codec/requests.js';
import { IpvsNoEntryError, IpvsNoServiceError } from './errors.js';
import { GenericNetlinkTransport, type GenericNetlinkTransportOptions, type NetlinkTransport } from './netlinkTransport.js';
import type {
  DestinationEntry,
  DestinationSpec,
  IpvsInfo,
  IpvsTimeouts,
  ServiceEntry,
  ServiceKey,
  ServiceSpec,
  ServiceWithDestinations,
  SyncDaemonEntry,
  SyncDaemonSpec,
  SyncDaemonState,
} from './types.js';

export interface IpvsClientCounters {
  /** Services or destinations in a dump that could not be decoded: skipped, not fatal. */
  malformedEntries: number;
}

export interface ListOptions {
  /** Decode the counters and rates too (default true); a sync that only compares settings skips them. */
  withStats?: boolean;
}

export class IpvsClient {
  readonly counters: IpvsClientCounters = { malformedEntries: 0 };

  constructor(private readonly transport: NetlinkTransport) {}

  /** Opens the real generic netlink transport; IpvsUnavailableError when the kernel has no IPVS. */
  static async open(options?: GenericNetlinkTransportOptions): Promise<IpvsClient> {
    return new IpvsClient(await GenericNetlinkTransport.open(options));
  }

  close(): void {
    this.transport.close();
  }

  private get family(): number {
    return this.transport.familyId;
  }

  private async doRequest(message: Buffer): Promise<Buffer[]> {
    return this.transport.request(message, { dump: false });
  }

  private async dump(message: Buffer): Promise<Buffer[]> {
    return this.transport.request(message, { dump: true });
  }

  private decodeEach<T>(parts: Buffer[], decode: (raw: Buffer) => T): T[] {
    const out: T[] = [];
    for (const raw of parts) {
      try {
        out.push(decode(raw));
      } catch (e) {
        if (!(e instanceof NetlinkDecodeError || e instanceof AddressError)) throw e;
        this.counters.malformedEntries++;
      }
    }
    return out;
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.doRequest(IpvsRequest.getInfo(this.family));
    if (!reply) throw new NetlinkDecodeError('GET_INFO: no reply');
    return decodeInfoReply(reply);
  }

  async listServices(options: ListOptions = {}): Promise<ServiceEntry[]> {
    const withStats = options.withStats ?? true;
    return this.decodeEach(await this.dump(IpvsRequest.getServices(this.family)), (raw) => decodeServiceReply(raw, { withStats }));
  }

  /** One service, or undefined when the kernel has none with this key. */
  async getService(key: ServiceKey): Promise<ServiceEntry | undefined> {
    try {
      const [reply] = await this.doRequest(IpvsRequest.getService(this.family, key));
      return reply ? decodeServiceReply(reply) : undefined;
    } catch (e) {
      if (e instanceof IpvsNoServiceError || e instanceof IpvsNoEntryError) return undefined;
      throw e;
    }
  }

  async listDestinations(key: ServiceKey, options: ListOptions = {}): Promise<DestinationEntry[]> {
    const withStats = options.withStats ?? true;
    const parts = await this.dump(IpvsRequest.getDests(this.family, key));
    return this.decodeEach(parts, (raw) => decodeDestinationReply(raw, key.family, { withStats }));
  }

  /** Every service with its destinations: 1 + (number of services) dumps. */
  async listTable(options: ListOptions = {}): Promise<ServiceWithDestinations[]> {
    const services = await this.listServices(options);
    const dests = await Promise.all(services.map((s) => this.listDestinations(s.key, options)));
    return services.map((s, i) => ({ ...s, destinations: dests[i] }));
  }

  async addService(spec: ServiceSpec): Promise<void> {
    await this.doRequest(IpvsRequest.newService(this.family, spec));
  }

  /** Changes scheduler, persistence and flags of an existing service (ESRCH if it does not exist). */
  async updateService(spec: ServiceSpec): Promise<void> {
    await this.doRequest(IpvsRequest.setService(this.family, spec));
  }

  async deleteService(key: ServiceKey): Promise<void> {
    await this.doRequest(IpvsRequest.delService(this.family, key));
  }

  async addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    await this.doRequest(IpvsRequest.newDest(this.family, service, dest));
  }

  async updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    await this.doRequest(IpvsRequest.setDest(this.family, service, dest));
  }

  async deleteDestination(service: ServiceKey, dest: { address: string; port: number }): Promise<void> {
    await this.doRequest(IpvsRequest.delDest(this.family, service, dest));
  }

  /** Removes every service and destination (ipvsadm -C). */
  async flush(): Promise<void> {
    await this.doRequest(IpvsRequest.flush(this.family));
  }

  /** Zeroes the counters of one service, or of all (ipvsadm -Z). */
  async zero(service?: ServiceKey): Promise<void> {
    await this.doRequest(IpvsRequest.zero(this.family, service));
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const [reply] = await this.doRequest(IpvsRequest.getConfig(this.family));
    if (!reply) throw new NetlinkDecodeError('GET_CONFIG: no reply');
    return decodeTimeoutsReply(reply);
  }

  /** lvs_timeouts; a 0 leaves that timeout unchanged. */
  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    await this.doRequest(IpvsRequest.setConfig(this.family, t));
  }

  /** ipvsadm --start-daemon: IpvsExistsError when a daemon of that state runs already. */
  async startSyncDaemon(spec: SyncDaemonSpec): Promise<void> {
    await this.doRequest(IpvsRequest.newDaemon(this.family, spec));
  }

  /** ipvsadm --stop-daemon: IpvsNoServiceError (ESRCH) when none of that state runs. */
  async stopSyncDaemon(state: SyncDaemonState, syncId = 0): Promise<void> {
    await this.doRequest(IpvsRequest.delDaemon(this.family, state, syncId));
  }

  /** ipvsadm -L --daemon: the running sync daemons (at most one master and one backup). */
  async listSyncDaemons(): Promise<SyncDaemonEntry[]> {
    return this.decodeEach(await this.dump(IpvsRequest.getDaemons(this.family)), decodeDaemonReply);
  }
}
