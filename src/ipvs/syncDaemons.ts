/**
 * Connection sync daemons, pure: which daemons a configuration wants for a role, and the ordered kernel
 * operations that take the running set to the wanted one without a gap. The kernel runs at most one
 * daemon per state (master, backup), both at once if asked; a changed daemon of the same state can only
 * be replaced (stop, then start). What drives the role (VRRP) is the caller's business.
 */
import type { LvsSyncDaemon } from '../config/model.js';
import type { SyncDaemonEntry, SyncDaemonSpec, SyncDaemonState } from './types.js';

/**
 * master / backup: the named VRRP instance is MASTER / anything else; both: no instance is named (keepalived
 * then runs both daemons all the time).
 */
export type SyncRole = 'master' | 'backup' | 'both';

export type SyncDaemonOp =
  | { op: 'start'; spec: SyncDaemonSpec; reason: 'added' | 'changed' }
  | { op: 'stop'; state: SyncDaemonState; syncId: number; reason: 'removed' | 'changed' };

/** The daemons one configuration runs in one role. */
export function wantedSyncDaemons(config: LvsSyncDaemon | undefined, role: SyncRole): SyncDaemonSpec[] {
  if (config === undefined) return [];
  const states: SyncDaemonState[] = role === 'both' ? ['master', 'backup'] : [role];
  return states.map((state) => {
    const spec: SyncDaemonSpec = { state, interface: config.interface, syncId: config.syncId };
    if (config.maxLen !== undefined) spec.maxLen = config.maxLen;
    if (config.port !== undefined) spec.port = config.port;
    if (config.ttl !== undefined) spec.ttl = config.ttl;
    if (config.group !== undefined) spec.group = config.group;
    return spec;
  });
}

/** The kernel's defaults (ip_vs_sync.c), so a spec without options matches what GET_DAEMON reports. */
const KERNEL_DEFAULTS = { port: 8848, ttl: 1, group: '224.0.0.81' } as const;

/**
 * Whether a running daemon already is the wanted one. An option the spec leaves to the kernel matches the
 * kernel's default; maxlen left unset matches any (the kernel derives it from the MTU).
 */
export function sameDaemon(running: SyncDaemonEntry | SyncDaemonSpec, wanted: SyncDaemonSpec): boolean {
  if (running.state !== wanted.state || running.interface !== wanted.interface || running.syncId !== wanted.syncId) return false;
  // An option the running side does not report (a kernel before 4.3, or a spec) is not compared.
  const same = (v: number | string | undefined, want: number | string): boolean => v === undefined || v === want;
  return same(running.port, wanted.port ?? KERNEL_DEFAULTS.port)
    && same(running.ttl, wanted.ttl ?? KERNEL_DEFAULTS.ttl)
    && same(running.group, wanted.group ?? KERNEL_DEFAULTS.group)
    && (wanted.maxLen === undefined || running.maxLen === undefined || running.maxLen === wanted.maxLen);
}

/**
 * Ordered operations from `running` to `wanted`: first the daemons of a state that does not run yet
 * (so a role switch starts the new daemon before the old one stops: no moment without one), then the
 * replacements of changed daemons (stop + start: the kernel allows one per state), then the stops of
 * states no longer wanted.
 */
export function planSyncDaemons(running: readonly (SyncDaemonEntry | SyncDaemonSpec)[], wanted: readonly SyncDaemonSpec[]): SyncDaemonOp[] {
  const byState = new Map(running.map((d) => [d.state, d]));
  const starts: SyncDaemonOp[] = [];
  const replacements: SyncDaemonOp[] = [];
  const stops: SyncDaemonOp[] = [];
  for (const spec of wanted) {
    const current = byState.get(spec.state);
    if (current === undefined) starts.push({ op: 'start', spec, reason: 'added' });
    else if (!sameDaemon(current, spec)) {
      replacements.push({ op: 'stop', state: current.state, syncId: current.syncId, reason: 'changed' }, { op: 'start', spec, reason: 'changed' });
    }
  }
  const wantedStates = new Set(wanted.map((w) => w.state));
  for (const d of running) if (!wantedStates.has(d.state)) stops.push({ op: 'stop', state: d.state, syncId: d.syncId, reason: 'removed' });
  return [...starts, ...replacements, ...stops];
}
