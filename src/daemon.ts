import { constants, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname, setPriority } from 'node:os';
import type { ConfigModel } from './config/model.js';
import { planFromConfig } from './healthcheck/fromConfig.js';
import { readTlsMaterial } from './healthcheck/tlsFiles.js';
import { HealthCheckService } from './healthcheck/service.js';
import { checksPerSecond, placementFor, type CheckerPlacement } from './healthcheck/worker/placement.js';
import { nativeTcpWatchesAvailable } from './healthcheck/checkers/nativeTcpProber.js';
import type { HealthCheckPlan } from './healthcheck/plan.js';
import { countIpvsConnections } from './ipvs/connectionTableSize.js';
import { IpvsClient } from './ipvs/ipvsClient.js';
import { IpvsService } from './ipvs/ipvsService.js';
import { nativeAddon } from './net/nativeAddon.js';
import { openRtNetlink } from './net/rtnetlink.js';
import { createDaemonMetrics, type DaemonMetrics } from './metrics/registry.js';
import { nativeDatagramSender } from './systemd/nativeSender.js';
import { SystemdNotifier } from './systemd/notify.js';
import { SystemClock, type Clock } from './util/clock.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from './util/log.js';
import { scriptsOf } from './scripts/configScripts.js';
import { startReaper } from './scripts/scriptProcess.js';
import { hostScriptIdentity } from './scripts/hostIdentity.js';
import { RawSocketTransport } from './vrrp/edge/rawSocketTransport.js';
import { runScript } from './vrrp/edge/scriptRunner.js';
import { initialiseTrackFiles, watchTrackFile } from './vrrp/edge/trackFileWatcher.js';
import { ProcScanner } from './vrrp/edge/procScanner.js';
import { NotifyFifos } from './notify/notifyFifos.js';
import { resolveScriptRunAs, scriptUserOf } from './scripts/runAs.js';
import { daemonIds, systemUserDatabase } from './scripts/userDatabase.js';
import { VrrpService } from './vrrp/service.js';
import { VrrpInterfaces } from './vrrp/runtime/interfaceRuntime.js';
import { TrackScripts } from './vrrp/runtime/trackScriptRuntime.js';
import { VERSION } from './version.js';
import { missingCapabilitiesSentence } from './daemon/capabilities.js';
import { favourVrrpThread, setVrrpThreadNice } from './daemon/vrrpThreadScheduling.js';
import { HealthPart } from './daemon/healthPart.js';
import { IpvsPart } from './daemon/ipvsPart.js';
import { processSignals } from './daemon/processSignals.js';
import { childCompiler } from './daemon/reload/reloadCompiler.js';
import { runDaemonRuntime } from './daemon/runtime.js';
import { DEFAULT_STATUS_SOCKET } from './daemon/statusSocket.js';
import { SyncPart } from './daemon/syncPart.js';
import { VrrpPart } from './daemon/vrrpPart.js';
import { StaticNetworkPart } from './daemon/staticPart.js';
import { StaticNetwork } from './vrrp/staticNetwork.js';
import { AnnouncePart } from './daemon/announcePart.js';
import { KernelAnnouncedRoutes } from './announce/kernelRoutes.js';

/** The daemon's options: the CLI's CliOptions fits (same names), tests pass a subset. */
export interface DaemonOptions {
  configFile: string;
  configId?: string | undefined;
  strict?: boolean | undefined;
  logLevel?: LogLevel | undefined;
  logFormat?: LogFormat | undefined;
  logger?: Logger | undefined;
  /** Absent = 127.0.0.1:9165; present and undefined = `--metrics-listen off`. */
  metricsListen?: { host: string; port: number } | undefined;
  pidFile?: string | undefined;
  /** keepalived's -r (VRRP) and -c (checkers) pid files: this process's pid, locked, when that side runs. */
  vrrpPidFile?: string | undefined;
  checkersPidFile?: string | undefined;
  /** -g/--log-file: every log line also appended there. */
  logFile?: string | undefined;
  /** -d/--dump-conf: the compiled configuration, logged once at start. */
  dumpConf?: boolean | undefined;
  /** Accepted command-line flags with nothing to do: each logged once at start. */
  notes?: readonly string[] | undefined;
  /** Absent = /run/tslvsd/status.sock. */
  statusSocket?: string | undefined;
  vrrpOnly?: boolean | undefined;
  checkOnly?: boolean | undefined;
  keepIpvsOnExit?: boolean | undefined;
  /** Resolves to stop the daemon as if SIGTERM arrived (tests, embedding). */
  stopSignal?: Promise<unknown>;
}

