/** What one probe found. Checkers resolve to this and never throw. */
export interface ProbeResult {
  up: boolean;
  /** Human-readable cause, e.g. "connect refused", "status 503 not in 200-299", "exit 1". */
  reason: string;
  /** Wall time of the probe in milliseconds. */
  durationMs: number;
  /**
   * MISC_CHECK only: the weight this result sets. A number (misc_dynamic, exit 2–255 → code − 2), or null
   * to restore the configured weight (exit 0). Absent for every other checker.
   */
  weight?: number | null;
  /**
   * Set when the verdict is "no answer within the timeout" (not a refusal or a bad answer): how late, in ms,
   * the probe's timeout timer fired past its due time, i.e. the event-loop lag the probe saw. A timeout
   * whose timer fired much later than due says more about a starved checker than about the server; the
   * engine defers such verdicts (see HealthCheckEngine).
   */
  timedOutLateMs?: number;
}

export function upResult(reason: string, durationMs: number): ProbeResult {
  return { up: true, reason, durationMs };
}

export function downResult(reason: string, durationMs: number): ProbeResult {
  return { up: false, reason, durationMs };
}

/** No answer within the timeout; lateMs: how late the timeout timer fired (see ProbeResult.timedOutLateMs). */
export function timeoutResult(reason: string, durationMs: number, lateMs: number): ProbeResult {
  return { up: false, reason, durationMs, timedOutLateMs: lateMs };
}
