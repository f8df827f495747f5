import { describe, expect, it } from 'vitest';
import { planPartialRead } from '../../src/ipvs/partialRead.js';
import type { DesiredService } from '../../src/ipvs/reconciler.js';
import type { ServiceEntry, ServiceSpec } from '../../src/ipvs/types.js';

const spec = (i: number, scheduler = 'wlc'): ServiceSpec => ({
  key: { kind: 'address', family: 'ipv4', protocol: 'tcp', address: `10.0.0.${i}`, port: 80 },
  scheduler,
  onePacket: false,
  schedulerFlags: 0,
});
const desired: DesiredService[] = Array.from({ length: 5 }, (_, i) => ({ spec: spec(i + 1), destinations: [] }));
const inKernel = (specs: ServiceSpec[]): ServiceEntry[] => specs.map((s) => ({ ...s }));
const addresses = (xs: Array<{ key: ServiceSpec['key'] }>): string[] => xs.map((x) => (x.key.kind === 'address' ? x.key.address : '?'));

describe('planPartialRead', () => {
  it('rotates through the services `budget` at a time and wraps around', () => {
    const kernelServices = inKernel(desired.map((d) => d.spec));
    let cursor = 0;
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const p = planPartialRead({ desired, kernelServices, mustRead: new Set(), cursor, budget: 2 });
      seen.push(addresses(p.dump));
      expect(addresses(p.compare.map((d) => d.spec))).toEqual(addresses(p.dump));
      cursor = p.nextCursor;
    }
    expect(seen).toEqual([['10.0.0.1', '10.0.0.2'], ['10.0.0.3', '10.0.0.4'], ['10.0.0.1', '10.0.0.5']]);
  });

  it('always compares missing, changed and must-read services, on top of the budget', () => {
    const kernelServices = inKernel([spec(1), spec(2, 'rr'), spec(3), spec(4)]);
    const p = planPartialRead({ desired, kernelServices, mustRead: new Set(['tcp/ipv4/10.0.0.4/80']), cursor: 0, budget: 1 });
    // 10.0.0.5 missing (added whole, nothing to dump), .2 has another scheduler, .4 changed health, .1 the rotation
    expect(addresses(p.compare.map((d) => d.spec))).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5']);
    expect(addresses(p.dump)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
  });

  it('an empty plan or a budget covering everything reads everything once', () => {
    expect(planPartialRead({ desired: [], kernelServices: [], mustRead: new Set(), cursor: 7, budget: 3 })).toEqual({ compare: [], dump: [], nextCursor: 0 });
    const all = planPartialRead({ desired, kernelServices: inKernel(desired.map((d) => d.spec)), mustRead: new Set(), cursor: 3, budget: Infinity });
    expect(all.dump).toHaveLength(5);
  });
});
