/**
 * The daemon's signals: SIGHUP reload, SIGTERM/SIGINT graceful stop (a second one while stopping exits at
 * once, for an operator whose stop hangs), SIGUSR1 state dump, SIGUSR2 counters as one log line. Handlers
 * only call into the daemon; they never throw into Node's signal machinery.
 */
export interface SignalActions {
  reload(): void;
  stop(signal: 'SIGTERM' | 'SIGINT'): void;
  dump(): void;
  /** SIGUSR2: log every counter as one line (the VRRP room's tests read it). */
  counters?(): void;
  /** A second stop signal arrived while stopping. */
  forceExit(signal: 'SIGTERM' | 'SIGINT'): void;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/** Installs the handlers; returns the function that removes them. */
export function installSignalHandlers(actions: SignalActions, source: SignalSource = process): () => void {
  let stopping = false;
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGHUP', () => actions.reload()],
    ['SIGUSR1', () => actions.dump()],
    ...(actions.counters ? [['SIGUSR2', () => actions.counters!()] as [NodeJS.Signals, () => void]] : []),
    ...(['SIGTERM', 'SIGINT'] as const).map((signal): [NodeJS.Signals, () => void] => [
      signal,
      () => {
        if (stopping) return actions.forceExit(signal);
        stopping = true;
        actions.stop(signal);
      },
    ]),
  ];
  for (const [signal, handler] of handlers) source.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) source.off(signal, handler);
  };
}
