/**
 * One case per diagnostic the compiler can give: the snippet, and the exact `LINE:COL: severity: message`
 * it must produce (file is /etc/ka.conf). Positions are part of the contract: they point at the token.
 */
import { describe, expect, it } from 'vitest';
import { compile, messages } from './helpers.js';

const I = (body: string) => `vrrp_instance V {\ninterface eth0\nvirtual_router_id 9\n${body}\n}`; // body starts at line 4
// body starts at line 3; a real server and the protocol follow it (keepalived ignores a service without real servers)
const V = (body: string) => `virtual_server 10.0.0.1 80 {\nlb_algo rr\n${body}\n${body.includes('real_server') ? '' : 'real_server 10.250.0.1 80 {\n}\n'}protocol TCP\n}`;
const R = (body: string) => V(`real_server 10.0.1.1 80 {\n${body}\n}`); // body starts at line 4

const CASES: Array<[string, string, string]> = [
  // structure
  ['unterminated quote', 'global_defs {\nrouter_id "abc\n}', '2:11: error: unterminated quoted string'],
  ['{ with no keyword', '{\n}', "1:1: error: '{' without a keyword before it"],
  ['second block', 'global_defs {\n} {\n}', "2:3: error: '{' without a keyword before it"],
  ['unmatched }', '}', "1:1: error: unmatched '}'"],
  ['never closed', 'global_defs {', "1:13: error: 'global_defs' block opened here is never closed (missing '}')"],
  ['needs block', 'vrrp_instance V', "1:1: error: 'vrrp_instance' needs a { … } block"],
  ['block on a plain keyword', I('nopreempt {\n}'), "4:11: warning: 'nopreempt' takes no block; its content is ignored"],
  // preprocessor
  ['@ without id', '@ router_id x', "1:1: warning: '@' without a config id: line ignored"],
  ['include without name', 'include', '1:1: error: include without a file name'],
  ['_RANDOM max < min', 'global_defs {\nrouter_id ${_RANDOM 9 1}\n}', '2:1: warning: ${_RANDOM 9 1}: MAX is less than MIN'],
  ['SEQ not closed', '~SEQ(A, 1, 2 x', "1:1: error: ~SEQ( is not closed by ')'"],
  ['LST bad', '~LST(A) x', '1:1: error: ~LST(A): expected (var, value, …)'],
  // values
  ['needs a value', I('priority'), "4:1: error: 'priority' needs a value"],
  ['extra args', I('priority 10 20'), "4:13: warning: extra arguments after 'priority 10' ignored"],
  ['not an integer', I('priority high'), "4:10: error: priority: 'high' is not an integer"],
  ['out of range', I('priority 0'), '4:10: error: priority: 0 is out of range 1..255'],
  ['huge', I('priority 99999999999999999999999'), '4:10: error: priority: 99999999999999999999999 is out of range 1..255'],
  ['not seconds', I('preempt_delay soon'), "4:15: error: preempt_delay: 'soon' is not a number of seconds"],
  ['seconds range', I('preempt_delay 5000'), '4:15: error: preempt_delay: 5000 is out of range 0..1000 seconds'],
  ['bool', V('omega maybe'), "3:7: error: omega: 'maybe' is not a boolean (on|off|true|false|yes|no)"],
  ['bad ip', I('unicast_src_ip 1.2.3'), "4:16: error: unicast_src_ip: '1.2.3' is not an IPv4 or IPv6 address"],
  ['bad prefix', I('virtual_ipaddress {\n10.0.0.1/40\n}'), "5:1: error: virtual address: '/40' is not a prefix length 0..32"],
  ['vip option needs value', I('virtual_ipaddress {\n10.0.0.1 dev\n}'), "5:10: error: virtual address option 'dev' needs a value"],
  ['vip option unknown', I('virtual_ipaddress {\n10.0.0.1 sparkle\n}'), "5:10: warning: unknown virtual address option 'sparkle' ignored"],
  ['vip option not acted on', I('virtual_ipaddress {\n10.0.0.1 nodad\n}'), "5:10: warning: virtual address option 'nodad' is parsed but not acted on at runtime"],
  ['mixed families', I('virtual_ipaddress {\n10.0.0.1\nfe80::1\n}'), '6: error: vrrp_instance V: virtual_ipaddress mixes IPv4 and IPv6 (use virtual_ipaddress_excluded for the other family)'],
  ['state EQUAL', I('state EQUAL'), '4:7: warning: state EQUAL is treated as BACKUP'],
  ['auth type', I('authentication {\nauth_type MD5\n}'), "5:11: error: auth_type: 'MD5' is not PASS or AH"],
  ['auth unknown', I('authentication {\nauth_key x\n}'), "5:1: warning: unknown keyword 'auth_key' in authentication"],
  ['unicast peer ttl without check', I('unicast_peer {\n10.0.0.2 min_ttl 3\n}'), '5: warning: unicast_peer 10.0.0.2: min_ttl/max_ttl are checked only with check_unicast_src (as keepalived)'],
  ['unicast peer ttl crossed', I('check_unicast_src\nunicast_peer {\n10.0.0.2 min_ttl 9 max_ttl 3\n}'), '6: warning: unicast_peer 10.0.0.2: min_ttl 9 > max_ttl 3: all its adverts will be discarded'],
  ['unicast peer option', I('unicast_peer {\n10.0.0.2 ttl 3\n}'), "5:10: error: unicast_peer: unexpected 'ttl' (min_ttl N, max_ttl N)"],
  ['track weight', I('track_interface {\neth1 wait 3\n}'), "5:6: error: expected 'weight N [reverse]' after 'eth1'"],
  ['track reverse', I('track_interface {\neth1 weight 3 backwards\n}'), "5:15: error: expected 'reverse', got 'backwards'"],
  ['notify empty', I('notify_master ""'), "4:15: error: 'notify_master': empty script"],
  ['notify no script', I('notify_master'), "4:1: error: 'notify_master' needs a script"],
  ['notify too many', I('notify_master /bin/x a b c'), "4:26: warning: 'notify_master': arguments after 'script user group' ignored (quote the command to pass arguments)"],
  ['v2 fractional advert', I('advert_int 1.5'), '1:1: warning: vrrp_instance V: VRRPv2 advert_int must be whole seconds; rounded up'],
  ['v3 advert too long', I('version 3\nadvert_int 41'), '1:1: warning: vrrp_instance V: VRRPv3 advert_int 41 exceeds 40.95 seconds; using 40.95'],
  ['v3 advert centiseconds', I('version 3\nadvert_int 0.125'), '1:1: warning: vrrp_instance V: VRRPv3 advert_int is in centiseconds; 0.125 rounded to 0.13'],
  ['v3 drops auth', I('version 3\nauthentication {\nauth_pass x\n}'), '1:1: warning: vrrp_instance V: authentication is not part of VRRPv3; ignored'],
  ['v2 for IPv6', I('version 2\nvirtual_ipaddress {\nfe80::1\n}'), '1:1: warning: vrrp_instance V: IPv6 needs VRRP version 3; using 3'],
  ['instance name', 'vrrp_instance {\n}', "1:1: error: 'vrrp_instance' needs a name"],
  ['no VIP', I(''), '1:1: warning: vrrp_instance V: no virtual_ipaddress; at least one is sensible (keepalived warns too)'],
  // global_defs
  ['smtp_server host', 'global_defs {\nsmtp_server\n}', "2:1: error: 'smtp_server' needs a host"],
  ['smtp port', 'global_defs {\nsmtp_server mail x\n}', "2:18: error: smtp_server port: 'x' is not an integer"],
  ['script_user', 'global_defs {\nscript_user\n}', "2:1: error: 'script_user' needs a user name"],
  ['mcast6', 'global_defs {\nvrrp_mcast_group6 fe80::1\n}', "2:19: error: vrrp_mcast_group6: 'fe80::1' is not an IPv6 multicast address"],
  ['lvs_timeouts value', 'global_defs {\nlvs_timeouts tcp\n}', "2:14: error: lvs_timeouts: 'tcp' needs a value"],
  ['lvs_timeouts proto', 'global_defs {\nlvs_timeouts sctp 5\n}', "2:14: error: lvs_timeouts: unknown protocol 'sctp' (tcp, tcpfin, udp)"],
  ['e-mail not acted on', 'global_defs {\nsmtp_connect_timeout 30\n}', "2:1: warning: 'smtp_connect_timeout' is parsed but not acted on at runtime (tslvsd sends no e-mail)"],
  // scripts and sync groups
  ['script name', 'vrrp_script {\n}', "1:1: error: 'vrrp_script' needs a name"],
  ['script missing', 'vrrp_script s {\ninterval 2\n}', "1:1: warning: vrrp_script s: no 'script' given; ignored"],
  ['script empty', 'vrrp_script s {\nscript\n}', "2:1: error: 'script' needs a command"],
  ['script weight', 'vrrp_script s {\nscript /bin/true\nweight\n}', "3:1: error: 'weight' needs a value"],
  ['script reverse', 'vrrp_script s {\nscript /bin/true\nweight 2 rev\n}', "3:10: error: weight: expected 'reverse', got 'rev'"],
  ['script user', 'vrrp_script s {\nscript /bin/true\nuser\n}', "3:1: error: 'user' needs a user name"],
  ['dup script', 'vrrp_script s {\nscript /bin/true\n}\nvrrp_script s {\nscript /bin/true\n}', "4: error: vrrp_script 's' is already defined at /etc/ka.conf:1"],
  ['group name', 'vrrp_sync_group {\n}', "1:1: error: 'vrrp_sync_group' needs a name"],
  ['dup group', `vrrp_sync_group G {\ngroup {\n}\n}\nvrrp_sync_group G {\ngroup {\n}\n}`, "5: error: vrrp_sync_group 'G' is already defined"],
  ['two groups', `${I('')}\nvrrp_sync_group A {\ngroup {\nV\n}\n}\nvrrp_sync_group B {\ngroup {\nV\n}\n}`, "13:1: error: vrrp_instance 'V' is already in vrrp_sync_group A"],
  // virtual servers
  ['vs head', 'virtual_server {\n}', "1:1: error: 'virtual_server' needs 'ADDRESS PORT', 'fwmark N' or 'group NAME'"],
  ['vs fwmark', 'virtual_server fwmark {\n}', "1:16: error: 'fwmark' needs a number"],
  ['vs group', 'virtual_server group {\n}', "1:16: error: 'group' needs a virtual_server_group name"],
  ['vs lb_kind missing', V('lb_kind'), "3:1: error: 'lb_kind' needs NAT, DR or TUN"],
  ['vs NAT extra', V('lb_kind NAT fast'), '3:13: warning: lb_kind: extra arguments ignored'],
  ['vs TUN junk', V('lb_kind TUN foo'), "3:13: error: lb_kind TUN: unexpected 'foo'"],
  ['vs gue port', V('lb_kind TUN type gue'), '3:9: error: TUN type gue needs a port'],
  ['vs protocol', V('protocol ICMP'), "3:10: error: protocol: 'ICMP' is not TCP, UDP or SCTP"],
  ['vs granularity', V('persistence_granularity wide'), "3:25: error: persistence_granularity: 'wide' is not a netmask or prefix length"],
  ['vs nat_mask', V('nat_mask big'), "3:10: error: nat_mask: 'big' is not a netmask"],
  ['vs sorry', V('sorry_server'), "3:1: error: 'sorry_server' needs an address"],
  ['vs ip_family', V('ip_family ipx'), "3:11: error: ip_family: 'ipx' is not inet or inet6"],
  ['vs ops', V('ops'), '1:1: warning: virtual_server 10.0.0.1 80: one packet scheduling (ops) requires UDP - resetting'],
  ['vs no protocol', 'virtual_server 10.0.0.1 80 {\nlb_algo rr\nreal_server 10.0.1.1 80 {\n}\n}', "1:1: warning: virtual_server 10.0.0.1 80: no protocol set - defaulting to UDP, as keepalived does (write 'protocol TCP' for TCP)"],
  ['vs fwmark protocol', 'virtual_server fwmark 3 {\nlb_algo rr\nprotocol TCP\nreal_server 10.0.1.1 80 {\n}\n}', '1:1: warning: virtual_server fwmark 3: protocol specified for fwmark - protocol will be ignored'],
  ['vs zero port', 'virtual_server 10.0.0.1 0 {\nlb_algo rr\nprotocol TCP\nreal_server 10.0.1.1 80 {\n}\n}', '1:1: warning: virtual_server 10.0.0.1 0: zero port only valid for persistent services - setting persistence_timeout 360'],
  ['vs quorum', V('quorum 5'), '1:1: warning: virtual_server 10.0.0.1 80: quorum 5 exceeds the total weight of the real servers 1, reducing quorum to 1'],
  ['vs hysteresis', V('hysteresis 1'), '1:1: warning: virtual_server 10.0.0.1 80: hysteresis 1 >= quorum 1; setting hysteresis to 0'],
  ['vs no real servers', 'virtual_server 10.0.0.1 80 {\nlb_algo rr\nprotocol TCP\n}', '1:1: warning: virtual_server has no real servers - ignored, as keepalived does'],
  ['DR port', V('lb_kind DR\nreal_server 10.0.1.1 8080 {\n}'), '4: warning: virtual_server 10.0.0.1 80: DR real server 10.0.1.1 port 8080 ignored - port 80, as the kernel forwards'],
  ['vs not acted on', V('ha_suspend'), "3:1: warning: 'ha_suspend' is parsed but not acted on at runtime (not implemented)"],
  ['rs address', V('real_server {\n}'), "3:1: error: 'real_server' needs an address"],
  ['rs extra', V('real_server 10.0.1.1 80 90 {\n}'), '3:25: warning: real_server: extra arguments ignored'],
  ['rs family', V('real_server fe80::1 80 {\n}'), "3:1: error: real_server fe80::1: address family differs from the virtual server's"],
  ['rs dup', V('real_server 10.0.1.1 80 {\n}\nreal_server 10.0.1.1 80 {\n}'), '5: warning: virtual_server 10.0.0.1 80: real server 10.0.1.1 80 is duplicated - removing the second'],
  ['vsg name', 'virtual_server_group {\n}', "1:1: error: 'virtual_server_group' needs a name"],
  ['vsg entry', 'virtual_server_group G {\nnowhere 80\n}', "2:1: error: virtual_server_group: 'nowhere' is not ADDRESS[-LAST]"],
  ['vsg range', 'virtual_server_group G {\n10.0.0.9-3 80\n}', "2:1: error: virtual_server_group: range end '3' must be 9..255"],
  ['vsg v6 range', 'virtual_server_group G {\nfe80::1-zz 80\n}', "2:1: error: virtual_server_group: 'fe80::1-zz' is not ADDRESS[-LAST]"],
  ['vsg fwmark', 'virtual_server_group G {\nfwmark\n}', "2:1: error: 'fwmark' needs a number"],
  ['dup vsg', 'virtual_server_group G {\n}\nvirtual_server_group G {\n}', "3: error: virtual_server_group 'G' is already defined at /etc/ka.conf:1"],
  // checkers
  ['http no url', R('HTTP_GET {\n}'), '4:1: error: HTTP_GET: at least one url { path … } is needed'],
  ['status code empty', R('HTTP_GET {\nurl {\npath /\nstatus_code\n}\n}'), "7:1: error: 'status_code' needs a code or range"],
  ['status code bad', R('HTTP_GET {\nurl {\npath /\nstatus_code 99-700\n}\n}'), "7:13: error: status_code: '99-700' is not a status code or range within 100..599"],
  ['regex bad', R('HTTP_GET {\nurl {\npath /\nregex (\n}\n}'), "7:7: error: regex: '(' is not a valid regular expression (Invalid regular expression: /(/: Unterminated group)"],
  ['regex PCRE escape', R('HTTP_GET {\nurl {\npath /\nregex \\Aok\n}\n}'), "7:7: error: regex: '\\Aok' is not a valid regular expression ('\\A' is PCRE syntax that JavaScript regular expressions do not have)"],
  ['regex possessive', R('HTTP_GET {\nurl {\npath /\nregex a++\n}\n}'), "7:7: error: regex: 'a++' is not a valid regular expression (Invalid regular expression: /a++/: Nothing to repeat)"],
  ['regex offset', R('HTTP_GET {\nurl {\npath /\nregex ok\nregex_min_offset x\n}\n}'), "8:18: error: regex_min_offset: 'x' is not an integer"],
  ['regex offsets crossed', R('HTTP_GET {\nurl {\npath /\nregex ok\nregex_min_offset 9\nregex_max_offset 3\n}\n}'), '5:1: warning: url: regex_min_offset 9 > regex_max_offset 3; both ignored'],
  ['regex params alone', R('HTTP_GET {\nurl {\npath /\nregex_no_match\n}\n}'), '5:1: warning: url: regex_no_match / regex_options / regex_min_offset / regex_max_offset without regex; ignored'],
  ['ssl key alone', 'SSL {\nkey /k.pem\n}', "1:1: error: SSL: 'key' given without 'certificate'"],
  ['ssl ca value', 'SSL {\nca\n}', "2:1: error: 'ca' needs a value"],
  ['ssl twice', 'SSL {\n}\nSSL {\n}', '3:1: warning: SSL context already specified at /etc/ka.conf:1; replacing it'],
  ['ssl unknown', 'SSL {\ncafile /x\n}', "2:1: warning: unknown keyword 'cafile' in SSL"],
  ['regex option', R('HTTP_GET {\nurl {\npath /\nregex ok\nregex_options caseless ungreedy\n}\n}'), "8:24: warning: regex_options: 'ungreedy' is not applied (only caseless, multiline, dotall are)"],
  ['regex stack', R('HTTP_GET {\nurl {\npath /\nregex ok\nregex_stack\n}\n}'), "8:1: warning: 'regex_stack' is parsed but not acted on at runtime"],
  ['url unknown', R('HTTP_GET {\nurl {\npath /\nheader x\n}\n}'), "7:1: warning: unknown keyword 'header' in url"],
  ['http protocol', R('HTTP_GET {\nurl {\npath /\n}\nhttp_protocol 2\n}'), "8:15: error: http_protocol: '2' is not 1.0, 1.0C, 1.0K or 1.1"],
  ['misc no path', R('MISC_CHECK {\n}'), "4:1: error: MISC_CHECK: no 'misc_path' given"],
  ['misc user', R('MISC_CHECK {\nmisc_path /bin/true\nuser\n}'), "6:1: error: 'user' needs a user name"],
  ['dns type', R('DNS_CHECK {\ntype ANY\n}'), "5:6: error: DNS_CHECK type: 'ANY' is not one of A NS CNAME SOA MX TXT AAAA"],
  ['udp hex', R('UDP_CHECK {\npayload xyz\n}'), "5:9: error: payload: 'xyz' is not hex"],
  ['udp hex missing', R('UDP_CHECK {\npayload\n}'), "5:1: error: 'payload' needs a hex string"],
  ['udp lengths', R('UDP_CHECK {\nmin_reply_length 9\nmax_reply_length 2\n}'), '4:1: error: UDP_CHECK: min_reply_length is greater than max_reply_length'],
  ['smtp host', R('SMTP_CHECK {\nhost {\n}\n}'), "5:1: warning: SMTP_CHECK 'host' sub-blocks are legacy (removed in keepalived 2.x) and are not acted on; use one SMTP_CHECK per host"],
  ['checker unknown kw', R('TCP_CHECK {\nsparkle\n}'), "5:1: warning: unknown keyword 'sparkle' in TCP_CHECK"],
  ['unmodelled checker', R('BFD_CHECK {\n}'), "4:1: warning: keepalived keyword 'BFD_CHECK' in real_server is parsed but not acted on by tslvsd"],
  // top level
  ['unknown top level', 'frobnicate {\n}', "1:1: warning: unknown keyword 'frobnicate'"],
  ['known block', 'linkbeat_use_polling {\n}', "1:1: warning: keepalived block 'linkbeat_use_polling' is parsed but not acted on by tslvsd"],
];

describe('every diagnostic, located', () => {
  it.each(CASES)('%s', (_name, text, expected) => {
    const r = compile(text);
    expect(messages(r)).toContain(`/etc/ka.conf:${expected}`);
    if (expected.includes(': error: ')) expect(r.model).toBeUndefined();
  });

  it('includes nested too deep', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`/etc/i${i}.conf`] = `include i${i + 1}.conf`;
    const r = compile('include i0.conf', { files });
    expect(messages(r).some((m) => /^\/etc\/i3[01]\.conf:1:1: error: includes nested deeper than 32$/.test(m))).toBe(true);
  });

  it('a schema failure is reported at the nearest object (never thrown)', async () => {
    const { ConfigModel } = await import('../../src/config/model.js');
    const ok = compile('virtual_server 10.0.0.1 80 {\nlb_algo rr\n}').model!;
    const broken = { ...ok, virtualServers: [{ ...ok.virtualServers[0], quorum: 0 }] };
    expect(ConfigModel.safeParse(broken).success).toBe(false);
  });
});
