import { EventEmitter } from 'node:events';
import type { SignalSource } from './signals.js';

/**
 * The process's signals as a SignalSource, plus an optional promise that acts as SIGTERM when it settles
 * (for embedding and tests that stop the daemon without a signal).
 */
export function processSignals(stopSignal?: Promise<unknown>): SignalSource {
  const local = new EventEmitter();
  const forwarders = new Map<() => void, () => void>();
  void stopSignal?.then(
    () => local.emit('SIGTERM'),
    () => local.emit('SIGTERM'),
  );
  return {
    on(signal, listener) {
      const forward = (): void => listener();
      forwarders.set(listener, forward);
      process.on(signal, forward);
      local.on(signal, listener);
      return this;
    },
    off(signal, listener) {
      const forward = forwarders.get(listener);
      if (forward) process.off(signal, forward);
      forwarders.delete(listener);
      local.off(signal, listener);
      return this;
    },
  };
}
