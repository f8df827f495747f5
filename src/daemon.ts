import type { ConfigModel } from './config/model.js';
import { nativeAddon } from './net/nativeAddon.js';
import { openRtNetlink } from './net/rtnetlink.js';
import { SystemClock } from './util/clock.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from './util/log.js';
import { RawSocketTransport } from './vrrp/edge/rawSocketTransport.js';
import { runScript } from './vrrp/edge/scriptRunner.js';
import { VrrpService } from './vrrp/service.js';

/**
 * The composition root (VRRP-only for now): config model → VrrpService with the real edges; SIGTERM and
 * SIGINT stop it cleanly (priority 0 advert, VIPs released); SIGUSR2 logs every counter as one JSON line.
 * The health-check, IPVS, metrics and reload parts join here later.
 */
export interface DaemonOptions {
  /** The config file the model came from (for logs). */
  configFile: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** A logger to use instead of creating one (tests). */
  logger?: Logger;
  /** Resolves to stop the daemon as if SIGTERM arrived (tests, embedding). */
  stopSignal?: Promise<unknown>;
}

/** Runs until SIGTERM/SIGINT (or opts.stopSignal); resolves with the process exit code. */
export async function runDaemon(opts: DaemonOptions, model: ConfigModel): Promise<number> {
  const logger = opts.logger ?? createLogger({ level: opts.logLevel ?? 'info', format: opts.logFormat ?? 'json' });
  const netlink = openRtNetlink();
  const service = new VrrpService(model, {
    clock: new SystemClock(),
    logger,
    netlink,
    frameSender: nativeAddon(),
    openTransport: (options) => new RawSocketTransport(options),
    runScript,
  });

  const dumpCounters = (): void => {
    logger.info(
      { event: 'vrrp_stats', instances: service.status(), interfaces: service.interfaceStatus(), scripts: service.scriptStatus() },
      'VRRP counters',
    );
  };

  let stopRequested: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stopRequested = resolve));
  const onTerm = (): void => stopRequested('SIGTERM');
  const onInt = (): void => stopRequested('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGUSR2', dumpCounters);
  void opts.stopSignal?.then(() => stopRequested('stop requested'));

  try {
    await service.start();
  } catch (error) {
    logger.fatal({ event: 'start_failed', err: (error as Error).message }, 'VRRP start failed');
    await service.stop().catch(() => undefined);
    netlink.close();
    removeHandlers();
    return 1;
  }
  logger.info({ event: 'started', config: opts.configFile, instances: model.vrrpInstances.length }, 'tslvsd started');

  const signal = await stopped;
  logger.info({ event: 'stopping', signal }, 'stopping');
  await service.stop();
  dumpCounters();
  netlink.close();
  removeHandlers();
  logger.info({ event: 'stopped' }, 'tslvsd stopped');
  return 0;

  function removeHandlers(): void {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGUSR2', dumpCounters);
  }
}
