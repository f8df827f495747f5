/**
 * Keywords the compiler models (they appear in ConfigModel) but that the tslvsd runtime does not act on
 * yet. Each one gives a warning "parsed but not acted on at runtime" wherever it is used, so nothing is
 * silently ignored. THE ONE LIST: a room that implements a feature deletes its entries here (and nothing
 * else has to change). Keys are `block.keyword` (block = global_defs, vrrp_instance, vrrp_sync_group,
 * vrrp_script, unicast_peer, virtual_server, real_server, url, or a checker type such as TCP_CHECK); the value says what is missing.
 * test/config/runtimeSupport.test.ts fails when an entry names a model field a runtime module reads.
 */
export const NOT_ACTED_ON_AT_RUNTIME: ReadonlyMap<string, string> = new Map([
  ['global_defs.notification_email', 'tslvsd sends no e-mail'],
  ['global_defs.notification_email_from', 'tslvsd sends no e-mail'],
  ['global_defs.smtp_server', 'tslvsd sends no e-mail'],
  ['global_defs.smtp_connect_timeout', 'tslvsd sends no e-mail'],
  ['vrrp_instance.smtp_alert', 'tslvsd sends no e-mail'],
  ['vrrp_sync_group.smtp_alert', 'tslvsd sends no e-mail'],
  ['virtual_server.smtp_alert', 'tslvsd sends no e-mail'],
  ['real_server.smtp_alert', 'tslvsd sends no e-mail'],
  ['vrrp_instance.strict_mode', 'no nftables/iptables rules are installed'],
  ['global_defs.vrrp_strict', 'no nftables/iptables rules are installed'],
  ['vrrp_sync_group.global_tracking', 'sync-group tracking options are not implemented'],
  ['virtual_server.ha_suspend', 'not implemented'],
  ['vrrp_instance.skip_check_adv_addr', 'adverts are always checked'],
  ['global_defs.vrrp_skip_check_adv_addr', 'adverts are always checked'],
  ...['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK'].flatMap((checker) => [
    [`${checker}.bind_if`, 'checkers do not bind to an interface'] as const,
    [`${checker}.log_all_failures`, 'every failure is logged anyway'] as const,
  ]),
]);

export function notActedOnReason(block: string, keyword: string): string | undefined {
  return NOT_ACTED_ON_AT_RUNTIME.get(`${block}.${keyword}`);
}
