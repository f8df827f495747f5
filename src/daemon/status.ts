import type { MetricsListenerStatus } from '../metrics/retryingListener.js';
import type { AnnouncedRouteSnapshot, SyncDaemonSnapshot, VirtualServerSnapshot, VrrpInstanceSnapshot } from '../metrics/sources.js';

/**
 * What `tslvsd status` and the SIGUSR1 state dump show: one JSON document, built from the same snapshots
 * the metrics read, so the three views never disagree.
 */
export interface DaemonStatus {
  version: string;
  pid: number;
  /** ISO time the daemon started. */
  startedAt: string;
  configFile: string;
  mode: 'full' | 'vrrp-only' | 'check-only';
  lastReload?: { at: string; successful: boolean; errors: string[] };
  vrrpInstances: Array<Omit<VrrpInstanceSnapshot, 'lastTransitionEpochMs'> & { lastTransition: string | null }>;
  virtualServers: VirtualServerSnapshot[];
  /** lvs_sync_daemon: absent when none is configured. */
  syncDaemon?: Omit<SyncDaemonSnapshot, 'lastChangeEpochMs'> & { lastChange: string | null };
  /** The metrics listener: absent with `--metrics-listen off`. */
  metricsListener?: MetricsListenerStatus;
  /** announce_route: each virtual server's prefixes and whether the route is held; absent when none is configured. */
  announcedRoutes?: AnnouncedRouteSnapshot[];
}

export interface StatusInputs {
  version: string;
  pid: number;
  startedAtEpochMs: number;
  configFile: string;
  mode: DaemonStatus['mode'];
  lastReload?: { epochMs: number; successful: boolean; errors: string[] } | undefined;
  vrrpInstances: VrrpInstanceSnapshot[];
  virtualServers: VirtualServerSnapshot[];
  syncDaemon?: SyncDaemonSnapshot | undefined;
  metricsListener?: MetricsListenerStatus | undefined;
  announcedRoutes?: AnnouncedRouteSnapshot[] | undefined;
}

export function buildStatus(inputs: StatusInputs): DaemonStatus {
  return {
    version: inputs.version,
    pid: inputs.pid,
    startedAt: new Date(inputs.startedAtEpochMs).toISOString(),
    configFile: inputs.configFile,
    mode: inputs.mode,
    ...(inputs.lastReload
      ? { lastReload: { at: new Date(inputs.lastReload.epochMs).toISOString(), successful: inputs.lastReload.successful, errors: inputs.lastReload.errors } }
      : {}),
    vrrpInstances: inputs.vrrpInstances.map(({ lastTransitionEpochMs, ...rest }) => ({
      ...rest,
      lastTransition: lastTransitionEpochMs > 0 ? new Date(lastTransitionEpochMs).toISOString() : null,
    })),
    virtualServers: inputs.virtualServers,
    ...(inputs.syncDaemon ? { syncDaemon: syncStatus(inputs.syncDaemon) } : {}),
    ...(inputs.metricsListener ? { metricsListener: inputs.metricsListener } : {}),
    ...(inputs.announcedRoutes && inputs.announcedRoutes.length > 0 ? { announcedRoutes: inputs.announcedRoutes } : {}),
  };
}

function syncStatus({ lastChangeEpochMs, ...rest }: SyncDaemonSnapshot): NonNullable<DaemonStatus['syncDaemon']> {
  return { ...rest, lastChange: lastChangeEpochMs > 0 ? new Date(lastChangeEpochMs).toISOString() : null };
}

/** The human form of `tslvsd status`: a few aligned tables. */
export function formatStatusText(status: DaemonStatus): string {
  const out: string[] = [];
  out.push(`tslvsd ${status.version}, pid ${status.pid}, up since ${status.startedAt} (${status.mode}), config ${status.configFile}`);
  if (status.lastReload) {
    out.push(`last reload ${status.lastReload.at}: ${status.lastReload.successful ? 'ok' : 'FAILED, running the previous config'}`);
    for (const error of status.lastReload.errors) out.push(`  ${error}`);
  }
  const m = status.metricsListener;
  if (m && m.state !== 'up') {
    out.push(`metrics listener ${m.listen}: NOT UP (${m.error ?? m.state}), ${m.failures} failed attempt(s), next in ${((m.retryInMs ?? 0) / 1000).toFixed(0)} s`);
  } else if (m) out.push(`metrics listener ${m.listen}: up`);
  out.push('');
  out.push('VRRP instances');
  if (status.vrrpInstances.length === 0) out.push('  (none)');
  else {
    out.push(
      ...table(
        ['NAME', 'INTERFACE', 'VRID', 'STATE', 'PRIO', 'BASE', 'MASTER', 'SINCE', 'VIPS'],
        status.vrrpInstances.map((i) => [
          i.name,
          i.interface,
          String(i.vrid),
          i.state,
          String(i.effectivePriority),
          String(i.basePriority),
          i.masterAddress ?? '-',
          i.lastTransition ?? '-',
          i.vips.join(',') || '-',
        ]),
      ),
    );
  }
  for (const i of status.vrrpInstances) {
    for (const route of i.routes ?? []) out.push(`  ${i.name} holds route ${route}`);
    for (const rule of i.rules ?? []) out.push(`  ${i.name} holds rule ${rule}`);
  }
  out.push('');
  out.push('Virtual servers');
  if (status.virtualServers.length === 0) out.push('  (none)');
  for (const vs of status.virtualServers) {
    out.push(`  ${vs.key}  quorum ${vs.quorumUp ? 'up' : 'DOWN'}`);
    out.push(
      ...table(
        ['REAL SERVER', 'WEIGHT', 'STATE', 'CHECKERS'],
        vs.realServers.map((rs) => [
          `${rs.address.includes(':') ? `[${rs.address}]` : rs.address}:${rs.port}`,
          String(rs.weight),
          rs.up ? 'UP' : 'DOWN',
          rs.checkers.map((c) => `${c.type}:${c.up ? 'up' : 'down'}`).join(' ') || '-',
        ]),
      ).map((line) => `  ${line}`),
    );
  }
  const routes = status.announcedRoutes;
  if (routes) {
    out.push('');
    out.push('Announced routes (announce_route)');
    out.push(...table(['VIRTUAL SERVER', 'PREFIX', 'TABLE', 'ANNOUNCED'], routes.map((r) => [r.virtualServer, r.prefix, String(r.table), r.announced ? 'yes' : 'NO'])));
  }
  const sync = status.syncDaemon;
  if (sync) {
    out.push('');
    out.push('IPVS connection sync');
    out.push(
      ...table(
        ['INTERFACE', 'SYNCID', 'INSTANCE', 'ROLE', 'RUNNING', 'SWITCHES', 'ERRORS', 'SINCE'],
        [[sync.interface, String(sync.syncId), sync.vrrpInstance ?? '-', sync.role, sync.running.join('+') || 'none', String(sync.switches), String(sync.errors), sync.lastChange ?? '-']],
      ),
    );
    const hold = sync.preemptionHold;
    if (hold?.active) out.push(`  preemption held: catching up (${hold.connections} connections so far)`);
    else if (hold) out.push(`  last preemption hold: ${hold.reason ?? '?'} after ${hold.heldMs ?? '?'} ms, ${hold.connections} connections`);
  }
  return out.join('\n') + '\n';
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cells: string[]): string => '  ' + cells.map((c, col) => c.padEnd(widths[col]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
