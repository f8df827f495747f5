/**
 * IPVS plan + health state → the desired table the reconciler works from. The health-check side decides
 * per destination whether it belongs in the table and with which weight (dead → out, or weight 0 with
 * inhibit_on_failure; sorry server in when quorum is lost); this only applies those decisions, falling back
 * to the start state (keepalived: up unless alpha) for destinations not reported yet. Pure.
 */
import { parseIp } from '../util/ipAddress.js';
import type { IpvsPlan } from './fromConfig.js';
import type { DesiredService } from './reconciler.js';
import type { DestinationSpec } from './types.js';

export interface DestinationHealth {
  /** Whether the destination belongs in the IPVS table. */
  inTable: boolean;
  /** Its weight while in the table (0 = inhibited). */
  weight: number;
}

/** One destination's decision as the health side reports it, named by the virtual and real server keys. */
export interface DestinationHealthReport extends DestinationHealth {
  virtualServer: string;
  realServer: string;
}

/** Latest decision for (virtual server key, real server key), undefined when none was reported yet. */
export type HealthView = (virtualServer: string, realServer: string) => DestinationHealth | undefined;

export function desiredTable(plan: IpvsPlan, health: HealthView): DesiredService[] {
  const out: DesiredService[] = [];
  for (const vs of plan.virtualServers) {
    const destinations: DestinationSpec[] = [];
    for (const rs of vs.realServers) {
      const h = health(vs.virtualServer, rs.key);
      if (h === undefined) {
        if (rs.initiallyInTable) destinations.push({ ...rs.destination, weight: rs.initialWeight });
        continue;
      }
      if (h.inTable) destinations.push({ ...rs.destination, weight: h.weight });
    }
    if (vs.sorryServer) {
      const h = health(vs.virtualServer, vs.sorryServer.key);
      if (h?.inTable) destinations.push({ ...vs.sorryServer.destination, weight: h.weight });
      else if (h === undefined && vs.sorryServer.inhibit) destinations.push({ ...vs.sorryServer.destination, weight: 0 });
    }
    // Maglev (mh) fills its lookup table going round the destination list in order, so directors that share
    // flows must add the same destinations in the same order: sorted, whatever order each configuration
    // lists them in (README "Scaling past a pair"). Other schedulers keep keepalived's configuration order.
    if (vs.services.some((spec) => spec.scheduler === 'mh')) destinations.sort(compareDestinations);
    for (const spec of vs.services) out.push({ spec, destinations });
  }
  return out;
}

/** IPv4 before IPv6, then address bytes, then port: a total order every director computes alike. */
function compareDestinations(a: DestinationSpec, b: DestinationSpec): number {
  const x = parseIp(a.address) ?? new Uint8Array();
  const y = parseIp(b.address) ?? new Uint8Array();
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return a.port - b.port;
}
