/**
 * keepalived 2.2.7's wording for the events its log alerts match on, built from tslvsd's structured
 * transition records (`--log-format keepalived`). The sentences are keepalived's log_message() calls:
 * vrrp/vrrp.c (`(%s) Entering MASTER STATE`), check/check_tcp.c (`TCP connection to %s success.`,
 * `TCP_CHECK on service %s failed after %u retries.`), check/ipwrapper.c (`%sing service %s %s VS %s`,
 * `Lost quorum …`/`Gained quorum …`); addresses as its inet_sockaddrtotrio() writes them
 * (`[10.0.0.1]:tcp:80`). test/util/keepalivedWording.test.ts compares them with lines recorded from
 * keepalived 2.2.7 (test/fixtures/keepalived-2.2.7.txt).
 */

/** What a real-server or quorum transition carries for this wording (its record's `keepalived` field). */
export interface KeepalivedNames {
  /** The virtual server as format_vs() writes it: `[ADDR]:tcp:PORT`, `FWM N` or `[GROUP]:PORT`. */
  vs: string;
  /** The real server as format_rs(): `[ADDR]:tcp:PORT`. */
  rs?: string;
  /** Checker types of the real server. */
  checkers?: string[];
  /** Its TCP_CHECK's `retry` (keepalived says "failed after N retries." when > 0). */
  tcpRetry?: number;
  inhibit?: boolean;
  quorum?: number;
  hysteresis?: number;
  weightSum?: number;
}

/** inet_sockaddrtotrio(): `[ADDR]:PROTO:PORT`, PROTO tcp/udp/sctp, `none` for 0 (fwmark services). */
export function keepalivedTrio(address: string, protocol: string | undefined, port: number): string {
  const proto = protocol === undefined ? 'none' : protocol.toLowerCase();
  return `[${address}]:${proto}:${port}`;
}

/** format_vs(): a group as `[NAME]:PORT`, a fwmark as `FWM N`, else the trio. */
export function keepalivedVsName(
  vs: { address?: string | undefined; port?: number | undefined; fwmark?: number | undefined; group?: string | undefined; protocol: string },
): string {
  if (vs.group !== undefined) return `[${vs.group}]:${vs.port ?? 0}`;
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}`;
  return keepalivedTrio(vs.address ?? '', vs.protocol, vs.port ?? 0);
}

const VRRP_STATES = new Set(['MASTER', 'BACKUP', 'FAULT']);

/** The keepalived lines for one record, or undefined when keepalived logs no such line (then: its msg). */
export function keepalivedLines(record: Record<string, unknown>): string[] | undefined {
  if (record.event !== 'transition') return undefined;
  const to = String(record.to ?? '');
  if (record.kind === 'vrrp') {
    if (!VRRP_STATES.has(to)) return undefined;
    // vrrp_scheduler.c: the first state after start-up is logged with " (init)" (BACKUP or FAULT).
    const init = record.from === 'INIT' && to !== 'MASTER' ? ' (init)' : '';
    return [`(${String(record.instance)}) Entering ${to} STATE${init}`];
  }
  const names = record.keepalived as KeepalivedNames | undefined;
  if (record.kind !== 'real_server' || !names || typeof names.vs !== 'string') return undefined;
  if (record.quorum === true) {
    const { quorum = 1, hysteresis = 0, weightSum = 0 } = names;
    return to === 'QUORUM_UP'
      ? [`Gained quorum ${quorum}+${hysteresis}=${quorum + hysteresis} <= ${weightSum} for VS ${names.vs}`]
      : [`Lost quorum ${quorum}-${hysteresis}=${quorum - hysteresis} > ${weightSum} for VS ${names.vs}`];
  }
  if (!names.rs) return undefined;
  const tcp = (names.checkers ?? []).includes('TCP_CHECK');
  const up = to === 'UP';
  const lines: string[] = [];
  if (tcp && up) lines.push(`TCP connection to ${names.rs} success.`);
  if (tcp && !up) {
    lines.push(names.tcpRetry ? `TCP_CHECK on service ${names.rs} failed after ${names.tcpRetry} retries.` : `TCP_CHECK on service ${names.rs} failed.`);
  }
  const verb = up ? (names.inhibit ? 'Enabling' : 'Adding') : names.inhibit ? 'Disabling' : 'Removing';
  const preposition = names.inhibit ? 'of' : up ? 'to' : 'from';
  lines.push(`${verb} service ${names.rs} ${preposition} VS ${names.vs}`);
  return lines;
}
