/**
 * A fake of the kernel's IPVS for unit tests: a NetlinkTransport that decodes each request with the codec,
 * applies it to an in-memory table with the kernel's errno rules (EEXIST / ESRCH / ENOENT) and answers with
 * encoded replies. Tests read `table`, `log` and can inject failures.
 */
import { AttributeReader, attr, nestedAttr, u32Attr } from '../../src/ipvs/codec/attributes.js';
import { CmdAttr, DestAttr, InfoAttr, IpvsCmd, StatsAttr, SvcAttr } from '../../src/ipvs/codec/constants.js';
import { packDestination, unpackDestination } from '../../src/ipvs/codec/destination.js';
import { packTimeouts, unpackTimeouts } from '../../src/ipvs/codec/info.js';
import { decodeGenlMessage, encodeGenlRequest } from '../../src/ipvs/codec/message.js';
import { packService, unpackService, unpackServiceKey } from '../../src/ipvs/codec/service.js';
import { IpvsKernelError, ipvsErrorFromErrno } from '../../src/ipvs/errors.js';
import { commandName, type NetlinkRequestOptions, type NetlinkTransport } from '../../src/ipvs/netlinkTransport.js';
import { destinationIdentity, serviceIdentity, type KernelService } from '../../src/ipvs/reconciler.js';
import type { DestinationEntry, IpvsStats, IpvsTimeouts, ServiceEntry } from '../../src/ipvs/types.js';

const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos']);
const EEXIST = 17;
const ESRCH = 3;
const ENOENT = 2;
const EINVAL = 22;

export class FakeIpvsKernel implements NetlinkTransport {
  readonly familyId = 0x24;
  table: KernelService[] = [];
  timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  /** Every request as "COMMAND" or "COMMAND(dump)", in order. */
  readonly log: string[] = [];
  private readonly failures: { cmd: string; errno: number }[] = [];
  closed = false;

  /** The next request with this command name fails with errno (once). */
  failNext(cmd: string, errno: number): void {
    this.failures.push({ cmd, errno });
  }

  close(): void {
    this.closed = true;
  }

