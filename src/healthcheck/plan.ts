/**
 * The check plan: everything the health-check side needs to know, already resolved from the config
 * (timers inherited, defaults applied, scripts split into argv, durations in milliseconds). It is plain
 * data so it can cross into the checker worker thread by structured clone, and it is the only input of the
 * pure core. `fromConfig.ts` builds it from the config model.
 */

/** Timers of one checker, keepalived's names in milliseconds. */
export interface CheckTiming {
  /** delay_loop: interval between checks while the state is settled. */
  delayLoopMs: number;
  /** warmup: the first check runs at a random moment in [0, warmupMs). 0 = at once. */
  warmupMs: number;
  /** retry (nb_get_retry): failures tolerated while up before the checker goes DOWN. */
  retry: number;
  /** delay_before_retry: interval between those retries. */
  delayBeforeRetryMs: number;
  /** alpha: the checker starts DOWN (the real server stays out until its first success). */
  alpha: boolean;
}

/** Where a network checker connects (connect_ip/connect_port default to the real server). */
export interface ConnectTarget {
  host: string;
  port: number;
  /** bindto / bind_port: source address and port of the probe. */
  bindTo?: string | undefined;
  bindPort?: number | undefined;
  /** connect_timeout. */
  timeoutMs: number;
}

export interface TcpCheckSpec {
  type: 'TCP_CHECK';
  timing: CheckTiming;
  target: ConnectTarget;
}

/** Inclusive status-code range; `status_code 200` is [200, 200]. */
export type StatusRange = readonly [number, number];

export interface UrlSpec {
  path: string;
  /** Accepted status codes; empty means keepalived's default 200–299. */
  statusCodes: StatusRange[];
  /** Expected MD5 of the body, lowercase hex; absent = body not checked. */
  digest?: string | undefined;
  /** This url's own virtualhost (Host header), overriding the checker's. */
  virtualHost?: string | undefined;
  /** url { regex … }: the body is kept (up to the body cap) and matched. */
  regex?: BodyRegexSpec;
}

/** url { regex; regex_no_match; regex_min_offset; regex_max_offset } (checkers/bodyRegex.ts). */
export interface BodyRegexSpec {
  pattern: string;
  /** regex_no_match: the url fails when the body matches. */
  noMatch: boolean;
  /** A match must start at or after this byte offset of the body. */
  minOffset?: number;
  /** A match must start at or before this byte offset. */
  maxOffset?: number;
  /** RegExp flags from regex_options (i, m, s). */
  flags?: string;
}

/**
 * The PEM material of the `SSL` block, read by the daemon when it builds the plan (the worker reads no
 * file). `unreadable` = a file could not be read then: every SSL_GET fails with that reason.
 */
export type TlsClientMaterial =
  | { ca?: string; cert?: string; key?: string; passphrase?: string }
  | { unreadable: string };

export interface HttpCheckSpec {
  type: 'HTTP_GET' | 'SSL_GET';
  timing: CheckTiming;
  target: ConnectTarget;
  urls: UrlSpec[];
  /** Host header (virtualhost); default: the target address (and port when not the scheme's). */
  virtualHost?: string | undefined;
  /**
   * http_protocol: '1.0' (default), '1.0C' (Connection: close), '1.0K' (Connection: keep-alive, keepalived's
   * test mode), '1.1' (adds Connection: close). The reply ends at Content-Length / last chunk / close.
   */
  httpProtocol: '1.0' | '1.0C' | '1.0K' | '1.1';
  /** TLS server name for SSL_GET (enable_sni uses virtualhost); absent = no SNI. */
  sni?: string | undefined;
  /** SSL_GET: the SSL block's client certificate and CA; absent = no certificate, no verification. */
  tls?: TlsClientMaterial;
}

