/**
 * Numbers of the kernel's IPVS generic netlink interface, transcribed from include/uapi/linux/ip_vs.h
 * (and the netlink/genetlink framing numbers from linux/netlink.h, linux/genetlink.h).
 */

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

/** Generic netlink commands of the IPVS family (enum in ip_vs.h). */
export const IpvsCmd = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  /** Start a sync daemon; also the command of GET_DAEMON dump parts. */
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  /** Dump of the running sync daemons. */
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  /** Only used as the command of GET_INFO replies. */
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** First-level attributes of every IPVS command. */
export const CmdAttr = {
  SERVICE: 1,
  DEST: 2,
  DAEMON: 3,
  TIMEOUT_TCP: 4,
  TIMEOUT_TCP_FIN: 5,
  TIMEOUT_UDP: 6,
} as const;

/** Attributes nested in CmdAttr.SERVICE. */
export const SvcAttr = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;

/** Attributes nested in CmdAttr.DEST. */
export const DestAttr = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;

/** Attributes nested in SvcAttr/DestAttr STATS and STATS64. */
export const StatsAttr = {
  CONNS: 1,
  INPKTS: 2,
  OUTPKTS: 3,
  INBYTES: 4,
  OUTBYTES: 5,
  CPS: 6,
  INPPS: 7,
  OUTPPS: 8,
  INBPS: 9,
  OUTBPS: 10,
  /** 64-bit alignment padding (nla_put_u64_64bit): carries nothing. */
  PAD: 11,
} as const;

/** Attributes nested in CmdAttr.DAEMON (IPVS_DAEMON_ATTR_*). */
export const DaemonAttr = {
  /** u32: IP_VS_STATE_MASTER / IP_VS_STATE_BACKUP. */
  STATE: 1,
  /** NUL-terminated interface name. */
  MCAST_IFN: 2,
  /** u32 */
  SYNC_ID: 3,
  /** u16, host order: UDP payload size (kernel 4.3+, as the four below). */
  SYNC_MAXLEN: 4,
  /** 4 bytes, network order. */
  MCAST_GROUP: 5,
  /** 16 bytes. */
  MCAST_GROUP6: 6,
  /** u16, host order. */
  MCAST_PORT: 7,
  /** u8 */
  MCAST_TTL: 8,
} as const;

/** IP_VS_STATE_* of the sync daemons. */
export const SyncState = { NONE: 0, MASTER: 1, BACKUP: 2 } as const;

/** Attributes of GET_INFO replies. */
export const InfoAttr = {
  VERSION: 1,
  CONN_TAB_SIZE: 2,
} as const;

/** Virtual service flags (IP_VS_SVC_F_*). */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  /** Set by the kernel on every hashed (i.e. live) service; meaningless to userspace. */
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;

/** Forwarding methods (IP_VS_CONN_F_FWD_MASK values). */
export const FwdMethod = {
  MASQ: 0,
  LOCALNODE: 1,
  TUNNEL: 2,
  DROUTE: 3,
  BYPASS: 4,
} as const;
export const FWD_MASK = 0x0007;

/** IP_VS_CONN_F_TUNNEL_TYPE_*. */
export const TunnelType = { IPIP: 0, GUE: 1, GRE: 2 } as const;

/** IP_VS_TUNNEL_ENCAP_FLAG_*. */
export const TunnelFlag = { NOCSUM: 0, CSUM: 1, REMCSUM: 2 } as const;

export const AF_INET = 2;
export const AF_INET6 = 10;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** linux/netlink.h */
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP = 0x300;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** The generic netlink controller (linux/genetlink.h). */
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
