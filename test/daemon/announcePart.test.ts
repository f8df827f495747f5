/**
 * The announce part (src/daemon/announcePart.ts) against a fake kernel table and a fake clock: one look
 * at start without announce_route (a crashed run's routes go); routes follow the quorum; start-up adopts
 * what a previous run left and deletes only the stale; a reload touches only what changed; stop withdraws first and then waits the
 * drain before resolving (the lifecycle stops IPVS after it); refused changes are counted and retried.
 */
import { describe, expect, it } from 'vitest';
import type { HostRoute } from '../../src/announce/announcePlan.js';
import type { AnnouncedRouteTable, RouteOutcome } from '../../src/announce/kernelRoutes.js';
import { AnnouncePart } from '../../src/daemon/announcePart.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { globalDefs, model, realServer, virtualServer } from './modelFixtures.js';

class FakeTable implements AnnouncedRouteTable {
  readonly routes = new Map<string, HostRoute>();
  opened = 0;
  closed = 0;
  readonly log: string[] = [];
  refuse = new Set<string>();

  list(table: number): Promise<HostRoute[]> {
    return Promise.resolve([...this.routes.values()].filter((r) => r.table === table));
  }

  add(routes: readonly HostRoute[]): Promise<RouteOutcome> {
    return Promise.resolve(this.op(routes, 'add'));
  }

  remove(routes: readonly HostRoute[]): Promise<RouteOutcome> {
    return Promise.resolve(this.op(routes, 'del'));
  }

  close(): void {
    this.closed++;
  }

  shown(): string[] {
    return [...this.routes.keys()].sort();
  }

  private op(routes: readonly HostRoute[], what: 'add' | 'del'): RouteOutcome {
    const out: RouteOutcome = { done: [], failed: [] };
    for (const r of routes) {
      const id = `${r.table} ${r.prefix}`;
      if (this.refuse.has(id)) {
        out.failed.push({ route: r, error: 'EPERM' });
        continue;
      }
      if (what === 'add') this.routes.set(id, r);
      else this.routes.delete(id);
      this.log.push(`${what} ${id}`);
      out.done.push(r);
    }
    return out;
  }
}

const host = (address: string, table = 248): HostRoute => ({ family: 'inet', address, prefix: `${address}/32`, table });
const vs = (address: string, announceRoute = true) =>
  virtualServer({ address, port: 80, protocol: 'TCP', realServers: [realServer('192.168.1.10')], ...(announceRoute ? { announceRoute: true as const } : {}) });
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function harness(quorum: Record<string, boolean | undefined> = {}) {
  const table = new FakeTable();
  const clock = new FakeClock();
  const part = new AnnouncePart({
    open: () => {
      table.opened++;
      return table;
    },
    quorumOf: (key) => quorum[key],
    clock,
    logger: silentLogger(),
  });
  return { table, clock, part, quorum };
}

