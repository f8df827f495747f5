/**
 * The validated configuration model: what `tslvsd --dump-config` prints and what every runtime room consumes.
 *
 * One zod schema per concept gives both the runtime check (the compiler's output is parsed by `ConfigModel`
 * as a last invariant) and the TypeScript types (`z.infer`). Names are the `--dump-config` contract; keep
 * them stable. Units: every duration is in SECONDS as a JS number that may be fractional (keepalived's
 * <TIMER> accepts "1.5"); counts are integers; weights and priorities are integers.
 *
 * Every object carries `loc` (where it was declared) so runtime errors can point back at the config.
 * All defaults and inheritance (virtual_server → real_server → checker timers, priority 255 for a MASTER
 * without priority, …) are already resolved here: consumers never re-derive keepalived's rules.
 */
import * as z from 'zod';

/** Where a block or statement was declared: the file (as given/resolved by include) and its 1-based line. */
export const SourceLocation = z.object({ file: z.string(), line: z.number().int().min(1) });
export type SourceLocation = z.infer<typeof SourceLocation>;

export const AddressFamily = z.enum(['inet', 'inet6']);
export type AddressFamily = z.infer<typeof AddressFamily>;

/** An IPv4 or IPv6 address in canonical text form (no prefix). */
export const IpAddress = z.union([z.ipv4(), z.ipv6()]);
export const Port = z.number().int().min(0).max(65535);
/** Seconds; may be fractional. */
export const Seconds = z.number().min(0);

/** A program run by keepalived semantics (`notify_master "/bin/x arg" user group`), already split to argv. */
export const ScriptCommand = z.object({
  loc: SourceLocation,
  /** argv[0] is the program; never run through a shell. */
  argv: z.array(z.string()).min(1),
  /** Optional run-as user/group given after the command. */
  user: z.string().optional(),
  group: z.string().optional(),
});
export type ScriptCommand = z.infer<typeof ScriptCommand>;

// ---------------------------------------------------------------------------------------------- global_defs

/**
 * `notify_fifo PATH [USER [GROUP]]` (and vrrp_/lvs_ variants) with its `…_fifo_script CMD [USER [GROUP]]`:
 * a FIFO that gets one line per VRRP / LVS transition; the script is started with the path as last argument.
 */
export const NotifyFifo = z.object({
  loc: SourceLocation,
  path: z.string().min(1),
  /** Owner of a FIFO tslvsd creates (keepalived: the FIFO's user, else the default script user). */
  user: z.string().optional(),
  group: z.string().optional(),
  script: ScriptCommand.optional(),
});
export type NotifyFifo = z.infer<typeof NotifyFifo>;

/**
 * `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [id SYNCID] [maxlen N] [port N] [ttl N] [group ADDR]` (or the
 * legacy `lvs_sync_daemon_interface` of a vrrp_instance): the kernel's IPVS connection sync daemons. With an
 * instance, the backup daemon runs while it is BACKUP/FAULT and the master daemon while it is MASTER;
 * without one, both run all the time. Absent options are left to the kernel (port 8848, ttl 1, group
 * 224.0.0.81, maxlen from the interface MTU).
 */
export const LvsSyncDaemon = z.object({
  loc: SourceLocation,
  /** Multicast interface (IP_VS_IFNAME_MAXLEN 16 with the NUL). */
  interface: z.string().min(1).max(15),
  /** The vrrp_instance whose state drives the daemons (checked to exist). */
  vrrpInstance: z.string().optional(),
  /** Resolved: `id`, else the instance's virtual_router_id, else 0 (keepalived's rule). */
  syncId: z.number().int().min(0).max(255),
  /** UDP payload size of a sync message (1..65507). */
  maxLen: z.number().int().min(1).max(65_535 - 20 - 8).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  ttl: z.number().int().min(1).max(255).optional(),
  /** Multicast group (IPv4 or IPv6), canonical. */
  group: IpAddress.optional(),
});
export type LvsSyncDaemon = z.infer<typeof LvsSyncDaemon>;

