/**
 * VIPs a previous run left on the interfaces (a `kill -9` leaves them) — the rule for keeping them at
 * start (pure). Removing them first and adding them back once master leaves a master that restarts alone
 * without its VIP for up to an advert interval; keeping them on a router that will be backup answers ARP
 * for another master's address. So:
 *
 * - **Adopt** (leave them in place) only an instance whose start-up leads to MASTER unless someone else
 *   speaks: the address owner (priority 255: master at once) or `state MASTER` (master after one advert
 *   interval + the minimum skew unless it hears a master). Every other instance removes them at once, as
 *   before (a `state BACKUP` instance waits 3 × advert_int + skew, which is listening for a master, not
 *   the start-up of one).
 * - **Release** (remove at once) as soon as another router is master — BACKUP having heard an advert of
 *   priority > 0, whoever wins (a higher master keeps the VIP; a lower one holds it until we preempt it,
 *   and two holders answering ARP gain nothing) — or on FAULT for any reason other than a track script
 *   that has not reported its first result yet. So a leftover is only ever held while nobody else is
 *   heard: at most one advert interval beside a live master (the time to hear its first advert).
 * - Once MASTER, the VIPs are the master's own: nothing left to decide.
 *
 * keepalived 2.2.7 (vrrp_scheduler.c vrrp_init_state): an owner (base priority 255, wanting MASTER,
 * interface up, no script still initialising) goes master in 1 µs without touching its addresses, so
 * its leftovers stay; every other instance runs vrrp_restore_interface(force) and removes them, including
 * `state MASTER` below 255 — which (outside a sync group) then waits the full master-down interval:
 * 3.42 s without its VIP at priority 150, measured (test/ns/vrrpRestart.test.ts).
 */

/** What the start-up rule needs of an instance's settings. */
export interface AdoptionSpec {
  priority: number;
  initialState: 'MASTER' | 'BACKUP';
}

/** What it needs of the running state machine. */
export interface AdoptionView {
  state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
  /** In BACKUP: the priority of the last advert heard (0 = that master left), undefined before any. */
  masterPriority: number | undefined;
  faultReasons: readonly string[];
}

export type LeftoverVerdict = 'keep' | 'adopted' | 'release';

/** May this instance keep the VIPs it finds on its interfaces at start? */
export function mayAdoptLeftoverVips(spec: AdoptionSpec): boolean {
  return spec.priority === 255 || spec.initialState === 'MASTER';
}

/** A held leftover, judged after every transition and every accepted advert. */
export function judgeLeftoverVips(view: AdoptionView): LeftoverVerdict {
  switch (view.state) {
    case 'MASTER':
      return 'adopted';
    case 'BACKUP':
      return view.masterPriority !== undefined && view.masterPriority > 0 ? 'release' : 'keep';
    case 'FAULT':
      // A script that has not reported yet ("track_script NAME (init)") may still report success.
      return view.faultReasons.length > 0 && view.faultReasons.every((r) => r.endsWith(' (init)')) ? 'keep' : 'release';
    case 'INIT':
      return 'keep';
  }
}