const DEFAULT_METRICS = { host: '127.0.0.1', port: 9165 };

/**
 * The composition root: config → VRRP + health checks + IPVS + metrics. Each room's service becomes a
 * DaemonPart (start, reload by diff, stop) and a metrics source; src/daemon/runtime.ts does the rest
 * (metrics listener, status socket, signals, sd_notify and watchdog, pid file). Runs until SIGTERM/SIGINT
 * (or opts.stopSignal); resolves with the process exit code.
 */
export async function runDaemon(opts: DaemonOptions, model: ConfigModel): Promise<number> {
  let logger: Logger;
  try {
    logger = opts.logger ?? createLogger({ level: opts.logLevel ?? 'info', format: opts.logFormat ?? 'json', ...(opts.logFile ? { sink: teeToFile(opts.logFile) } : {}) });
  } catch (err) {
    process.stderr.write(`tslvsd: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const unprivileged = missingCapabilitiesSentence(procSelfStatus());
  if (unprivileged !== undefined) {
    logger.fatal({ event: 'start_failed', err: unprivileged }, 'tslvsd failed to start');
    process.stderr.write(`tslvsd: ${unprivileged}\n`);
    return 1;
  }
  const clock = new SystemClock();
  const metrics = createDaemonMetrics({}, { version: VERSION });
  const mode = opts.vrrpOnly ? 'vrrp-only' : opts.checkOnly ? 'check-only' : 'full';
  for (const note of opts.notes ?? []) logger.info({ event: 'cli_option' }, note);
  if (opts.dumpConf) logger.info({ event: 'config_dump', config: model }, 'configuration (-d/--dump-conf)');

  // Opened before any part starts, so the first state line is not lost; closed after the last (STOP) line.
  const fifos = notifyFifos(model, clock, logger);
  // track_file init_file: written once at start (keepalived: at config load, never on reload).
  if (mode !== 'check-only') initialiseTrackFiles(model.trackFiles, (message) => logger.warn({ event: 'track_file' }, message));
  // VRRP transitions reach the sync daemons through this late binding (the sync part needs VRRP's states;
  // transitions start only once the parts run, after `sync` is bound).
  // vrrp_priority before the VRRP part asks for its slice (which keeps the nice it finds).
  if (mode !== 'check-only') setVrrpThreadNice(model.global.vrrpPriority, setPriority, logger);
  const vrrp = mode !== 'check-only' ? vrrpPart(clock, logger, fifos, (instance, from, to) => sync?.onVrrpTransition(instance, to, from)) : undefined;
  const ipvs = mode !== 'vrrp-only' ? ipvsPart(clock, logger, opts.keepIpvsOnExit ?? false) : undefined;
  // Quorum news reaches the announced routes through this late binding (the announce part reads the health part).
  const health = ipvs ? healthPart(clock, logger, ipvs, metrics, fifos, () => announce?.refresh(), model.global.checkerPriority) : undefined;
  // announce_route: the last part started, so the first stopped (routes withdrawn, drain, then the rest).
  const announce = health ? new AnnouncePart({
    open: () => new KernelAnnouncedRoutes(openRtNetlink()),
    quorumOf: (key) => health.quorumOf(key),
    clock,
    logger,
  }) : undefined;
  const sync: SyncPart | undefined = syncPart(clock, logger, mode, vrrp);
  // Start order: IPVS, health checks, sync daemons (backup first), static routes, VRRP — the table and the connection
  // state are ready before the VIPs arrive; stop is the reverse.
  // static_ipaddress/routes/rules (and clearing a previous run's routes) come just before VRRP.
  const statics = mode !== 'check-only' ? new StaticNetworkPart(() => {
    const netlink = openRtNetlink();
    const network = new StaticNetwork(netlink, logger);
    return { start: (m) => network.start(m), reload: (m) => network.reload(m), stop: () => network.stop(), status: () => network.status(), close: () => netlink.close() };
  }) : undefined;
  const parts = [ipvs, health, sync, statics, vrrp, announce].filter((p): p is NonNullable<typeof p> => p !== undefined);

  const notifier = new SystemdNotifier(process.env, nativeDatagramSender, (err, message) =>
    logger.warn({ err: err instanceof Error ? err.message : String(err), message }, 'sd_notify failed'),
  );
  try {
    return await runDaemonRuntime({
      version: VERSION,
      configFile: opts.configFile,
      mode,
      model,
      // SIGHUP compiles in a child process with wall-clock and heap limits, off the VRRP event loop;
      // the child also runs the host checks (script users, script permissions) as -t and start-up do.
      compile: childCompiler({ configId: opts.configId ?? hostname().split('.')[0] ?? '', strict: opts.strict ?? false }),
      parts,
      sources: { ...(vrrp ? { vrrp } : {}), ...(ipvs ? { ipvs } : {}), ...(health ? { health } : {}), ...(announce ? { announce } : {}), sync },
      metrics,
      metricsListen: 'metricsListen' in opts ? opts.metricsListen : DEFAULT_METRICS,
      statusSocket: opts.statusSocket ?? DEFAULT_STATUS_SOCKET,
      statusSocketOptional: opts.statusSocket === undefined,
      pidFile: opts.pidFile,
      extraPidFiles: [
        ...(opts.vrrpPidFile && mode !== 'check-only' ? [{ path: opts.vrrpPidFile, option: '-r/--vrrp_pid' }] : []),
        ...(opts.checkersPidFile && mode !== 'vrrp-only' ? [{ path: opts.checkersPidFile, option: '-c/--checkers_pid' }] : []),
      ],
      logger,
      notifier,
      clock,
      env: process.env,
      signals: processSignals(opts.stopSignal),
      countersDump: () => ({ instances: vrrp?.status() ?? [], interfaces: vrrp?.interfaceStatus() ?? [], scripts: vrrp?.scripts() ?? [] }),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal({ event: 'start_failed', err: message }, 'tslvsd failed to start');
    // The one sentence an operator reads first (e.g. "this kernel has no IPVS (…): load ip_vs or run with --vrrp-only").
    process.stderr.write(`tslvsd: ${message}\n`);
    return 1;
  } finally {
    await fifos?.close();
  }
}

/**
 * -g/--log-file: stdout as always, and each line appended to FILE as it is logged (keepalived's log file;
 * opened O_APPEND without following a symlink, as keepalived opens it). Throws one sentence when it cannot.
 */
function teeToFile(file: string): { write(chunk: string): unknown } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw new Error(`--log-file ${file}: cannot open it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  return {
    // The file first: whoever has read a line on stdout can then find it in the file too.
    write: (chunk: string) => {
      try {
        writeSync(fd, chunk);
      } catch {
        // a full disk must not stop the daemon; stdout still has the line
      }
      process.stdout.write(chunk);
    },
  };
}

/**
 * global_defs notify_fifo / vrrp_notify_fifo / lvs_notify_fifo (src/notify/), as configured at start: a
 * reload that changes them is applied at the next restart. Undefined when none is configured.
 */
function notifyFifos(model: ConfigModel, clock: Clock, logger: Logger): NotifyFifos | undefined {
  const { notifyFifo, vrrpNotifyFifo, lvsNotifyFifo, scriptUser } = model.global;
  if (!notifyFifo && !vrrpNotifyFifo && !lvsNotifyFifo) return undefined;
  const fifos = new NotifyFifos({
    clock,
    warn: (message, detail) => logger.warn({ event: 'notify_fifo', ...detail }, message),
    // The FIFO's owner follows the script rule (its own USER [GROUP], else script_user, else keepalived_script).
    ownerOf: (fifo) => {
      const who = resolveScriptRunAs(fifo, scriptUser, systemUserDatabase(), daemonIds());
      if (!who.ok) throw new Error(`${fifo.path}: ${who.error}`);
      return who.source === 'daemon' ? undefined : who.runAs;
    },
    startScript: async (command, signal) => {
      startReaper();
      const user = scriptUserOf(command, scriptUser);
      const outcome = await runScript({
        argv: command.argv,
        ...(user ? { user: user.user, ...(user.group !== undefined ? { group: user.group } : {}) } : {}),
        timeoutMs: 0,
        leftovers: 'keep',
        signal,
      });
      if (!signal.aborted) logger.warn({ event: 'notify_fifo_script_exit', argv: command.argv, ...outcome }, 'notify FIFO script ended');
    },
  });
  fifos.open(model.global);
  return fifos;
}

/** This process's /proc status (its capability sets); empty where /proc is not mounted. */
function procSelfStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

/**
 * VRRP (src/vrrp/service.ts): one VrrpService per instance or sync group, so reloads touch only what changed;
 * all of them share one set of sockets per interface and one run of each vrrp_script (src/vrrp/runtime/).
 * Exported for bench/advert-jitter.ts, which runs the daemon's own VRRP part beside a checker.
 */
export function vrrpPart(clock: Clock, logger: Logger, fifos: NotifyFifos | undefined, onTransition: (instance: string, from: string, to: string) => void): VrrpPart {
  const frameSender = nativeAddon();
  // The thread that sends the adverts asks the scheduler to be let in soon when it wakes (why: vrrpThreadScheduling.ts).
  favourVrrpThread(frameSender, logger);
  // One /proc pass per period for every vrrp_track_process of every unit.
  const procScanner = new ProcScanner();
  const shared = { interfaces: new VrrpInterfaces((o) => new RawSocketTransport(o), logger, clock), trackScripts: new TrackScripts(clock, logger, runScript) };
  return new VrrpPart((unit) => {
    // One rtnetlink socket per unit: two dumps in flight on one socket collide (instances turning master
    // together would each fail to find their interface).
    const netlink = openRtNetlink();
    // The script reaper listens before the first notify or track script runs.
    if (scriptsOf(unit).length > 0) startReaper();
    const service = new VrrpService(unit, { clock, logger, netlink, linkControl: netlink, frameSender, openTransport: (o) => new RawSocketTransport(o), runScript, shared,
      watchTrackProcess: (pattern, onCount) => procScanner.track(pattern, onCount),
      watchTrackFile: (file, onValue) => watchTrackFile(file, onValue, { onTrouble: (message) => logger.warn({ event: 'track_file', file }, message) }),
      ...(fifos ? { onNotify: (n) => fifos.vrrp(n) } : {}),
      onTransition: (instance, from, to) => onTransition(instance, from, to),
    });
    return {
      start: () => service.start(),
      stop: () => service.stop().finally(() => netlink.close()),
      status: () => service.status(),
      scriptStatus: () => service.scriptStatus(),
      interfaceStatus: () => service.interfaceStatus(),
      reconfigure: (next) => service.reconfigure(next),
      holdPreemption: (instance, held) => service.holdPreemption(instance, held),
    };
  }, logger, () => shared.interfaces.status());
}

/**
 * IPVS connection sync (lvs_sync_daemon): its own netlink socket, opened only when configured. As in
 * keepalived, the VRRP side drives daemons tied to an instance and the checker side those that are not.
 */
function syncPart(clock: Clock, logger: Logger, mode: 'full' | 'vrrp-only' | 'check-only', vrrp: VrrpPart | undefined): SyncPart {
  return new SyncPart({
    open: async () => {
      const client = await IpvsClient.open();
      return { kernel: client, close: () => client.close() };
    },
    instanceState: (name) => vrrp?.status().find((i) => i.name === name)?.state,
    drives: (config) => mode === 'full' || (mode === 'vrrp-only') === (config.vrrpInstance !== undefined),
    logger,
    ...(vrrp
      ? {
          catchUp: {
            clock,
            countConnections: () => countIpvsConnections(),
            holdPreemption: (instance: string, held: boolean) => vrrp.holdPreemption(instance, held),
          },
        }
      : {}),
  });
}

/** IPVS (src/ipvs/): the kernel is opened only when the config has virtual servers. */
function ipvsPart(clock: Clock, logger: Logger, keepOnStop: boolean): IpvsPart {
  return new IpvsPart(async () => {
    const client = await IpvsClient.open();
    const service = new IpvsService(client, {
      clock,
      keepOnStop,
      onEvent: (e) => {
        if (e.kind === 'failed' || e.kind === 'sync-failed') logger.warn({ part: 'ipvs', ...e }, 'IPVS operation failed');
        else if (e.kind === 'drift-repaired') logger.info({ part: 'ipvs', ...e }, 'IPVS table repaired');
      },
    });
    return { runner: service, close: () => client.close() };
  }, logger);
}

/**
 * Where the checks run (src/healthcheck/worker/placement.ts): a worker thread only when the config needs
 * one — the main thread for TCP_CHECKs alone, ≤ 2,000/s, their modules loaded before VRRP starts
 * (HealthPart.start awaits HealthCheckService.loaded). TSLVSD_CHECKER_PLACEMENT=worker|inline forces it
 * (benchmarks compare the two).
 */
function checkerPlacement(plan: HealthCheckPlan, logger: Logger): CheckerPlacement {
  const asked = process.env.TSLVSD_CHECKER_PLACEMENT;
  const forced = asked === 'worker' || asked === 'inline' ? asked : undefined;
  const placement = forced ?? placementFor(plan, nativeTcpWatchesAvailable());
  logger.info(
    { part: 'healthcheck', placement, checksPerSecond: Math.round(checksPerSecond(plan)), ...(forced ? { forced: true } : {}) },
    placement === 'inline' ? 'health checks run on the main thread' : 'health checks run in a worker thread',
  );
  return placement;
}

/** Health checks (src/healthcheck/, in a worker thread where the config needs one): every decision goes to IPVS. */
function healthPart(clock: Clock, logger: Logger, ipvs: IpvsPart, metrics: DaemonMetrics, fifos: NotifyFifos | undefined, onQuorumSeen: () => void, checkerNice: number | undefined): HealthPart {
  return new HealthPart({
    onQuorumSeen,
    runner: new HealthCheckService({
      onTrouble: (message) => logger.warn({ part: 'healthcheck' }, message),
      placement: (plan) => checkerPlacement(plan, logger),
      // checker_priority, as keepalived sets it on its checker child: at start (a reload's change waits for a restart).
      ...(checkerNice !== undefined && { workerNice: checkerNice }),
    }),
    plan: (m) => planFromConfig(m, hostScriptIdentity, readTlsMaterial(m.ssl)),
    onRealServerChange: (change) => ipvs.onRealServerChange(change),
    observeCheckDuration: (type, seconds, count) => metrics.observeCheckDuration(type, seconds, count),
    ...(fifos ? { transitions: { virtualServer: (vs, up) => fifos.virtualServer(vs, up), realServer: (vs, rs, alive) => fifos.realServer(vs, rs, alive) } } : {}),
    clock,
    logger,
  });
}