export const GlobalDefs = z.object({
  loc: SourceLocation,
  /** `router_id`; keepalived's default is the hostname, left to the runtime (undefined here). */
  routerId: z.string().optional(),
  notificationEmail: z.array(z.string()),
  notificationEmailFrom: z.string().optional(),
  smtpServer: z.object({ host: z.string(), port: Port }).optional(),
  /** Seconds (default 30). */
  smtpConnectTimeout: Seconds,
  /** `script_user USER [GROUP]`: run scripts as this user unless a script says otherwise. */
  scriptUser: z.object({ user: z.string(), group: z.string().optional() }).optional(),
  enableScriptSecurity: z.boolean(),
  /** Default VRRP version for instances that don't set `version` (default 2). */
  vrrpVersion: z.union([z.literal(2), z.literal(3)]),
  vrrpMcastGroup4: z.ipv4(),
  vrrpMcastGroup6: z.ipv6(),
  /** Seconds between gratuitous ARP bursts after becoming master (default 5). */
  vrrpGarpMasterDelay: Seconds,
  /** Gratuitous ARPs per burst (default 5). */
  vrrpGarpMasterRepeat: z.number().int().min(0),
  /** `vrrp_priority`: the nice of the thread that runs VRRP (tslvsd's main thread), set at start. */
  vrrpPriority: z.number().int().min(-20).max(19).optional(),
  /** `checker_priority`: the nice of the checker worker threads, set at start (default: theirs, 5). */
  checkerPriority: z.number().int().min(-20).max(19).optional(),
  /** Seconds between periodic GARP refreshes while master; 0 = off (default 0). */
  vrrpGarpMasterRefresh: Seconds,
  vrrpGarpMasterRefreshRepeat: z.number().int().min(0),
  /** Seconds to wait before the second burst when a lower-priority advert is seen (default: garp delay). */
  vrrpGarpLowerPrioDelay: Seconds.optional(),
  vrrpGarpLowerPrioRepeat: z.number().int().min(0).optional(),
  /** Seconds between individual gratuitous ARPs / NAs within a burst (default 0). */
  vrrpGarpInterval: Seconds,
  vrrpGnaInterval: Seconds,
  vrrpSkipCheckAdvAddr: z.boolean(),
  /** `vrrp_check_unicast_src`: every unicast instance checks its adverts' source (see checkUnicastSrc). */
  vrrpCheckUnicastSrc: z.boolean(),
  vrrpStrict: z.boolean(),
  /** `lvs_timeouts tcp N tcpfin N udp N` in seconds; absent = leave the kernel's. */
  lvsTimeouts: z.object({ tcp: Seconds.optional(), tcpFin: Seconds.optional(), udp: Seconds.optional() }),
  /** `lvs_flush`: flush the whole IPVS table at start (default false). */
  lvsFlush: z.boolean(),
  /** `lvs_flush_on_stop [VS]` (or `lvs_flush_onstop`): clean the IPVS table at stop (default false). */
  lvsFlushOnStop: z.boolean(),
  /** `notify_fifo` (VRRP and LVS lines), `vrrp_notify_fifo` (VRRP only), `lvs_notify_fifo` (LVS only). */
  notifyFifo: NotifyFifo.optional(),
  vrrpNotifyFifo: NotifyFifo.optional(),
  lvsNotifyFifo: NotifyFifo.optional(),
  /** `lvs_sync_daemon …`: IPVS connection sync (absent = tslvsd starts no sync daemon). */
  lvsSyncDaemon: LvsSyncDaemon.optional(),
  /**
   * tslvsd extension: the routing table announce_route routes are held in (default 248; never 0 or the
   * kernel's default/main/local tables 253–255, which a routing daemon must not export wholesale).
   */
  announceRouteTable: z.number().int().min(1).max(0xffffffff),
  /** tslvsd extension: seconds IPVS keeps serving after the routes are withdrawn at stop (default 2). */
  announceRouteDrain: Seconds,
  /** Every other global_defs keyword as written (keyword → its arguments), parsed and reported, not acted on. */
  other: z.record(z.string(), z.array(z.string())),
});
export type GlobalDefs = z.infer<typeof GlobalDefs>;

// ----------------------------------------------------------------------------------------------------- VRRP

