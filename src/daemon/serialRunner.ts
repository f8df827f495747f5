/**
 * Runs one async job at a time and coalesces requests: a request while the job runs schedules exactly one
 * more run after it, however many requests came. 100 SIGHUPs in a burst therefore cost two reloads, and
 * two reloads never interleave. Errors are the job's to report; the runner only keeps going.
 */
export class SerialRunner {
  private running: Promise<void> | undefined;
  private pending = false;
  /** Completed runs (for tests and the status). */
  runs = 0;

  constructor(private readonly job: () => Promise<void>) {}

  /** Asks for a run; resolves when a run that started after this request has finished. */
  request(): Promise<void> {
    if (this.running) {
      // The running loop sees the flag and goes round once more before its promise settles.
      this.pending = true;
      return this.running;
    }
    this.running = this.loop();
    return this.running;
  }

  /** Resolves when nothing is running or pending. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.pending = false;
        try {
          await this.job();
        } catch {
          // The job logs its own failures; a failed run must not stop later ones.
        }
        this.runs++;
      } while (this.pending);
    } finally {
      this.running = undefined;
    }
  }
}
