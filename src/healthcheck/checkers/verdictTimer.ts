/**
 * A probe's timeout that is fair to a starved event loop. A plain setTimeout verdict is wrong when the
 * checker's loop was busy (thousands of checks, a stolen CPU): libuv runs due timers before it polls for
 * I/O, so a connection the kernel completed long ago is declared timed out because its event was not read
 * yet. Here the timeout is measured from when the probe was sent, and when it falls due the verdict waits
 * for one I/O poll that began after the deadline (setImmediate runs after the poll phase): an answer that
 * was there wins. The callback learns how late the timer itself fired (the loop lag the probe saw), which
 * the engine compares with the timeout to tell a starved checker from a silent server.
 */
export interface VerdictTimer {
  cancel(): void;
}

export function armVerdictTimer(timeoutMs: number, onExpired: (lateMs: number) => void): VerdictTimer {
  const armedAt = performance.now();
  let live = true;
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    const lateMs = Math.max(0, performance.now() - armedAt - timeoutMs);
    immediate = setImmediate(() => {
      if (live) {
        live = false;
        onExpired(lateMs);
      }
    });
  }, timeoutMs);
  return {
    cancel(): void {
      live = false;
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
