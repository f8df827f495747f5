/**
 * Desired IPVS table vs the kernel's → the ordered list of operations that makes the kernel equal to the
 * desired table, touching only services we are responsible for. Pure: no I/O, no clock.
 *
 * Rules:
 * - A service is ours when it is desired now or was applied by us before (`owned`) — anything else in the
 *   kernel (another tool's services) is never touched.
 * - A desired service missing from the kernel is added with all its destinations; one present with other
 *   settings is updated in place (SET_SERVICE keeps its destinations and connections).
 * - Inside a desired service the destinations are made exact: missing ones added, differing ones updated,
 *   extra ones (e.g. added by hand) deleted. This is how entries found at start are adopted or fixed, and how
 *   drift (ipvsadm -d / -e / -C behind our back) is repaired at the next sync.
 * - An owned service that is no longer desired (config reload) is deleted.
 * - Order: service deletes, then per service: add/update service, add destinations, update destinations,
 *   delete destinations (new servers come in before old ones leave).
 */
import { canonicalAddress } from './codec/address.js';
import type { DestinationEntry, DestinationSpec, ServiceEntry, ServiceKey, ServiceSpec } from './types.js';

export interface DesiredService {
  spec: ServiceSpec;
  destinations: DestinationSpec[];
}

/** The kernel's view of one service (what IpvsClient.listTable returns). */
export interface KernelService extends ServiceEntry {
  destinations: DestinationEntry[];
}

export type IpvsOperation =
  | { op: 'add-service'; spec: ServiceSpec }
  | { op: 'update-service'; spec: ServiceSpec }
  | { op: 'delete-service'; key: ServiceKey }
  | { op: 'add-destination'; service: ServiceKey; destination: DestinationSpec }
  | { op: 'update-destination'; service: ServiceKey; destination: DestinationSpec }
  | { op: 'delete-destination'; service: ServiceKey; destination: { address: string; port: number } };

/** Remembered canonical spellings: a sync of 10,000 destinations asks for the same ones every time. */
const canonicalMemo = new Map<string, string>();

function canonicalAddressOf(address: string): string {
  let c = canonicalMemo.get(address);
  if (c !== undefined) return c;
  try {
    c = canonicalAddress(address);
  } catch {
    c = address;
  }
  if (canonicalMemo.size >= 100_000) canonicalMemo.clear();
  canonicalMemo.set(address, c);
  return c;
}

/** Identity of a service regardless of how its address was spelled. */
export function serviceIdentity(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `fwmark/${key.family}/${key.fwmark}`;
  return `${key.protocol}/${key.family}/${canonicalAddressOf(key.address)}/${key.port}`;
}

export function destinationIdentity(d: { address: string; port: number }): string {
  return `${canonicalAddressOf(d.address)}/${d.port}`;
}

/** The kernel's service already has the settings asked for (scheduler, flags, persistence, engine). */
export function sameService(want: ServiceSpec, have: ServiceEntry): boolean {
  if (want.scheduler !== have.scheduler) return false;
  if (want.onePacket !== have.onePacket) return false;
  if (want.schedulerFlags !== have.schedulerFlags) return false;
  if ((want.persistenceEngine ?? '') !== (have.persistenceEngine ?? '')) return false;
  const a = want.persistence;
  const b = have.persistence;
  if (!a || !b) return !a && !b;
  return a.timeoutSeconds === b.timeoutSeconds && a.prefixLength === b.prefixLength;
}

function sameDestination(want: DestinationSpec, have: DestinationEntry): boolean {
  if (want.weight !== have.weight) return false;
  if (want.upperThreshold !== have.upperThreshold || want.lowerThreshold !== have.lowerThreshold) return false;
  // The kernel turns any method into "local" for an address of this host; asking again would not change it.
  if (have.forwarding !== 'local' && want.forwarding !== have.forwarding) return false;
  if (want.forwarding === 'tunnel' && have.forwarding === 'tunnel') {
    const a = want.tunnel ?? { type: 'ipip', port: 0, flags: 0 };
    const b = have.tunnel ?? { type: 'ipip', port: 0, flags: 0 };
    if (a.type !== b.type || a.port !== b.port || a.flags !== b.flags) return false;
  }
  return true;
}

/** First occurrence wins when the same identity is listed twice. */
function indexBy<T>(items: readonly T[], id: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = id(it);
    if (!m.has(k)) m.set(k, it);
  }
  return m;
}

function reconcileDestinations(service: ServiceKey, want: readonly DestinationSpec[], have: readonly DestinationEntry[]): IpvsOperation[] {
  const wantById = indexBy(want, destinationIdentity);
  const haveById = indexBy(have, destinationIdentity);
  const adds: IpvsOperation[] = [];
  const updates: IpvsOperation[] = [];
  const deletes: IpvsOperation[] = [];
  for (const [id, d] of wantById) {
    const cur = haveById.get(id);
    if (!cur) adds.push({ op: 'add-destination', service, destination: d });
    else if (!sameDestination(d, cur)) updates.push({ op: 'update-destination', service, destination: d });
  }
  for (const [id, d] of haveById) {
    if (!wantById.has(id)) deletes.push({ op: 'delete-destination', service, destination: { address: d.address, port: d.port } });
  }
  return [...adds, ...updates, ...deletes];
}

export interface ReconcileInput {
  desired: readonly DesiredService[];
  kernel: readonly KernelService[];
  /** Services applied by us before; those no longer desired are deleted. Others are foreign. */
  owned?: readonly ServiceKey[];
}

export function reconcile({ desired, kernel, owned = [] }: ReconcileInput): IpvsOperation[] {
  const desiredById = indexBy(desired, (d) => serviceIdentity(d.spec.key));
  const kernelById = indexBy(kernel, (k) => serviceIdentity(k.key));
  const ops: IpvsOperation[] = [];
  for (const key of owned) {
    const id = serviceIdentity(key);
    const cur = kernelById.get(id);
    if (cur && !desiredById.has(id)) ops.push({ op: 'delete-service', key: cur.key });
  }
  for (const [id, want] of desiredById) {
    const cur = kernelById.get(id);
    if (!cur) {
      ops.push({ op: 'add-service', spec: want.spec });
      ops.push(...reconcileDestinations(want.spec.key, want.destinations, []));
      continue;
    }
    if (!sameService(want.spec, cur)) ops.push({ op: 'update-service', spec: want.spec });
    ops.push(...reconcileDestinations(want.spec.key, want.destinations, cur.destinations));
  }
  return ops;
}

/** At stop: delete every owned service still in the kernel (keepalived's behaviour). */
export function teardown(owned: readonly ServiceKey[], kernel: readonly KernelService[]): IpvsOperation[] {
  const kernelById = indexBy(kernel, (k) => serviceIdentity(k.key));
  const seen = new Set<string>();
  const ops: IpvsOperation[] = [];
  for (const key of owned) {
    const id = serviceIdentity(key);
    const cur = kernelById.get(id);
    if (cur && !seen.has(id)) {
      seen.add(id);
      ops.push({ op: 'delete-service', key: cur.key });
    }
  }
  return ops;
}
