import type { CheckTiming } from '../plan.js';

/** What one result did to a checker. */
export interface CheckerStep {
  /** 'up' / 'down' when the checker's state flipped (or was first decided), null otherwise. */
  transition: 'up' | 'down' | null;
  /** When to run the next probe. */
  nextDelayMs: number;
}

/**
 * One checker's state and retry rule, as keepalived's check_tcp.c / check_misc.c epilogues:
 * - a success marks UP (if it was not) and resets the retry count; next check after delay_loop;
 * - a failure while UP (or before the first result) is retried `retry` times, delay_before_retry apart;
 *   the failure after the last retry marks DOWN and goes back to delay_loop;
 * - a failure while DOWN changes nothing; next check after delay_loop.
 * The initial state is UP unless `alpha` is set.
 */
export class CheckerState {
  up: boolean;
  hasRun = false;
  retryIt = 0;

  constructor(private readonly timing: CheckTiming) {
    this.up = !timing.alpha;
  }

  onResult(success: boolean): CheckerStep {
    const firstResult = !this.hasRun;
    this.hasRun = true;
    if (success) {
      this.retryIt = 0;
      const flipped = !this.up || firstResult;
      this.up = true;
      return { transition: flipped ? 'up' : null, nextDelayMs: this.timing.delayLoopMs };
    }
    if (!this.up && !firstResult) {
      return { transition: null, nextDelayMs: this.timing.delayLoopMs };
    }
    if (this.retryIt < this.timing.retry) {
      this.retryIt++;
      return { transition: null, nextDelayMs: this.timing.delayBeforeRetryMs };
    }
    this.retryIt = 0;
    this.up = false;
    return { transition: 'down', nextDelayMs: this.timing.delayLoopMs };
  }
}