export interface MiscCheckSpec {
  type: 'MISC_CHECK';
  timing: CheckTiming;
  /** misc_path split into argv (never run through a shell). */
  argv: string[];
  /** misc_timeout; keepalived's default is delay_loop. */
  timeoutMs: number;
  /** misc_dynamic: exit 2–255 means up with weight = code − 2. */
  dynamic: boolean;
  /** Who it runs as, resolved when the plan was built; absent = the daemon's own user. */
  runAs?: ScriptIdentity;
}

export type DnsRecordType = 'A' | 'AAAA' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'PTR';

export interface DnsCheckSpec {
  type: 'DNS_CHECK';
  timing: CheckTiming;
  target: ConnectTarget;
  /** type (default SOA as keepalived). */
  queryType: DnsRecordType;
  /** name (default "." as keepalived). */
  name: string;
}

export interface UdpCheckSpec {
  type: 'UDP_CHECK';
  timing: CheckTiming;
  target: ConnectTarget;
  /** payload as bytes (keepalived: hex). */
  payload: Uint8Array;
  /** require_reply: a reply must come; without it, silence is fine and only an ICMP error is a failure. */
  requireReply: boolean;
  /** The reply must start with this pattern: hex, `x` nibbles match anything (keepalived's require_reply arg). */
  replyPattern?: string | undefined;
  /** Reply length bounds in bytes; 0 = no bound. */
  minReplyLength: number;
  maxReplyLength: number;
}

export interface PingCheckSpec {
  type: 'PING_CHECK';
  timing: CheckTiming;
  target: ConnectTarget;
}

export interface SmtpCheckSpec {
  type: 'SMTP_CHECK';
  timing: CheckTiming;
  target: ConnectTarget;
  /** helo_name (keepalived's default is the local host name). */
  heloName: string;
}

/** FILE_CHECK: the real server follows a track_file, read every second (see core/fileCheck.ts). */
export interface FileCheckSpec {
  type: 'FILE_CHECK';
  timing: CheckTiming;
  path: string;
  weight: number;
  weightReverse: boolean;
  /** The real server's configured weight, to which value × weight is added. */
  configuredWeight: number;
}

export type CheckerSpec =
  | FileCheckSpec
  | TcpCheckSpec
  | HttpCheckSpec
  | MiscCheckSpec
  | DnsCheckSpec
  | UdpCheckSpec
  | PingCheckSpec
  | SmtpCheckSpec;

export type CheckerType = CheckerSpec['type'];

/** A notify script: argv (never a shell) and, when the config names a user, whom it runs as. */
/**
 * Who a script runs as (src/scripts/runAs.ts, resolved when the plan is built): numeric ids, or why it
 * must not run at all (its user or group does not exist) — never root instead.
 */
export type ScriptIdentity = { uid: number; gid: number } | { refused: string };

export interface ScriptSpec {
  argv: string[];
  /** Absent = the daemon's own user. */
  runAs?: ScriptIdentity;
}

export interface RealServerPlan {
  /** Stable identity, e.g. "192.168.10.11:80". */
  key: string;
  /** Configured weight (keepalived's iweight). */
  weight: number;
  /** inhibit_on_failure: a dead real server stays in the table with weight 0. */
  inhibitOnFailure: boolean;
  notifyUp?: ScriptSpec | undefined;
  notifyDown?: ScriptSpec | undefined;
  checkers: CheckerSpec[];
}

export interface SorryServerPlan {
  key: string;
  weight: number;
  /** sorry_server_inhibit: kept in the table with weight 0 while not needed. */
  inhibit: boolean;
}

export interface VirtualServerPlan {
  /** Stable identity, e.g. "10.0.0.100:80/TCP" or "fwmark:1/IPv4". */
  key: string;
  /** quorum: minimum sum of the weights of alive real servers (default 1). */
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptSpec | undefined;
  quorumDown?: ScriptSpec | undefined;
  /** omega: run notify_down / quorum_down when the checkers stop. */
  omega: boolean;
  sorryServer?: SorryServerPlan | undefined;
  realServers: RealServerPlan[];
}

export interface HealthCheckPlan {
  virtualServers: VirtualServerPlan[];
}