/** `vrrp_script NAME { script …; interval …; … }`: a tracked command whose exit code adjusts priority. */
export const VrrpScript = z.object({
  loc: SourceLocation,
  name: z.string(),
  script: ScriptCommand,
  /** Seconds between runs (default 1). */
  interval: Seconds,
  /** Seconds before a run is considered failed (default: interval). */
  timeout: Seconds,
  /** Priority adjustment, -254..254 (default 0 = failure puts the instance in FAULT). */
  weight: z.number().int().min(-254).max(254),
  /** `weight N reverse`: the weight is applied in reverse (on failure rather than success). */
  weightReverse: z.boolean(),
  /** Consecutive successes to become OK (default 1). */
  rise: z.number().int().min(1),
  /** Consecutive failures to become KO (default 1). */
  fall: z.number().int().min(1),
  /** `init_fail`: start in the failed state. */
  initFail: z.boolean(),
});
export type VrrpScript = z.infer<typeof VrrpScript>;

/** A virtual (or excluded) IP line: `ADDR[/PREFIX] [brd ADDR] [dev IF] [scope S] [label L] [no_prefixroute]`. */
export const VirtualIpAddress = z.object({
  loc: SourceLocation,
  address: IpAddress,
  family: AddressFamily,
  /** Prefix length; keepalived's default is /32 (IPv4) or /128 (IPv6). */
  prefixLength: z.number().int().min(0).max(128),
  broadcast: z.string().optional(),
  /** Interface to put it on (default: the instance's interface). */
  dev: z.string().optional(),
  scope: z.string().optional(),
  label: z.string().optional(),
  noPrefixRoute: z.boolean(),
});
export type VirtualIpAddress = z.infer<typeof VirtualIpAddress>;

/** A network as routes and rules name it: address (canonical) and prefix length. */
export const IpPrefix = z.object({ address: IpAddress, prefixLength: z.number().int().min(0).max(128) });
export type IpPrefix = z.infer<typeof IpPrefix>;

/**
 * A `virtual_routes` / `static_routes` line (keepalived's `ip route` syntax): `[TYPE] [to] DST[/LEN] [src A]
 * [via A] [dev IF] [scope S] [table T] [metric N] [protocol P] [onlink] [no_track] …`. Names are resolved:
 * table, scope and protocol are numbers (protocol is keepalived's 18 unless `no_track` and another is given).
 */
