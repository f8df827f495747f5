import type { CheckerSpec, HealthCheckPlan } from '../plan.js';
import { downResult, type ProbeResult } from '../result.js';
import type { ProbeRunner } from '../core/engine.js';
import { probeTcp, repeatTcp } from './tcp.js';
import { probeHttp } from './http.js';
import { killAllScripts, probeMisc, startReaper } from './misc.js';
import { probeDns } from './dns.js';
import { probeUdp } from './udp.js';
import { probePing, stopPing } from './ping.js';
import { probeSmtp } from './smtp.js';
import { probeFile } from './file.js';
import { collectNativeWatches, stopNativeTcpProber } from './nativeTcpProber.js';

/** Runs one probe of any type; the probes themselves resolve and never reject. */
export function runProbe(spec: CheckerSpec): Promise<ProbeResult> {
  switch (spec.type) {
    case 'TCP_CHECK': return probeTcp(spec);
    case 'HTTP_GET':
    case 'SSL_GET': return probeHttp(spec);
    case 'MISC_CHECK': return probeMisc(spec);
    case 'DNS_CHECK': return probeDns(spec);
    case 'UDP_CHECK': return probeUdp(spec);
    case 'PING_CHECK': return probePing(spec);
    case 'SMTP_CHECK': return probeSmtp(spec);
    case 'FILE_CHECK': return probeFile(spec);
    default:
      // A plan from a newer config than this code: reported, never thrown.
      return Promise.resolve(downResult(`unsupported checker ${(spec as { type?: unknown }).type as string}`, 0));
  }
}

/** The real probes, for the engine; steady TCP_CHECKs repeat in the native prober. */
export const realProbes: ProbeRunner = {
  run: runProbe,
  repeat: (request) => (request.spec.type === 'TCP_CHECK' ? repeatTcp(request.spec, request) : undefined),
  collectRepeats: () => collectNativeWatches() ?? { maxLateMs: 0, behindSchedule: 0 },
};

/** Prepares long-lived helpers the plan will need (the script reaper), so they are ready before use. */
export function prepareProbes(plan: HealthCheckPlan): void {
  const hasScripts = plan.virtualServers.some((vs) => vs.realServers.some((rs) => rs.checkers.some((c) => c.type === 'MISC_CHECK')));
  if (hasScripts) startReaper();
}

/** Kills what probes leave running: scripts' process groups, the ICMP helper, the native prober's sockets. */
export function stopProbes(): void {
  killAllScripts();
  stopPing();
  stopNativeTcpProber();
}
