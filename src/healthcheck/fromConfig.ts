/**
 * Config model → check plan. Pure: each script's identity comes from the injected `resolveUser` (the
 * daemon passes src/scripts/runAs.ts over the system user database). Keys are the config's
 * (`config/keys.ts`), the ones the IPVS room programs by, so a health change names exactly the destination
 * the reconciler programs.
 */
import type { Checker, ConfigModel, RealServer, ScriptCommand, VirtualServer } from '../config/model.js';
import { realServerKey, virtualServerKey } from '../config/keys.js';
import type {
  CheckerSpec,
  CheckTiming,
  ConnectTarget,
  HealthCheckPlan,
  RealServerPlan,
  ScriptIdentity,
  ScriptSpec,
  TlsClientMaterial,
  VirtualServerPlan,
} from './plan.js';

/** A script's identity from its own `user [group]` and global_defs `script_user` (see src/scripts/runAs.ts). */
export type UserResolver = (command: ScriptCommand, scriptUser: ConfigModel['global']['scriptUser']) => ScriptIdentity | undefined;

const ms = (seconds: number): number => Math.round(seconds * 1000);

function timing(c: Checker): CheckTiming {
  return {
    delayLoopMs: ms(c.delayLoop),
    warmupMs: ms(c.warmup),
    retry: c.retry,
    delayBeforeRetryMs: ms(c.delayBeforeRetry),
    alpha: c.alpha,
  };
}

function target(c: Checker): ConnectTarget {
  return {
    host: c.connectIp,
    port: c.connectPort,
    bindTo: c.bindTo,
    bindPort: c.bindPort,
    timeoutMs: ms(c.connectTimeout),
  };
}

function hexBytes(hex: string | undefined): Uint8Array {
  if (!hex) return new Uint8Array(0);
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  return Uint8Array.from(Buffer.from(clean.length % 2 ? `${clean}0` : clean, 'hex'));
}

function checkerSpec(c: Checker, rs: RealServer, identity: (command: ScriptCommand) => ScriptIdentity | undefined, tls: TlsClientMaterial | undefined): CheckerSpec {
  switch (c.type) {
    case 'TCP_CHECK':
      return { type: 'TCP_CHECK', timing: timing(c), target: target(c) };
    case 'HTTP_GET':
    case 'SSL_GET': {
      const virtualHost = c.virtualhost ?? rs.virtualhost;
      return {
        type: c.type,
        timing: timing(c),
        target: target(c),
        urls: c.urls.map((u) => ({
          path: u.path, statusCodes: u.statusCodes, digest: u.digest, virtualHost: u.virtualhost,
          ...(u.regex !== undefined ? {
            regex: {
              pattern: u.regex, noMatch: u.regexNoMatch,
              ...(u.regexMinOffset !== undefined && { minOffset: u.regexMinOffset }),
              ...(u.regexMaxOffset !== undefined && { maxOffset: u.regexMaxOffset }),
              ...(u.regexFlags !== undefined && { flags: u.regexFlags }),
            },
          } : {}),
        })),
        virtualHost,
        httpProtocol: c.httpProtocol,
        sni: c.type === 'SSL_GET' && c.enableSni ? virtualHost : undefined,
        ...(c.type === 'SSL_GET' && tls ? { tls } : {}),
      };
    }
    case 'MISC_CHECK': {
      const runAs = identity(c.script);
      return {
        type: 'MISC_CHECK',
        timing: timing(c),
        argv: c.script.argv,
        timeoutMs: ms(c.timeout),
        dynamic: c.dynamic,
        ...(runAs ? { runAs } : {}),
      };
    }
    case 'FILE_CHECK':
      // keepalived watches the file (inotify) and knows its state at once: read every second, no retry,
      // no warmup, never alpha.
      return {
        type: 'FILE_CHECK',
        timing: { delayLoopMs: 1000, warmupMs: 0, retry: 0, delayBeforeRetryMs: 1000, alpha: false },
        path: c.path,
        weight: c.weight,
        weightReverse: c.weightReverse,
        configuredWeight: rs.weight,
      };
    case 'DNS_CHECK':
      return { type: 'DNS_CHECK', timing: timing(c), target: target(c), queryType: c.queryType, name: c.name };
    case 'UDP_CHECK':
      return {
        type: 'UDP_CHECK',
        timing: timing(c),
        target: target(c),
        payload: hexBytes(c.payload),
        requireReply: c.requireReply,
        replyPattern: c.replyPattern,
        minReplyLength: c.minReplyLength,
        maxReplyLength: c.maxReplyLength,
      };
    case 'PING_CHECK':
      return { type: 'PING_CHECK', timing: timing(c), target: target(c) };
    case 'SMTP_CHECK':
      return { type: 'SMTP_CHECK', timing: timing(c), target: target(c), heloName: c.heloName };
  }
}

function script(s: ScriptCommand | undefined, identity: (command: ScriptCommand) => ScriptIdentity | undefined): ScriptSpec | undefined {
  if (!s) return undefined;
  const runAs = identity(s);
  return runAs ? { argv: s.argv, runAs } : { argv: s.argv };
}

function realServerPlan(rs: RealServer, identity: (command: ScriptCommand) => ScriptIdentity | undefined, tls: TlsClientMaterial | undefined): RealServerPlan {
  return {
    key: realServerKey(rs),
    weight: rs.weight,
    inhibitOnFailure: rs.inhibitOnFailure,
    notifyUp: script(rs.notifyUp, identity),
    notifyDown: script(rs.notifyDown, identity),
    checkers: rs.checkers.map((c) => checkerSpec(c, rs, identity, tls)),
  };
}

function virtualServerPlan(vs: VirtualServer, identity: (command: ScriptCommand) => ScriptIdentity | undefined, tls: TlsClientMaterial | undefined): VirtualServerPlan {
  return {
    key: virtualServerKey(vs),
    quorum: vs.quorum,
    hysteresis: vs.hysteresis,
    quorumUp: script(vs.quorumUp, identity),
    quorumDown: script(vs.quorumDown, identity),
    omega: vs.omega,
    sorryServer: vs.sorryServer
      ? { key: realServerKey(vs.sorryServer), weight: 1, inhibit: vs.sorryServer.inhibit }
      : undefined,
    realServers: vs.realServers.map((rs) => realServerPlan(rs, identity, tls)),
  };
}

/** `tls`: the SSL block's files as read by the daemon (tlsFiles.ts readTlsMaterial); absent = none. */
export function planFromConfig(model: ConfigModel, resolveUser: UserResolver, tls?: TlsClientMaterial): HealthCheckPlan {
  const identity = (command: ScriptCommand): ScriptIdentity | undefined => resolveUser(command, model.global.scriptUser);
  return { virtualServers: model.virtualServers.map((vs) => virtualServerPlan(vs, identity, tls)) };
}
