/**
 * vrrp_sync_group (pure): the member instances change state together, so that e.g. the external and the
 * internal VIP of a NAT director always live on the same box.
 *
 *  - a member in FAULT of its own (interface, tracker) puts every other member in FAULT; they leave it only
 *    when no member has a fault of its own any more (keepalived vrrp_sync_fault / vrrp_sync_leave_fault);
 *  - a member that becomes MASTER by itself (down timer, priority 0, owner) takes the others to MASTER;
 *  - a member that yields MASTER → BACKUP takes the others to BACKUP.
 *
 * keepalived 2.2.7 also holds a member back from MASTER until every member "wants" master
 * (vrrp_sync_can_goto_master, to avoid thrashing). We propagate at once instead: with the identical
 * priorities sync groups are normally configured with, every member's down timer runs out together anyway.
 */
import type { VrrpState, VrrpStateMachine, VrrpTransition } from './vrrpStateMachine.js';

export type SyncGroupState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

export interface SyncGroupEffects {
  /** The group as a whole changed state: notify_master/backup/fault of the vrrp_sync_group. */
  onGroupTransition(from: SyncGroupState, to: SyncGroupState, reason: string): void;
}

export class VrrpSyncGroup {
  private groupState: SyncGroupState = 'INIT';
  /** True while we drive members ourselves, so their resulting transitions are not propagated again. */
  private propagating = false;
  private readonly faultSource: string;

  constructor(
    readonly name: string,
    readonly members: readonly VrrpStateMachine[],
    private readonly effects?: SyncGroupEffects,
  ) {
    if (new Set(members).size !== members.length) throw new RangeError(`sync group ${name}: duplicate member`);
    this.faultSource = `sync group ${name}`;
    for (const member of members) {
      member.addTransitionListener((t) => this.memberTransition(member, t));
      member.addFaultListener(() => this.syncFaults());
    }
    this.syncFaults();
  }

  get state(): SyncGroupState {
    return this.groupState;
  }

  /** Members with a fault of their own (not one the group imposed). */
  private ownFaultMembers(): VrrpStateMachine[] {
    return this.members.filter((m) => m.faultReasons.some((r) => r !== this.faultSource));
  }

  /** Every member carries the group fault iff some other member has a fault of its own. */
  private syncFaults(): void {
    if (this.propagating) return;
    this.propagating = true;
    try {
      const faulty = this.ownFaultMembers();
      for (const member of this.members) {
        const othersFaulty = faulty.some((f) => f !== member);
        member.setFault(this.faultSource, othersFaulty);
      }
    } finally {
      this.propagating = false;
    }
    this.updateGroupState('member fault changed');
  }

  private memberTransition(member: VrrpStateMachine, t: VrrpTransition): void {
    if (this.propagating) return;
    this.propagating = true;
    try {
      if (t.to === 'MASTER') {
        for (const other of this.members) if (other !== member) other.forceMaster(`sync group ${this.name}: ${member.name} became MASTER`);
      } else if (t.from === 'MASTER' && t.to === 'BACKUP') {
        for (const other of this.members) if (other !== member) other.forceBackup(`sync group ${this.name}: ${member.name} became BACKUP`);
      } else if (t.to === 'BACKUP') {
        // A member starting (or leaving FAULT) late joins a group that already has a master.
        const master = this.members.find((m) => m !== member && m.state === 'MASTER');
        if (master) member.forceMaster(`sync group ${this.name}: ${master.name} is MASTER`);
      }
    } finally {
      this.propagating = false;
    }
    this.updateGroupState(`${member.name}: ${t.reason}`);
  }

  private updateGroupState(reason: string): void {
    const states: VrrpState[] = this.members.map((m) => m.state);
    let next: SyncGroupState;
    if (states.some((s) => s === 'FAULT')) next = 'FAULT';
    else if (states.every((s) => s === 'MASTER')) next = 'MASTER';
    else if (states.every((s) => s === 'INIT')) next = 'INIT';
    else if (states.some((s) => s === 'MASTER')) return; // mid-transition: keep the last settled state
    else next = 'BACKUP';
    if (next === this.groupState) return;
    const from = this.groupState;
    this.groupState = next;
    this.effects?.onGroupTransition(from, next, reason);
  }
}
