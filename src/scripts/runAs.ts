import type { GlobalDefs, ScriptCommand } from '../config/model.js';
import type { UserDatabase } from './userDatabase.js';

/**
 * Who a script runs as — one rule for every kind of script (vrrp_script, notify*, MISC_CHECK, quorum_*,
 * notify_up/down), used by `-t`, at start and by the runtime. Pure: the user database is passed in.
 *
 * keepalived's rule (lib/notify.c): the script's own `user [group]`, else global_defs `script_user`, else
 * the user `keepalived_script` if it exists, else the daemon's own user (root). A user or group that does
 * not exist is refused — the script never runs as root instead.
 */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** A `USER [GROUP]` as written in the config. */
export interface ScriptUserSpec {
  readonly user: string;
  readonly group?: string;
}

export type RunAsResult =
  | { readonly ok: true; readonly runAs: RunAs; readonly source: 'script' | 'script_user' | 'default' | 'daemon' }
  | { readonly ok: false; readonly error: string };

/** keepalived's default script user when no script_user is set. */
export const DEFAULT_SCRIPT_USER = 'keepalived_script';

const NUMERIC = /^\d{1,10}$/;

/** The script's own `user [group]`, else the global `script_user`; undefined when neither is set. */
export function scriptUserOf(command: Pick<ScriptCommand, 'user' | 'group'>, scriptUser: GlobalDefs['scriptUser']): ScriptUserSpec | undefined {
  if (command.user !== undefined) return command.group !== undefined ? { user: command.user, group: command.group } : { user: command.user };
  if (scriptUser) return scriptUser.group !== undefined ? { user: scriptUser.user, group: scriptUser.group } : { user: scriptUser.user };
  return undefined;
}

/**
 * `USER [GROUP]` → numeric ids. A name is looked up in passwd (its primary group unless GROUP is given).
 * A number that is no user's name is taken as a uid (keepalived 2.2.7 refuses it: getpwnam("65534") fails)
 * and gets its own group: the passwd entry's gid for that uid if there is one, else the same number —
 * never gid 0 by accident. GROUP likewise: a group name, else a number.
 */
export function resolveUserSpec(spec: ScriptUserSpec, db: UserDatabase): RunAsResult & { numeric?: boolean } {
  let uid: number;
  let gid: number;
  let numeric = false;
  const named = db.userByName(spec.user);
  if (named) {
    uid = named.uid;
    gid = named.gid;
  } else if (NUMERIC.test(spec.user)) {
    numeric = true;
    uid = Number(spec.user);
    gid = db.userById(uid)?.gid ?? uid;
  } else {
    return { ok: false, error: `user '${spec.user}' does not exist` };
  }
  if (spec.group !== undefined) {
    const group = db.groupByName(spec.group);
    if (group) gid = group.gid;
    else if (NUMERIC.test(spec.group)) gid = Number(spec.group);
    else return { ok: false, error: `group '${spec.group}' does not exist` };
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) return { ok: false, error: `id out of range in '${spec.user}${spec.group ? ` ${spec.group}` : ''}'` };
  return { ok: true, runAs: { uid, gid }, source: 'script', numeric };
}

/**
 * The effective identity of a script: `spec` (from scriptUserOf) when given, else keepalived_script when
 * that user exists, else `daemon` (the daemon's own ids).
 */
export function resolveScriptRunAs(
  command: Pick<ScriptCommand, 'user' | 'group'>,
  scriptUser: GlobalDefs['scriptUser'],
  db: UserDatabase,
  daemon: RunAs,
): RunAsResult {
  const spec = scriptUserOf(command, scriptUser);
  if (spec) {
    const resolved = resolveUserSpec(spec, db);
    if (!resolved.ok) return resolved;
    return { ok: true, runAs: resolved.runAs, source: command.user !== undefined ? 'script' : 'script_user' };
  }
  const fallback = db.userByName(DEFAULT_SCRIPT_USER);
  if (fallback) return { ok: true, runAs: { uid: fallback.uid, gid: fallback.gid }, source: 'default' };
  return { ok: true, runAs: daemon, source: 'daemon' };
}

