/**
 * The bounded end of a set of scripts, shared by the VRRP side (a stopping unit's notify_stop) and the
 * health-check side (omega's notify_down). No processes here: the scripts were started with
 * `controller.signal` (src/scripts/scriptProcess.ts), and aborting it ends their groups.
 */

/** Waits up to `graceMs` for `pending`, then aborts the rest and waits at most `killWaitMs` more. */
export async function settleScripts(pending: Iterable<Promise<unknown>>, controller: AbortController, graceMs: number, killWaitMs: number): Promise<void> {
  const all = Promise.all([...pending]);
  await raceTimeout(all, graceMs);
  controller.abort();
  await raceTimeout(all, killWaitMs);
}

async function raceTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