  async request(message: Buffer, options: NetlinkRequestOptions): Promise<Buffer[]> {
    const name = commandName(message);
    this.log.push(options.dump ? `${name}(dump)` : name);
    const i = this.failures.findIndex((f) => f.cmd === name);
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw ipvsErrorFromErrno(f.errno, name);
    }
    const m = decodeGenlMessage(message);
    const top = new AttributeReader(m.attributes);
    const fail = (errno: number): never => {
      throw errno === EINVAL ? new IpvsKernelError(errno, name) : ipvsErrorFromErrno(errno, name);
    };
    const svcAttrs = top.nested(CmdAttr.SERVICE);
    const findSvc = (): KernelService | undefined => {
      if (!svcAttrs) return undefined;
      const id = serviceIdentity(unpackServiceKey(svcAttrs));
      return this.table.find((s) => serviceIdentity(s.key) === id);
    };
    const reply = (cmd: number, attrs: Buffer[]): Buffer =>
      encodeGenlRequest({ familyId: this.familyId, cmd, version: 1, dump: false, attributes: Buffer.concat(attrs) });
    const stats64 = (st: IpvsStats, type: number = SvcAttr.STATS64): Buffer => {
      const u64 = (t: number, v: number): Buffer => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt(v));
        return attr(t, b);
      };
      return nestedAttr(type, [u64(StatsAttr.CONNS, st.connections), u64(StatsAttr.INPKTS, st.packetsIn), u64(StatsAttr.OUTPKTS, st.packetsOut), u64(StatsAttr.INBYTES, st.bytesIn), u64(StatsAttr.OUTBYTES, st.bytesOut)]);
    };
    const serviceReply = (s: ServiceEntry): Buffer => {
      const inner = new AttributeReader(packService(s)).raw(CmdAttr.SERVICE)!;
      return reply(IpvsCmd.NEW_SERVICE, [nestedAttr(CmdAttr.SERVICE, s.stats ? [inner, stats64(s.stats)] : [inner])]);
    };
    const destReply = (d: DestinationEntry): Buffer => {
      const inner = new AttributeReader(packDestination(d)).raw(CmdAttr.DEST)!;
      return reply(IpvsCmd.NEW_DEST, [
        nestedAttr(CmdAttr.DEST, [
          inner, u32Attr(DestAttr.ACTIVE_CONNS, d.activeConnections), u32Attr(DestAttr.INACT_CONNS, d.inactiveConnections),
          ...(d.stats ? [stats64(d.stats, DestAttr.STATS64)] : []),
        ]),
      ]);
    };

    switch (m.cmd) {
      case IpvsCmd.NEW_SERVICE: {
        if (!svcAttrs) return fail(EINVAL);
        if (findSvc()) return fail(EEXIST);
        const s = unpackService(svcAttrs);
        if (!SCHEDULERS.has(s.scheduler)) return fail(ENOENT);
        this.table.push({ ...s, destinations: [] });
        return [];
      }
      case IpvsCmd.SET_SERVICE: {
        const cur = findSvc();
        if (!svcAttrs || !cur) return fail(ESRCH);
        const s = unpackService(svcAttrs);
        if (!SCHEDULERS.has(s.scheduler)) return fail(ENOENT);
        Object.assign(cur, s, { destinations: cur.destinations });
        if (!s.persistence) delete cur.persistence;
        if (!s.persistenceEngine) delete cur.persistenceEngine;
        return [];
      }
      case IpvsCmd.DEL_SERVICE: {
        const cur = findSvc();
        if (!cur) return fail(ESRCH);
        this.table = this.table.filter((s) => s !== cur);
        return [];
      }
      case IpvsCmd.GET_SERVICE: {
        if (options.dump) return this.table.map(serviceReply);
        const cur = findSvc();
        if (!cur) return fail(ESRCH);
        return [serviceReply(cur)];
      }
      case IpvsCmd.NEW_DEST:
      case IpvsCmd.SET_DEST:
      case IpvsCmd.DEL_DEST: {
        const cur = findSvc();
        const destAttrs = top.nested(CmdAttr.DEST);
        if (!cur) return fail(ESRCH);
        if (!destAttrs) return fail(EINVAL);
        const d = unpackDestination(destAttrs, cur.key.family);
        const id = destinationIdentity(d);
        const existing = cur.destinations.find((x) => destinationIdentity(x) === id);
        if (m.cmd === IpvsCmd.NEW_DEST) {
          if (existing) return fail(EEXIST);
          cur.destinations.push(d);
        } else if (!existing) {
          return fail(ENOENT);
        } else if (m.cmd === IpvsCmd.SET_DEST) {
          Object.assign(existing, { ...d, activeConnections: existing.activeConnections, inactiveConnections: existing.inactiveConnections });
        } else {
          cur.destinations = cur.destinations.filter((x) => x !== existing);
        }
        return [];
      }
      case IpvsCmd.GET_DEST: {
        const cur = findSvc();
        return cur ? cur.destinations.map(destReply) : [];
      }
      case IpvsCmd.GET_INFO:
        return [reply(IpvsCmd.SET_INFO, [u32Attr(InfoAttr.VERSION, 0x010201), u32Attr(InfoAttr.CONN_TAB_SIZE, 4096)])];
      case IpvsCmd.GET_CONFIG:
        return [reply(IpvsCmd.SET_CONFIG, [packTimeouts(this.timeouts)])];
      case IpvsCmd.SET_CONFIG: {
        const t = unpackTimeouts(top);
        this.timeouts = { tcp: t.tcp || this.timeouts.tcp, tcpFin: t.tcpFin || this.timeouts.tcpFin, udp: t.udp || this.timeouts.udp };
        return [];
      }
      case IpvsCmd.FLUSH:
        this.table = [];
        return [];
      case IpvsCmd.ZERO:
        return [];
      default:
        return fail(EINVAL);
    }
  }
}

