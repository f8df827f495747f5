import type { NativeAddon } from '../net/nativeAddon.js';
import type { Logger } from '../util/log.js';

/**
 * The scheduler slice asked for the thread that sends the adverts (the main thread), in microseconds.
 * Linux's EEVDF scheduler lets a waking thread whose slice is shorter than the running one's preempt it
 * (custom slices, sched_setattr's sched_runtime, Linux 6.12+): at the default slice (1.4 ms on 2 cores)
 * the VRRP thread, woken by its advert timer while the checker thread or the kernel's TCP work holds the
 * core, may wait for that slice to end. Measured on this project's 2-core host (kernel 6.18) with 10,000
 * checks/s in the checker thread (bench/advert-jitter.ts, 120 s rows, alternated): main-thread stalls over
 * 2 ms 461 and 527 a minute at the default, 130 and 136 at 100 µs; advert p99 5.14 and 7.48 ms → 3.02 and
 * 2.88 ms. The thread sleeps between adverts and runs for microseconds at a time: a slice says how soon
 * it runs, not how much (the CPU share stays nice's), so this takes nothing from the checks.
 */
export const VRRP_THREAD_SLICE_US = 100;

/**
 * Asks for VRRP_THREAD_SLICE_US on the calling thread (TSLVSD_VRRP_SLICE_US=N asks for N; 0 leaves the
 * kernel's default, for comparison). Threads and processes started later get the kernel's default
 * (SCHED_FLAG_RESET_ON_FORK). Never fails the start: a kernel without custom slices, or a refusal, is a
 * debug line. Returns the slice now in force in microseconds (0 = the kernel's default).
 */
export function favourVrrpThread(addon: Pick<NativeAddon, 'setSchedulingSlice'>, logger: Logger, env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number.parseInt(env.TSLVSD_VRRP_SLICE_US ?? '', 10);
  const us = Number.isInteger(asked) && asked >= 0 ? asked : VRRP_THREAD_SLICE_US;
  if (us === 0) return 0;
  try {
    const granted = addon.setSchedulingSlice(us * 1000) / 1000;
    if (granted > 0) logger.debug({ event: 'vrrp_thread_slice', sliceUs: granted }, 'VRRP thread: shorter scheduler slice, its adverts preempt the checks');
    else logger.debug({ event: 'vrrp_thread_slice', sliceUs: 0 }, 'VRRP thread: this kernel has no custom scheduler slices (Linux 6.12+)');
    return granted;
  } catch (err) {
    logger.debug({ event: 'vrrp_thread_slice', err: err instanceof Error ? err.message : String(err) }, 'VRRP thread: scheduler slice refused');
    return 0;
  }
}

/**
 * global_defs `vrrp_priority`: the nice of the thread that runs VRRP — tslvsd's main thread, where the
 * IPVS reconciler and checks placed on the main thread run too (keepalived: its VRRP child process). Set
 * once at start, as keepalived sets it when it starts that child. A refusal (no CAP_SYS_NICE for a
 * negative value) is a warning, not a failed start: the adverts then go out at the nice the daemon has.
 */
export function setVrrpThreadNice(nice: number | undefined, setPriority: (pid: number, priority: number) => void, logger: Logger): void {
  if (nice === undefined) return;
  try {
    // pid 0: on Linux, setpriority(PRIO_PROCESS, 0) sets the calling thread's nice only.
    setPriority(0, nice);
    logger.info({ event: 'vrrp_priority', nice }, 'VRRP thread nice set (vrrp_priority)');
  } catch (err) {
    logger.warn({ event: 'vrrp_priority', nice, err: err instanceof Error ? err.message : String(err) }, 'vrrp_priority: cannot set the VRRP thread\'s nice');
  }
}
