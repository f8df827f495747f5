import type { GlobalDefs, ScriptCommand, VrrpInstance } from '../../config/model.js';
import { scriptUserOf } from '../../scripts/runAs.js';
import { settleScripts } from '../../scripts/settle.js';
import type { Logger } from '../../util/log.js';
import type { ScriptInvocation, ScriptOutcome } from '../edge/scriptRunner.js';

/**
 * The notify scripts of instances and sync groups (argv, never a shell) and the notifications the daemon
 * adapts (the notify FIFOs). Scripts still running at stop get a grace, then their process groups end.
 */

/** One state notification of an instance or sync group, as keepalived's notify script and FIFO get it. */
export interface VrrpNotification {
  type: 'INSTANCE' | 'GROUP';
  name: string;
  state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
  /** The instance's effective priority; 0 for a group. */
  priority: number;
}

/** What owns notify scripts: a vrrp_instance or a vrrp_sync_group. */
export type NotifyOwner = Pick<VrrpInstance, 'name' | 'notify' | 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop'>;

/** A script's argv and user: its own user, else script_user (src/scripts/runAs.ts, the rule every script follows). */
export function scriptRunAs(command: ScriptCommand, scriptUser: GlobalDefs['scriptUser']): Pick<ScriptInvocation, 'argv' | 'user' | 'group'> {
  const runAs: Pick<ScriptInvocation, 'argv' | 'user' | 'group'> = { argv: command.argv };
  const user = scriptUserOf(command, scriptUser);
  if (user) runAs.user = user.user;
  if (user?.group !== undefined) runAs.group = user.group;
  return runAs;
}

export class NotifyRunner {
  /** notify scripts still running: settle() waits for them (bounded) so notify_stop is not cut off. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Aborted by settle(): scripts still running then (after the grace) have their groups ended. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly runScript: (invocation: ScriptInvocation) => Promise<ScriptOutcome>,
    private readonly logger: Logger,
    /** The current script_user (a reload may change it). */
    private readonly scriptUser: () => GlobalDefs['scriptUser'],
    private readonly onNotify: ((notification: VrrpNotification) => void) | undefined,
  ) {}

  /** notify_master/backup/fault/stop, then `notify TYPE NAME STATE PRIORITY` (keepalived's argument order). */
  run(owner: NotifyOwner, type: 'INSTANCE' | 'GROUP', to: string, priority: number): void {
    const state = to === 'INIT' ? 'STOP' : to;
    const specific: Record<string, ScriptCommand | undefined> = {
      MASTER: owner.notifyMaster,
      BACKUP: owner.notifyBackup,
      FAULT: owner.notifyFault,
      STOP: owner.notifyStop,
    };
    const hook = specific[state];
    if (hook) this.start(owner.name, hook, []);
    if (owner.notify) this.start(owner.name, owner.notify, [type, owner.name, state, String(priority)]);
    if (state === 'MASTER' || state === 'BACKUP' || state === 'FAULT' || state === 'STOP') {
      this.onNotify?.({ type, name: owner.name, state, priority });
    }
  }

  /** Waits up to graceMs for the scripts still running, then ends their groups and waits killWaitMs more. */
  settle(graceMs: number, killWaitMs: number): Promise<void> {
    return settleScripts(this.pending, this.stopping, graceMs, killWaitMs);
  }

  private start(name: string, command: ScriptCommand, extraArgs: string[]): void {
    const invocation: ScriptInvocation = { ...scriptRunAs(command, this.scriptUser()), timeoutMs: 0, signal: this.stopping.signal, leftovers: 'keep' };
    invocation.argv = [...command.argv, ...extraArgs];
    const running = this.runScript(invocation).then((outcome) => {
      this.pending.delete(running);
      if (outcome.exitCode !== 0) {
        this.logger.warn({ event: 'notify_failed', instance: name, argv: invocation.argv, ...outcome }, 'notify script failed');
      }
    });
    this.pending.add(running);
  }
}
