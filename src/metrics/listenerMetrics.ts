import { Counter, type Registry } from 'prom-client';
import type { ListenerCounters } from '../util/connectionLimits.js';

/**
 * The local listeners' connection counters (metrics listener, status socket): how many were accepted,
 * closed at once over the connection cap, closed by a timeout. A rising `rejected` means someone holds
 * (or floods) the listener; the daemon itself is not affected by it.
 */
export type ListenerName = 'metrics' | 'status';

const SERIES: ReadonlyArray<[string, keyof ListenerCounters, string]> = [
  ['tslvsd_listener_connections_accepted_total', 'accepted', 'Connections accepted by a local listener'],
  ['tslvsd_listener_connections_rejected_total', 'rejected', 'Connections closed at once because the listener had its maximum open'],
  ['tslvsd_listener_connections_timed_out_total', 'timedOut', 'Connections closed by the idle, headers or request timeout'],
];

/** Registers the series; `listeners()` is read at scrape time (a listener that is off is absent). */
export function registerListenerMetrics(registry: Registry, listeners: () => ReadonlyArray<readonly [ListenerName, Readonly<ListenerCounters>]>): void {
  for (const [name, field, help] of SERIES) {
    new Counter({
      name,
      help,
      labelNames: ['listener'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [listener, counters] of listeners()) this.inc({ listener }, counters[field]);
      },
    });
  }
}