export const IpRoute = z.object({
  loc: SourceLocation,
  family: AddressFamily,
  destination: IpPrefix,
  type: z.enum(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']),
  table: z.number().int().min(1).max(0xffff_ffff),
  protocol: z.number().int().min(0).max(255),
  scope: z.number().int().min(0).max(255).optional(),
  /** IPv6 source-specific route (`from`). */
  from: IpPrefix.optional(),
  via: IpAddress.optional(),
  /** Preferred source address (`src`). */
  src: IpAddress.optional(),
  dev: z.string().optional(),
  metric: z.number().int().min(0).max(0xffff_ffff).optional(),
  tos: z.number().int().min(0).max(255).optional(),
  onlink: z.boolean(),
  noTrack: z.boolean(),
});
export type IpRoute = z.infer<typeof IpRoute>;

/** A `virtual_rules` / `static_rules` line (keepalived's `ip rule` syntax); priority resolved as keepalived does. */
export const IpRule = z.object({
  loc: SourceLocation,
  family: AddressFamily,
  from: IpPrefix.optional(),
  to: IpPrefix.optional(),
  action: z.enum(['table', 'goto', 'nop', 'blackhole', 'unreachable', 'prohibit']),
  /** For action `table` (`table`/`lookup`). */
  table: z.number().int().min(1).max(0xffff_ffff).optional(),
  priority: z.number().int().min(0).max(0xffff_ffff),
  fwmark: z.number().int().min(0).max(0xffff_ffff).optional(),
  fwmask: z.number().int().min(0).max(0xffff_ffff).optional(),
  iif: z.string().optional(),
  oif: z.string().optional(),
  tos: z.number().int().min(0).max(255).optional(),
  protocol: z.number().int().min(0).max(255),
  noTrack: z.boolean(),
});
export type IpRule = z.infer<typeof IpRule>;

export const UnicastPeer = z.object({
  loc: SourceLocation,
  address: IpAddress,
  minTtl: z.number().int().min(0).max(255).optional(),
  maxTtl: z.number().int().min(0).max(255).optional(),
});
export type UnicastPeer = z.infer<typeof UnicastPeer>;

export const TrackedInterface = z.object({
  loc: SourceLocation,
  name: z.string(),
  /** Priority adjustment when down; absent = interface down puts the instance in FAULT. */
  weight: z.number().int().min(-254).max(254).optional(),
  weightReverse: z.boolean(),
});
export type TrackedInterface = z.infer<typeof TrackedInterface>;

export const TrackedScript = z.object({
  loc: SourceLocation,
  /** Name of a `vrrp_script`. */
  name: z.string(),
  /** Overrides the script's own weight when present. */
  weight: z.number().int().min(-254).max(254).optional(),
  weightReverse: z.boolean(),
});
export type TrackedScript = z.infer<typeof TrackedScript>;

/** `track_file { NAME [weight N [reverse]] }` in an instance or sync group. */
export const TrackedFile = z.object({
  loc: SourceLocation,
  /** Name of a `track_file` / `vrrp_track_file` block. */
  name: z.string(),
  /** Overrides the track file's own weight when present. */
  weight: z.number().int().min(-254).max(254).optional(),
  weightReverse: z.boolean(),
});
export type TrackedFile = z.infer<typeof TrackedFile>;

/**
 * `track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }` (or the deprecated
 * `vrrp_track_file`): a number read from a file, times the weight, added to the priority.
 */
export const TrackFile = z.object({
  loc: SourceLocation,
  name: z.string(),
  path: z.string().min(1),
  /** Default 1; 0 = a non-zero value means FAULT. */
  weight: z.number().int().min(-254).max(254),
  weightReverse: z.boolean(),
  /** `init_file [VALUE] [overwrite]`: write VALUE (default 0) at start if the file is missing (or always). */
  init: z.object({ value: z.number().int(), overwrite: z.boolean() }).optional(),
});
export type TrackFile = z.infer<typeof TrackFile>;

/** `track_process { NAME [weight N [reverse]] }` in an instance or sync group. */
export const TrackedProcess = z.object({
  loc: SourceLocation,
  /** Name of a `vrrp_track_process` block. */
  name: z.string(),
  /** Overrides the block's own weight when present. */
  weight: z.number().int().min(-254).max(254).optional(),
  weightReverse: z.boolean(),
});
export type TrackedProcess = z.infer<typeof TrackedProcess>;

/**
 * `vrrp_track_process NAME { process NAME [ARGS…]; param_match exact|initial|partial; quorum N; quorum_max N;
 * delay|fork_delay|terminate_delay SECS; weight N [reverse]; full_command }`: up while the number of matching
 * processes is within quorum..quorum_max.
 */
export const TrackProcess = z.object({
  loc: SourceLocation,
  name: z.string(),
  process: z.string().min(1),
  params: z.array(z.string()),
  /** `any` = keepalived's default when neither parameters nor param_match are given. */
  paramMatch: z.enum(['any', 'exact', 'initial', 'partial']),
  fullCommand: z.boolean(),
  quorum: z.number().int().min(1),
  quorumMax: z.number().int().min(1),
  /** Seconds a count must last into quorum before going up. */
  forkDelay: Seconds,
  /** Seconds a count must last out of quorum before going down. */
  terminateDelay: Seconds,
  /** Default 0 = FAULT while down. */
  weight: z.number().int().min(-254).max(254),
  weightReverse: z.boolean(),
});
export type TrackProcess = z.infer<typeof TrackProcess>;

/** The `notify*` hooks shared by instances and sync groups. */
const NotifyHooks = {
  notifyMaster: ScriptCommand.optional(),
  notifyBackup: ScriptCommand.optional(),
  notifyFault: ScriptCommand.optional(),
  notifyStop: ScriptCommand.optional(),
  /** `notify`: called with `INSTANCE|GROUP name state priority` on every transition. */
  notify: ScriptCommand.optional(),
};

export const VrrpInstance = z.object({
  loc: SourceLocation,
  name: z.string(),
  /** Interface VRRP runs on; required by keepalived unless unicast peers with a route exist. */
  interface: z.string().optional(),
  /** `state MASTER|BACKUP`: the initial state wish (default BACKUP). */
  state: z.enum(['MASTER', 'BACKUP']),
  virtualRouterId: z.number().int().min(1).max(255),
  /** 1..255; default 100, or 255 when `state MASTER` and no priority is given (keepalived's quirk). */
  priority: z.number().int().min(1).max(255),
  /** Seconds between adverts (default 1); fractional only meaningful for VRRPv3 (centiseconds). */
  advertInt: Seconds,
  /** VRRP version 2 or 3 (default global vrrpVersion). */
  version: z.union([z.literal(2), z.literal(3)]),
  /** Derived from the first VIP (or unicast peers): IPv6 instances are v3 only. */
  family: AddressFamily,
  authentication: z.object({ type: z.enum(['PASS', 'AH']), password: z.string().max(8) }).optional(),
  virtualIpAddresses: z.array(VirtualIpAddress),
  virtualIpAddressesExcluded: z.array(VirtualIpAddress),
  /** Present only while MASTER (added after the VIPs, removed before them). */
  virtualRoutes: z.array(IpRoute),
  virtualRules: z.array(IpRule),
  unicastSrcIp: IpAddress.optional(),
  unicastPeers: z.array(UnicastPeer),
  mcastSrcIp: IpAddress.optional(),
  nopreempt: z.boolean(),
  /** Seconds to wait before preempting a lower-priority master (default 0). */
  preemptDelay: Seconds,
  /** Resolved from the instance or the global vrrp_garp_* defaults. Seconds / counts as in GlobalDefs. */
  garpMasterDelay: Seconds,
  garpMasterRepeat: z.number().int().min(0),
  garpMasterRefresh: Seconds,
  garpMasterRefreshRepeat: z.number().int().min(0),
  garpLowerPrioDelay: Seconds,
  garpLowerPrioRepeat: z.number().int().min(0),
  trackInterfaces: z.array(TrackedInterface),
  trackScripts: z.array(TrackedScript),
  trackFiles: z.array(TrackedFile),
  trackProcesses: z.array(TrackedProcess),
  ...NotifyHooks,
  smtpAlert: z.boolean(),
  /** Accept packets to the VIPs when master though not address owner (default: true unless vrrp_strict). */
  accept: z.boolean(),
  dontTrackPrimary: z.boolean(),
  skipCheckAdvAddr: z.boolean(),
  /**
   * `check_unicast_src` (or global vrrp_check_unicast_src): a unicast advert from an address that is not a
   * unicast_peer is dropped, and one from a peer must have a TTL within its min_ttl..max_ttl (keepalived
   * checks the TTL range only then).
   */
  checkUnicastSrc: z.boolean(),
  strictMode: z.boolean(),
  useVmac: z.boolean(),
  /** `use_vmac NAME` (default vrrp.VRID) and `use_vmac … MAC` (default 00:00:5e:00:01:VRID, :02: for IPv6). */
  vmacName: z.string().optional(),
  vmacMac: z.string().optional(),
  /** `vmac_xmit_base`: adverts go out of (and are read on) the base interface, not the VMAC. */
  vmacXmitBase: z.boolean(),
  /** `use_vmac_addr`: a VMAC of its own for each VIP on another interface or of the other family (src/vrrp/core/vmac.ts). */
  useVmacAddr: z.boolean(),
  /** Name of the sync group this instance belongs to, if any (filled from vrrp_sync_group). */
  syncGroup: z.string().optional(),
});
export type VrrpInstance = z.infer<typeof VrrpInstance>;

export const VrrpSyncGroup = z.object({
  loc: SourceLocation,
  name: z.string(),
  /** Names of the member vrrp_instances. */
  group: z.array(z.string()),
  ...NotifyHooks,
  trackInterfaces: z.array(TrackedInterface),
  trackScripts: z.array(TrackedScript),
  trackFiles: z.array(TrackedFile),
  trackProcesses: z.array(TrackedProcess),
  smtpAlert: z.boolean(),
  globalTracking: z.boolean(),
});
export type VrrpSyncGroup = z.infer<typeof VrrpSyncGroup>;

// ------------------------------------------------------------------------------------------------------ LVS

export const LbAlgo = z.enum(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos']);
export type LbAlgo = z.infer<typeof LbAlgo>;
export const LbKind = z.enum(['NAT', 'DR', 'TUN']);
export type LbKind = z.infer<typeof LbKind>;
export const L4Protocol = z.enum(['TCP', 'UDP', 'SCTP']);
export type L4Protocol = z.infer<typeof L4Protocol>;

/** `lvs_method TUN type gue port N csum` details; absent for NAT/DR or plain ipip. */
export const TunnelOptions = z.object({
  type: z.enum(['ipip', 'gue', 'gre']),
  port: Port.optional(),
  checksum: z.enum(['nocsum', 'csum', 'remcsum']).optional(),
});
export type TunnelOptions = z.infer<typeof TunnelOptions>;

/** Connection options and resolved timers every checker (but MISC_CHECK's connection part) has. */
const CheckerBase = {
  loc: SourceLocation,
  /** Address to probe (default: the real server's address). */
  connectIp: IpAddress,
  /** Port to probe (default: the real server's port). */
  connectPort: Port,
  bindTo: IpAddress.optional(),
  bindPort: Port.optional(),
  bindIf: z.string().optional(),
  /** fwmark put on the checker's packets. */
  fwmark: z.number().int().min(0).optional(),
  /** Seconds (default 5; inherited real_server → virtual_server). */
  connectTimeout: Seconds,
  /** Extra attempts after a failure before declaring the server down (default 1; DNS 3; MISC 0). */
  retry: z.number().int().min(0),
  /** Seconds between retries (default 1; HTTP/SSL 3; DNS = delayLoop). */
  delayBeforeRetry: Seconds,
  /** Seconds between checks (default 60, inherited). */
  delayLoop: Seconds,
  /** Seconds: maximum random delay before the first check (default = delayLoop; 0 disables). */
  warmup: Seconds,
  /** Start this checker as failed (inherited from real_server/virtual_server `alpha`). */
  alpha: z.boolean(),
  logAllFailures: z.boolean(),
};

export const HttpUrl = z.object({
  loc: SourceLocation,
  path: z.string(),
  /** MD5 hex digest of the body, as computed by genhash. */
  digest: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  /** Accepted status codes as inclusive ranges (default [[200, 299]]). */
  statusCodes: z.array(z.tuple([z.number().int(), z.number().int()])),
  virtualhost: z.string().optional(),
  /** A PCRE-style pattern the body must match (or, with regexNoMatch, must not). */
  regex: z.string().optional(),
  regexNoMatch: z.boolean(),
  /** `regex_min_offset`: a match must start at this body offset or later (bytes). */
  regexMinOffset: z.number().int().min(0).optional(),
  /** `regex_max_offset`: a match must start at this body offset or earlier (bytes). */
  regexMaxOffset: z.number().int().min(0).optional(),
  /** `regex_options caseless multiline dotall` as RegExp flags (i, m, s); other options are not applied. */
  regexFlags: z.string().regex(/^i?m?s?$/).optional(),
});
export type HttpUrl = z.infer<typeof HttpUrl>;

const HttpCheckerFields = {
  ...CheckerBase,
  urls: z.array(HttpUrl),
  /** Host header default for urls without their own (checker → real_server → virtual_server). */
  virtualhost: z.string().optional(),
  httpProtocol: z.enum(['1.0', '1.0C', '1.0K', '1.1']),
  fastRecovery: z.boolean(),
};

export const TcpCheck = z.object({ type: z.literal('TCP_CHECK'), ...CheckerBase });
export const HttpGetCheck = z.object({ type: z.literal('HTTP_GET'), ...HttpCheckerFields });
export const SslGetCheck = z.object({ type: z.literal('SSL_GET'), ...HttpCheckerFields, enableSni: z.boolean() });
export const MiscCheck = z.object({
  type: z.literal('MISC_CHECK'),
  ...CheckerBase,
  /** `misc_path`: the program and its arguments (argv, never a shell). */
  script: ScriptCommand,
  /** Seconds before the script is killed and counted as failed (default: delayLoop). */
  timeout: Seconds,
  /** `misc_dynamic`: exit codes 2..255 set the weight to code − 2. */
  dynamic: z.boolean(),
});
export const SmtpCheck = z.object({ type: z.literal('SMTP_CHECK'), ...CheckerBase, heloName: z.string() });
export const DnsCheck = z.object({
  type: z.literal('DNS_CHECK'),
  ...CheckerBase,
  /** Query type (default SOA). */
  queryType: z.enum(['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA']),
  /** Query name (default "."). */
  name: z.string(),
});
export const UdpCheck = z.object({
  type: z.literal('UDP_CHECK'),
  ...CheckerBase,
  /** Hex payload to send (bytes as lowercase hex); absent = random payload. */
  payload: z.string().optional(),
  requireReply: z.boolean(),
  /** Expected reply prefix as hex, `x` nibbles are wildcards. */
  replyPattern: z.string().optional(),
  minReplyLength: z.number().int().min(0),
  maxReplyLength: z.number().int().min(0),
});
export const PingCheck = z.object({ type: z.literal('PING_CHECK'), ...CheckerBase });

/**
 * `FILE_CHECK { track_file NAME; weight N [reverse] }`: the real server follows a track_file (keepalived
 * 2.2.7 check_file.c): weight 0 → down while the value is non-zero; otherwise value × weight is added to
 * the real server's weight, and a product at or below −(65535+1) takes it down. The base fields are the
 * real server's defaults (a FILE_CHECK has no timers of its own).
 */
export const FileCheck = z.object({
  type: z.literal('FILE_CHECK'),
  ...CheckerBase,
  trackFile: z.string(),
  /** The track_file's path, resolved by the compiler's cross-check. */
  path: z.string().min(1),
  /** The checker's `weight`, else the track_file's. */
  weight: z.number().int().min(-65535).max(65535),
  weightReverse: z.boolean(),
});
export type FileCheck = z.infer<typeof FileCheck>;

export const Checker = z.discriminatedUnion('type', [
  TcpCheck,
  HttpGetCheck,
  SslGetCheck,
  MiscCheck,
  SmtpCheck,
  DnsCheck,
  UdpCheck,
  PingCheck,
  FileCheck,
]);
export type Checker = z.infer<typeof Checker>;
export type CheckerType = Checker['type'];
export type TcpCheck = z.infer<typeof TcpCheck>;
export type HttpGetCheck = z.infer<typeof HttpGetCheck>;
export type SslGetCheck = z.infer<typeof SslGetCheck>;
export type MiscCheck = z.infer<typeof MiscCheck>;
export type SmtpCheck = z.infer<typeof SmtpCheck>;
export type DnsCheck = z.infer<typeof DnsCheck>;
export type UdpCheck = z.infer<typeof UdpCheck>;
export type PingCheck = z.infer<typeof PingCheck>;

export const RealServer = z.object({
  loc: SourceLocation,
  address: IpAddress,
  family: AddressFamily,
  /** Port (default: the virtual server's port; 0 for fwmark services without one). */
  port: Port,
  /** Weight 0..65535 (default 1). */
  weight: z.number().int().min(0).max(65535),
  /** Forwarding method (default: the virtual server's lbKind). */
  lbKind: LbKind,
  tunnel: TunnelOptions.optional(),
  /** On failure set weight 0 instead of removing the server (inherited from the virtual server). */
  inhibitOnFailure: z.boolean(),
  notifyUp: ScriptCommand.optional(),
  notifyDown: ScriptCommand.optional(),
  /** Connection thresholds (0 = none). */
  upperConnectionThreshold: z.number().int().min(0),
  lowerConnectionThreshold: z.number().int().min(0),
  /** Resolved timers, the defaults its checkers inherited (seconds). */
  delayLoop: Seconds,
  connectTimeout: Seconds,
  alpha: z.boolean(),
  virtualhost: z.string().optional(),
  checkers: z.array(Checker),
});
export type RealServer = z.infer<typeof RealServer>;

/** A member line of `virtual_server_group`: `ADDR[-LAST] PORT` or `fwmark N`. */
export const VirtualServerGroupEntry = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('address'),
    loc: SourceLocation,
    /** First address of the range. */
    address: IpAddress,
    /** Last address of the range (= address when not a range), same family and prefix. */
    lastAddress: IpAddress,
    family: AddressFamily,
    port: Port,
  }),
  z.object({ kind: z.literal('fwmark'), loc: SourceLocation, fwmark: z.number().int().min(1), family: AddressFamily }),
]);
export type VirtualServerGroupEntry = z.infer<typeof VirtualServerGroupEntry>;

