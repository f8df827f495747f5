import type { GlobalDefs, ScriptCommand } from '../config/model.js';
import { resolveScriptRunAs, type RunAs } from './runAs.js';
import { daemonIds, systemUserDatabase } from './userDatabase.js';

/**
 * A script's identity on this host (the shared rule of runAs.ts over /etc/passwd and /etc/group): the
 * ids to run it with, undefined for the daemon's own user, or why it must not run.
 */
export function hostScriptIdentity(command: Pick<ScriptCommand, 'user' | 'group'>, scriptUser: GlobalDefs['scriptUser']): RunAs | { refused: string } | undefined {
  const resolved = resolveScriptRunAs(command, scriptUser, systemUserDatabase(), daemonIds());
  if (!resolved.ok) return { refused: resolved.error };
  return resolved.source === 'daemon' ? undefined : resolved.runAs;
}
