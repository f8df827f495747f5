/**
 * Which services a sync reads in full. Reading a service's destinations costs one netlink dump each (the
 * kernel has no dump of all destinations), so a table of 1,000 services costs 1,001 dumps per sync — seconds
 * of CPU on a small director, every period. A sync that is not a start or a reload therefore reads the
 * service list (one dump) and the destinations only of:
 * - services whose health decisions changed since the last sync (their destinations are about to change);
 * - services missing from the kernel (added whole, nothing to read) or whose settings differ (updated);
 * - a rotating slice of `budget` further services, so a destination added, removed or edited by hand is
 *   still found, within ceil(services / budget) periods instead of one.
 * Service-level drift (ipvsadm -C, -D, -E) is therefore repaired at the next period, destination-level drift
 * within the rotation. Pure.
 */
import { sameService, serviceIdentity, type DesiredService } from './reconciler.js';
import type { ServiceEntry } from './types.js';

export interface PartialReadInput {
  desired: readonly DesiredService[];
  /** The kernel's service list (settings, no destinations). */
  kernelServices: readonly ServiceEntry[];
  /** Identities (serviceIdentity) of the services whose destinations must be compared this time. */
  mustRead: ReadonlySet<string>;
  /** Index into desired where the rotation resumes. */
  cursor: number;
  /** Further services whose destinations are read, beyond the ones that must be. */
  budget: number;
}

export interface PartialReadPlan {
  /** Desired services compared in full this sync, in desired order. */
  compare: DesiredService[];
  /** The kernel services among them whose destinations must be dumped. */
  dump: ServiceEntry[];
  /** Where the next rotation resumes. */
  nextCursor: number;
}

export function planPartialRead({ desired, kernelServices, mustRead, cursor, budget }: PartialReadInput): PartialReadPlan {
  const kernelById = new Map<string, ServiceEntry>();
  for (const k of kernelServices) {
    const id = serviceIdentity(k.key);
    if (!kernelById.has(id)) kernelById.set(id, k);
  }
  const n = desired.length;
  const chosen = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++) {
    const d = desired[i];
    const id = serviceIdentity(d.spec.key);
    const k = kernelById.get(id);
    if (!k || mustRead.has(id) || !sameService(d.spec, k)) chosen[i] = true;
  }
  const start = n === 0 ? 0 : ((cursor % n) + n) % n;
  let taken = 0;
  let i = start;
  for (let step = 0; step < n && taken < budget; step++, i = (i + 1) % n) {
    if (chosen[i]) continue;
    chosen[i] = true;
    taken++;
  }
  const compare: DesiredService[] = [];
  const dump = new Set<ServiceEntry>();
  for (let j = 0; j < n; j++) {
    if (!chosen[j]) continue;
    compare.push(desired[j]);
    const k = kernelById.get(serviceIdentity(desired[j].spec.key));
    if (k) dump.add(k);
  }
  return { compare, dump: [...dump], nextCursor: n === 0 ? 0 : i };
}