export const VirtualServerGroup = z.object({
  loc: SourceLocation,
  name: z.string(),
  entries: z.array(VirtualServerGroupEntry),
});
export type VirtualServerGroup = z.infer<typeof VirtualServerGroup>;

export const SorryServer = z.object({
  loc: SourceLocation,
  address: IpAddress,
  port: Port,
  lbKind: LbKind,
  inhibit: z.boolean(),
});

export const VirtualServer = z.object({
  loc: SourceLocation,
  /** Exactly one of address+port, fwmark, group identifies the service. */
  address: IpAddress.optional(),
  port: Port.optional(),
  fwmark: z.number().int().min(1).optional(),
  group: z.string().optional(),
  family: AddressFamily,
  /** TCP/UDP/SCTP; UDP when the config omits it (keepalived 2.2.7's default, warned); meaningless for fwmark. */
  protocol: L4Protocol,
  /** Scheduler (default wlc, with a warning — keepalived's documented default). */
  lbAlgo: LbAlgo,
  /** Forwarding method (default NAT). */
  lbKind: LbKind,
  tunnel: TunnelOptions.optional(),
  schedulerFlags: z.array(z.enum(['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'])),
  /** One-packet scheduling (UDP). */
  ops: z.boolean(),
  /** Seconds; absent = no persistence (`persistence_timeout 0` too). Bare keyword = 360. */
  persistenceTimeout: z.number().int().min(1).optional(),
  /** Netmask (IPv4 dotted) or prefix length (IPv6) for persistence grouping. */
  persistenceGranularity: z.string().optional(),
  persistenceEngine: z.string().optional(),
  /** Seconds between checks (default 60); inherited by real servers and checkers. */
  delayLoop: Seconds,
  connectTimeout: Seconds,
  /** Minimum live weight to keep the service (default 1; capped at the total real-server weight, so may be 0). */
  quorum: z.number().int().min(0),
  hysteresis: z.number().int().min(0),
  quorumUp: ScriptCommand.optional(),
  quorumDown: ScriptCommand.optional(),
  sorryServer: SorryServer.optional(),
  /** Start real servers as down until a check passes. */
  alpha: z.boolean(),
  /** Run down notifiers at shutdown. */
  omega: z.boolean(),
  inhibitOnFailure: z.boolean(),
  haSuspend: z.boolean(),
  /**
   * tslvsd extension `announce_route`: while the quorum is up, hold VIP/32 (or /128; every address of a
   * group) in `announceRouteTable` for a routing daemon to announce. Absent = off.
   */
  announceRoute: z.literal(true).optional(),
  virtualhost: z.string().optional(),
  realServers: z.array(RealServer),
});
export type VirtualServer = z.infer<typeof VirtualServer>;