describe('AnnouncePart', () => {
  it('without announce_route: one look at start, closed at once, nothing held, no wait at stop', async () => {
    const { table, part } = harness({ '10.0.0.1:80/TCP': true });
    await part.start(model({ virtualServers: [vs('10.0.0.1', false)] }));
    expect([table.opened, table.closed]).toEqual([1, 1]);
    part.refresh();
    await part.reload(model({ virtualServers: [vs('10.0.0.1', false)] }));
    // Resolves: the fake clock never moves, so a drain would never end.
    await part.stop();
    expect(table.opened).toBe(1);
    expect(table.log).toEqual([]);
    expect(part.announcedRoutes()).toEqual([]);
  });

  it('without announce_route: the routes a kill -9 left in the table go at start (only ours, only that table)', async () => {
    const { table, part } = harness({});
    table.routes.set('248 10.0.0.1/32', host('10.0.0.1'));
    table.routes.set('300 10.0.0.9/32', host('10.0.0.9', 300));
    await part.start(model({ virtualServers: [vs('10.0.0.1', false)] }));
    expect(table.log).toEqual(['del 248 10.0.0.1/32']);
    expect(table.shown()).toEqual(['300 10.0.0.9/32']);
    expect(table.closed).toBe(1);
    expect(part.announceCounters()).toEqual({ changes: 1, errors: 0 });
  });

  it('holds the route while the quorum is up, withdraws it when lost, counts each change', async () => {
    const { table, part, quorum } = harness({ '10.0.0.1:80/TCP': true, '10.0.0.2:80/TCP': false });
    await part.start(model({ virtualServers: [vs('10.0.0.1'), vs('10.0.0.2')] }));
    expect(table.shown()).toEqual(['248 10.0.0.1/32']);
    quorum['10.0.0.1:80/TCP'] = false;
    quorum['10.0.0.2:80/TCP'] = true;
    part.refresh();
    await settle();
    expect(table.shown()).toEqual(['248 10.0.0.2/32']);
    expect(part.announcedRoutes()).toEqual([
      { virtualServer: '10.0.0.1:80/TCP', prefix: '10.0.0.1/32', table: 248, announced: false },
      { virtualServer: '10.0.0.2:80/TCP', prefix: '10.0.0.2/32', table: 248, announced: true },
    ]);
    expect(part.announceCounters()).toEqual({ changes: 3, errors: 0 });
  });

  it('start-up: a route left by a previous run stays while the quorum is unknown, a stale one goes at once', async () => {
    const { table, part, quorum } = harness({});
    table.routes.set('248 10.0.0.1/32', host('10.0.0.1'));
    table.routes.set('248 10.0.0.9/32', host('10.0.0.9'));
    table.routes.set('300 10.0.0.9/32', host('10.0.0.9', 300));
    await part.start(model({ virtualServers: [vs('10.0.0.1')] }));
    expect(table.shown()).toEqual(['248 10.0.0.1/32', '300 10.0.0.9/32']);
    expect(table.log).toEqual(['del 248 10.0.0.9/32']);
    quorum['10.0.0.1:80/TCP'] = false;
    part.refresh();
    await settle();
    expect(table.shown()).toEqual(['300 10.0.0.9/32']);
  });

  it('a reload adds and deletes only what changed', async () => {
    const { table, part } = harness({ '10.0.0.1:80/TCP': true, '10.0.0.2:80/TCP': true, '10.0.0.3:80/TCP': true });
    await part.start(model({ virtualServers: [vs('10.0.0.1'), vs('10.0.0.2')] }));
    table.log.length = 0;
    await part.reload(model({ virtualServers: [vs('10.0.0.1'), vs('10.0.0.3'), vs('10.0.0.2', false)] }));
    expect(table.log).toEqual(['add 248 10.0.0.3/32', 'del 248 10.0.0.2/32']);
    table.log.length = 0;
    await part.reload(model({ virtualServers: [vs('10.0.0.1'), vs('10.0.0.3')] }));
    expect(table.log).toEqual([]);
  });

  it('a reload to another table moves the routes; one dropping every announce_route closes the socket', async () => {
    const { table, part } = harness({ '10.0.0.1:80/TCP': true });
    await part.start(model({ virtualServers: [vs('10.0.0.1')] }));
    await part.reload(model({ global: globalDefs({ announceRouteTable: 300 }), virtualServers: [vs('10.0.0.1')] }));
    expect(table.shown()).toEqual(['300 10.0.0.1/32']);
    await part.reload(model({ global: globalDefs({ announceRouteTable: 300 }), virtualServers: [vs('10.0.0.1', false)] }));
    expect(table.shown()).toEqual([]);
    expect(table.closed).toBe(1);
    await part.reload(model({ virtualServers: [vs('10.0.0.1')] }));
    expect(table.opened).toBe(2);
    expect(table.shown()).toEqual(['248 10.0.0.1/32']);
  });

  it('stop withdraws every route first, then resolves only after announce_route_drain seconds', async () => {
    const { table, part, clock } = harness({ '10.0.0.1:80/TCP': true });
    await part.start(model({ global: globalDefs({ announceRouteDrain: 2.5 }), virtualServers: [vs('10.0.0.1')] }));
    let stopped = false;
    const stopping = part.stop().then(() => (stopped = true));
    await settle();
    expect(table.shown()).toEqual([]);
    expect(table.closed).toBe(1);
    clock.advance(2499);
    await settle();
    expect(stopped).toBe(false);
    clock.advance(1);
    await stopping;
    expect(stopped).toBe(true);
    part.refresh(); // a quorum event after stop adds nothing
    await settle();
    expect(table.shown()).toEqual([]);
  });

  it('stop waits no drain when nothing was announced, or with drain 0', async () => {
    for (const [drain, quorum] of [[2, false], [0, true]] as const) {
      const { part } = harness({ '10.0.0.1:80/TCP': quorum });
      await part.start(model({ global: globalDefs({ announceRouteDrain: drain }), virtualServers: [vs('10.0.0.1')] }));
      await part.stop(); // a fake clock never fires by itself: a wait would hang here
    }
  });

  it('a refused change is counted, logged, not taken as held, and retried at the next refresh', async () => {
    const { table, part } = harness({ '10.0.0.1:80/TCP': true });
    table.refuse.add('248 10.0.0.1/32');
    await part.start(model({ virtualServers: [vs('10.0.0.1')] }));
    expect(part.announceCounters()).toEqual({ changes: 0, errors: 1 });
    expect(part.announcedRoutes()[0]?.announced).toBe(false);
    table.refuse.clear();
    part.refresh();
    await settle();
    expect(table.shown()).toEqual(['248 10.0.0.1/32']);
    expect(part.announceCounters()).toEqual({ changes: 1, errors: 1 });
  });
});
