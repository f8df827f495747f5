/**
 * `virtual_server group G` with `protocol TCP` next to one with `protocol UDP`: two IPVS services, and two
 * virtual servers on the health side too. Before, both were `group:G` there: one checker stopped after its
 * first run and the TCP service followed the UDP one's health. Wired as src/daemon.ts wires the parts —
 * config → health plan → the real check engine (fake clock, scripted probes) → HealthPart → IpvsPart →
 * IpvsService → IpvsClient over the fake kernel — so the assertion is on the kernel table.
 */
import { describe, expect, it } from 'vitest';
import { HealthPart, type HealthRunner } from '../../src/daemon/healthPart.js';
import { IpvsPart } from '../../src/daemon/ipvsPart.js';
import { HealthCheckEngine } from '../../src/healthcheck/core/engine.js';
import type { HealthEvent, QuorumChange, RealServerChange } from '../../src/healthcheck/events.js';
import { planFromConfig } from '../../src/healthcheck/fromConfig.js';
import type { CheckerSpec, HealthCheckPlan } from '../../src/healthcheck/plan.js';
import type { KnownDestination } from '../../src/healthcheck/service.js';
import { IpvsClient } from '../../src/ipvs/ipvsClient.js';
import { IpvsService } from '../../src/ipvs/ipvsService.js';
import { FakeClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { model } from '../config/helpers.js';
import { FakeIpvsKernel } from '../ipvs/fakeKernel.js';

const CONF = `
virtual_server_group G {
  10.0.0.100 53
}
virtual_server group G {
  protocol TCP
  delay_loop 1
  real_server 10.1.0.1 53 { TCP_CHECK { connect_timeout 1 retry 0 } }
}
virtual_server group G {
  protocol UDP
  delay_loop 1
  real_server 10.1.0.1 53 { UDP_CHECK { connect_timeout 1 retry 0 } }
}
`;

/** The health room's engine in this thread, behind the interface HealthPart takes (HealthCheckService's). */
class EngineRunner implements HealthRunner {
  readonly known = new Map<string, Map<string, KnownDestination>>();
  readonly quorum = new Map<string, boolean>();
  readonly probes = new Map<string, number>();
  tcpUp = true;
  private readonly changes = new Set<(c: RealServerChange) => void>();
  private readonly quorums = new Set<(c: QuorumChange) => void>();
  readonly engine: HealthCheckEngine;
  constructor(clock: FakeClock) {
    this.engine = new HealthCheckEngine({
      clock,
      random: () => 0,
      probes: {
        run: (spec: CheckerSpec) => {
          this.probes.set(spec.type, (this.probes.get(spec.type) ?? 0) + 1);
          const up = spec.type === 'TCP_CHECK' ? this.tcpUp : true;
          return Promise.resolve({ up, reason: up ? 'ok' : 'refused', durationMs: 1 });
        },
      },
      scripts: { run: () => undefined },
      onEvent: (e: HealthEvent) => {
        if (e.kind === 'quorum') {
          this.quorum.set(e.virtualServer, e.up);
          for (const l of this.quorums) l(e);
          return;
        }
        const m = this.known.get(e.virtualServer) ?? new Map<string, KnownDestination>();
        this.known.set(e.virtualServer, m);
        m.set(e.realServer, { alive: e.alive, inTable: e.inTable, weight: e.weight, sorryServer: e.sorryServer, reason: e.reason });
        for (const l of this.changes) l(e);
      },
    });
  }
  start(plan: HealthCheckPlan): void {
    this.engine.start(plan);
  }
  reload(plan: HealthCheckPlan): void {
    this.engine.reload(plan);
  }
  async stop(): Promise<void> {
    this.engine.stop();
  }
  async snapshotView(): Promise<null> {
    return null;
  }
  onChange(l: (c: RealServerChange) => void): () => void {
    this.changes.add(l);
    return () => this.changes.delete(l);
  }
  onQuorum(l: (c: QuorumChange) => void): () => void {
    this.quorums.add(l);
    return () => this.quorums.delete(l);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('virtual_server group G over TCP and over UDP (daemon parts, fake kernel)', () => {
  it('keeps both checkers running and each service follows its own checker', async () => {
    const config = model(CONF);
    const clock = new FakeClock(0);
    const logger = createLogger({ level: 'silent', format: 'json' });
    const kernel = new FakeIpvsKernel();
    const ipvs = new IpvsPart(async () => ({ runner: new IpvsService(new IpvsClient(kernel), { clock }), close: () => undefined }), logger);
    const runner = new EngineRunner(clock);
    const health = new HealthPart({
      runner,
      plan: (m) => planFromConfig(m, () => undefined),
      onRealServerChange: (c) => ipvs.onRealServerChange(c),
      observeCheckDuration: () => undefined,
      clock,
      logger,
    });
    await ipvs.start(config);
    await health.start(config);
    const destinations = (protocol: string): string[] =>
      kernel.table.filter((s) => s.key.kind === 'address' && s.key.protocol === protocol).flatMap((s) => s.destinations.map((d) => `${d.address}:${d.port} w${d.weight}`));
    const tick = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100);
        await settle();
      }
    };

    await tick(5_000);
    expect(kernel.table.map((s) => (s.key.kind === 'address' ? `${s.key.protocol} ${s.key.address}:${s.key.port}` : '')).sort()).toEqual(['tcp 10.0.0.100:53', 'udp 10.0.0.100:53']);
    expect(destinations('tcp')).toEqual(['10.1.0.1:53 w1']);
    expect(destinations('udp')).toEqual(['10.1.0.1:53 w1']);
    // delay_loop 1 over 5 s: each checker ran about five times, neither stopped after its first run.
    expect(runner.probes.get('TCP_CHECK')).toBeGreaterThanOrEqual(4);
    expect(runner.probes.get('UDP_CHECK')).toBeGreaterThanOrEqual(4);
    expect(health.virtualServers().map((v) => `${v.key} ${v.realServers.map((r) => `${r.address}:${r.port} ${r.up ? 'up' : 'down'}`).join()}`).sort()).toEqual([
      'group:G/TCP 10.1.0.1:53 up',
      'group:G/UDP 10.1.0.1:53 up',
    ]);

    runner.tcpUp = false;
    const udpBefore = runner.probes.get('UDP_CHECK')!;
    await tick(5_000);
    expect(destinations('tcp')).toEqual([]);
    expect(destinations('udp')).toEqual(['10.1.0.1:53 w1']);
    expect(runner.probes.get('UDP_CHECK')! - udpBefore).toBeGreaterThanOrEqual(4);

    runner.tcpUp = true;
    await tick(3_000);
    expect(destinations('tcp')).toEqual(['10.1.0.1:53 w1']);
    await health.stop();
    await ipvs.stop();
  });
});