// ---------------------------------------------------------------------------------------------- SSL

/** A file named in the `SSL` block, with where it was named (for errors about reading it). */
export const SslFile = z.object({ loc: SourceLocation, path: z.string().min(1) });
export type SslFile = z.infer<typeof SslFile>;

/**
 * keepalived's top-level `SSL { password P; ca FILE; certificate FILE; key FILE }`: the TLS client context
 * every SSL_GET uses. `certificate` (+ `key`, `password` for an encrypted key) is presented to servers that ask;
 * `ca` makes tslvsd verify the server's certificate against it (keepalived loads it but never verifies).
 */
export const SslContext = z.object({
  loc: SourceLocation,
  password: z.string().optional(),
  ca: SslFile.optional(),
  certificate: SslFile.optional(),
  key: SslFile.optional(),
});
export type SslContext = z.infer<typeof SslContext>;

// ---------------------------------------------------------------------------------------------- the whole

export const ConfigModel = z.object({
  /** The top-level file that was compiled. */
  source: z.string(),
  global: GlobalDefs,
  vrrpScripts: z.array(VrrpScript),
  trackFiles: z.array(TrackFile),
  trackProcesses: z.array(TrackProcess),
  vrrpSyncGroups: z.array(VrrpSyncGroup),
  vrrpInstances: z.array(VrrpInstance),
  /** `static_ipaddress` / `static_routes` / `static_rules`: held while the VRRP side runs, whatever the states. */
  staticIpAddresses: z.array(VirtualIpAddress),
  staticRoutes: z.array(IpRoute),
  staticRules: z.array(IpRule),
  virtualServerGroups: z.array(VirtualServerGroup),
  virtualServers: z.array(VirtualServer),
  /** The `SSL` block; absent = SSL_GET presents no certificate and verifies nothing. */
  ssl: SslContext.optional(),
});
export type ConfigModel = z.infer<typeof ConfigModel>;
