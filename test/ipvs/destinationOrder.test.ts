/**
 * The order in which tslvsd adds a service's destinations, pinned. With `lb_algo mh` across several
 * directors (README "Scaling past a pair") the kernel's Maglev table depends on that order (it walks the
 * destination list, and adds each new one at its head), so an mh service's destinations are added sorted
 * (IPv4 before IPv6, address bytes, port), whatever order each director's configuration lists them in.
 * Every other scheduler keeps keepalived's order: the configuration's.
 */
import { describe, expect, it } from 'vitest';
import { desiredTable } from '../../src/ipvs/desiredTable.js';
import { ipvsPlanFromConfig } from '../../src/ipvs/fromConfig.js';
import { reconcile } from '../../src/ipvs/reconciler.js';
import { model } from '../config/helpers.js';

const conf = (servers: string[], algo = 'mh'): string => `
virtual_server 198.51.100.10 7 {
  lb_algo ${algo}${algo === 'mh' ? '\n  mh-port' : ''}
  lb_kind DR
  protocol TCP
  inhibit_on_failure
${servers.map((s) => `  real_server ${s} 7 {\n    weight 1\n  }`).join('\n')}
}
`;

/** The add-destination operations of a first sync into an empty kernel, in the order they are sent. */
function addOrder(servers: string[], algo = 'mh'): string[] {
  const plan = ipvsPlanFromConfig(model(conf(servers, algo)));
  return reconcile({ desired: desiredTable(plan, () => undefined), kernel: [] }).flatMap((op) => (op.op === 'add-destination' ? [op.destination.address] : []));
}

describe('destination order of a virtual server (mh across directors)', () => {
  it('mh: sorted by address bytes (not as text), whatever order the configuration lists them in', () => {
    const sorted = ['192.0.2.3', '192.0.2.21', '192.0.2.22'];
    expect(addOrder(['192.0.2.21', '192.0.2.22', '192.0.2.3'])).toEqual(sorted);
    expect(addOrder(['192.0.2.3', '192.0.2.22', '192.0.2.21'])).toEqual(sorted);
    expect(addOrder(['192.0.2.22', '192.0.2.3', '192.0.2.21'])).toEqual(sorted);
  });

  it('every other scheduler: the configuration order, as keepalived adds them', () => {
    expect(addOrder(['192.0.2.21', '192.0.2.22', '192.0.2.3'], 'wrr')).toEqual(['192.0.2.21', '192.0.2.22', '192.0.2.3']);
    expect(addOrder(['192.0.2.3', '192.0.2.22', '192.0.2.21'], 'rr')).toEqual(['192.0.2.3', '192.0.2.22', '192.0.2.21']);
  });

  it('a failed server under inhibit_on_failure stays in place with weight 0 (the list order is kept)', () => {
    const plan = ipvsPlanFromConfig(model(conf(['192.0.2.23', '192.0.2.22', '192.0.2.21'])));
    const failed = plan.virtualServers[0]?.realServers[1]?.key;
    expect(failed).toBeDefined();
    const [service] = desiredTable(plan, (_vs, rs) => (rs === failed ? { inTable: true, weight: 0 } : undefined));
    expect(service?.destinations.map((d) => `${d.address}:${d.weight}`)).toEqual(['192.0.2.21:1', '192.0.2.22:0', '192.0.2.23:1']);
  });
});
