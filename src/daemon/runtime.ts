import type { ConfigModel } from '../config/model.js';
import { createDaemonMetrics, type DaemonMetrics } from '../metrics/registry.js';
import { registerListenerMetrics } from '../metrics/listenerMetrics.js';
import { MetricsListener } from '../metrics/retryingListener.js';
import type { ListenAddress } from '../metrics/server.js';
import type { AnnounceMetricsSource, HealthMetricsSource, IpvsMetricsSource, SyncMetricsSource, VrrpMetricsSource } from '../metrics/sources.js';
import type { SystemdNotifier } from '../systemd/notify.js';
import { SystemdWatchdog } from '../systemd/watchdog.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { DaemonLifecycle, errorText } from './lifecycle.js';
import type { ConfigCompiler, DaemonPart } from './parts.js';
import { lockPidFile, type PidFileLock } from './pidFile.js';
import { installSignalHandlers, type SignalSource } from './signals.js';
import { writeStateDump } from './stateDump.js';
import { buildStatus, type DaemonStatus } from './status.js';
import { startStatusServer, type StatusSocketServer } from './statusSocket.js';

/**
 * Everything around the parts: metrics listener, status socket, signals, systemd notify and watchdog, pid
 * file — started around the lifecycle and torn down in reverse. The composition root (src/daemon.ts)
 * builds the parts and sources and hands them here.
 */
export interface RuntimeOptions {
  version: string;
  configFile: string;
  mode: DaemonStatus['mode'];
  /** The config as compiled at start-up. */
  model: ConfigModel;
  compile: ConfigCompiler;
  parts: DaemonPart[];
  sources: { vrrp?: VrrpMetricsSource; health?: HealthMetricsSource; ipvs?: IpvsMetricsSource; sync?: SyncMetricsSource; announce?: AnnounceMetricsSource };
  /** The registry, when the composition needs it before start (the health part observes check durations). */
  metrics?: DaemonMetrics;
  /** undefined = `--metrics-listen off`. */
  metricsListen: ListenAddress | undefined;
  /** undefined = no status socket. */
  statusSocket: string | undefined;
  /**
   * The status socket path was a default, not asked for: if it cannot be had (another daemon on this host
   * holds it — two daemons in two namespaces share one filesystem), run without it and say so.
   */
  statusSocketOptional?: boolean;
  pidFile: string | undefined;
  /** keepalived's -r/-c pid files (tslvsd's one process stands for its VRRP and checker children): locked too. */
  extraPidFiles?: readonly { readonly path: string; readonly option: string }[];
  stateDumpDirs?: readonly string[];
  logger: Logger;
  notifier: SystemdNotifier;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  signals?: SignalSource;
  /** Called on a second SIGTERM/SIGINT while stopping. */
  forceExit?: (code: number) => void;
  /** SIGUSR2: extra fields of the one `vrrp_stats` log line with every counter. */
  countersDump?: () => Record<string, unknown>;
  /** Observes the lifecycle once built (tests). */
  onLifecycle?: (lifecycle: DaemonLifecycle) => void;
}

/** Runs until SIGTERM/SIGINT; resolves with the process exit code. Rejects if start-up fails. */
export async function runDaemonRuntime(options: RuntimeOptions): Promise<number> {
  const { logger, notifier } = options;
  const startedAtEpochMs = Date.now();
  const lifecycle = new DaemonLifecycle({
    configFile: options.configFile,
    parts: options.parts,
    compile: options.compile,
    notifier,
    logger,
  });
  options.onLifecycle?.(lifecycle);

  const metrics = options.metrics ?? createDaemonMetrics();
  metrics.setSources({
    ...options.sources,
    daemon: {
      configStatus: () => ({ lastAttemptSuccessful: lifecycle.lastReload?.successful ?? true, lastSuccessEpochMs: lifecycle.lastSuccessEpochMs }),
    },
  });
  const status = (): DaemonStatus =>
    buildStatus({
      version: options.version,
      pid: process.pid,
      startedAtEpochMs,
      configFile: options.configFile,
      mode: options.mode,
      lastReload: lifecycle.lastReload,
      vrrpInstances: options.sources.vrrp?.instances() ?? [],
      virtualServers: options.sources.health?.virtualServers() ?? [],
      syncDaemon: options.sources.sync?.syncDaemons(),
      announcedRoutes: options.sources.announce?.announcedRoutes(),
      metricsListener: metricsListener?.status(),
    });

  const metricsListener = options.metricsListen ? new MetricsListener(options.metricsListen, metrics.registry, options.clock, logger) : undefined;
  let statusServer: StatusSocketServer | undefined;
  registerListenerMetrics(metrics.registry, () => [
    ...(metricsListener?.counters ? [['metrics', metricsListener.counters] as const] : []),
    ...(statusServer ? [['status', statusServer.counters] as const] : []),
  ]);
  const pidLocks: PidFileLock[] = [];
  const watchdog = new SystemdWatchdog(notifier, options.clock, options.env);
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));

  const closeEdges = async (): Promise<void> => {
    watchdog.stop();
    await statusServer?.close().catch(() => {});
    await metricsListener?.close().catch(() => {});
    for (const held of pidLocks.splice(0).reverse()) held.release();
  };

  const uninstallSignals = installSignalHandlers(
    {
      reload: () => {
        logger.info({ event: 'reload' }, 'SIGHUP: reloading configuration');
        void lifecycle.reload();
      },
      dump: () => {
        try {
          logger.info({ path: writeStateDump(status(), options.stateDumpDirs) }, 'SIGUSR1: state dumped');
        } catch (err) {
          logger.error({ err: errorText(err) }, 'SIGUSR1: state dump failed');
        }
      },
      ...(options.countersDump
        ? { counters: () => logger.info({ event: 'vrrp_stats', ...options.countersDump!() }, 'counters') }
        : {}),
      stop: (signal) => {
        logger.info({ signal }, `${signal}: stopping`);
        void lifecycle
          .stop()
          .then(closeEdges)
          .then(() => resolveStopped(0));
      },
      forceExit: (signal) => {
        logger.warn({ signal }, `${signal} again while stopping: exiting now`);
        (options.forceExit ?? process.exit)(1);
      },
    },
    options.signals,
  );

  try {
    // The pid files first, as keepalived: a second daemon is refused ("daemon is already running") before
    // it binds a listener or touches a VIP or an IPVS rule; a stale file after kill -9 holds no lock.
    const pidFiles = [...(options.pidFile ? [{ path: options.pidFile, option: '--pid-file' }] : []), ...(options.extraPidFiles ?? [])];
    for (const { path, option } of pidFiles) pidLocks.push(lockPidFile(path, option));
    // A port that cannot be bound is retried in the background (logged, shown in status): never fatal.
    await metricsListener?.open();
    if (options.statusSocket) {
      try {
        statusServer = await startStatusServer(options.statusSocket, status);
      } catch (err) {
        if (!options.statusSocketOptional) throw err;
        logger.warn({ err: errorText(err) }, 'no status socket (use --status-socket PATH)');
      }
    }
    await lifecycle.start(options.model);
    watchdog.start();
  } catch (err) {
    uninstallSignals();
    await lifecycle.stop();
    await closeEdges();
    throw err;
  }

  const code = await stopped;
  uninstallSignals();
  logger.info({ event: 'stopped' }, 'tslvsd stopped');
  return code;
}
