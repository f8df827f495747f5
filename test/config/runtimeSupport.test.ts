/**
 * The "parsed but not acted on at runtime" list (src/config/runtimeSupport.ts) must say what the runtime
 * really does. Each listed keyword is mapped here to the model field the compiler fills from it, and the
 * mapping is checked against the compiler itself (the keyword changes that field of the model); then every
 * runtime module (src/ outside src/config/) is read: a listed keyword whose field a runtime module reads is
 * a lie in the list, and so is a keyword the runtime acts on that is still listed. An entry added to the list
 * without a line here fails too, so the two stay in step.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOT_ACTED_ON_AT_RUNTIME } from '../../src/config/runtimeSupport.js';
import { instance, model } from './helpers.js';

const vs = (body: string): string => `virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  protocol TCP\n${body}\n}\n`;

const root = new URL('../..', import.meta.url).pathname;

/** Each listed `block.keyword` → the model field the compiler fills from it (null: parsed, no field kept). */
const FIELD_OF: Readonly<Record<string, string | null>> = {
  'global_defs.notification_email': 'notificationEmail',
  'global_defs.notification_email_from': 'notificationEmailFrom',
  'global_defs.smtp_server': 'smtpServer',
  'global_defs.smtp_connect_timeout': 'smtpConnectTimeout',
  'vrrp_instance.smtp_alert': 'smtpAlert',
  'vrrp_sync_group.smtp_alert': 'smtpAlert',
  'virtual_server.smtp_alert': null,
  'real_server.smtp_alert': null,
  'vrrp_instance.strict_mode': 'strictMode',
  'global_defs.vrrp_strict': 'vrrpStrict',
  'vrrp_sync_group.global_tracking': 'globalTracking',
  'virtual_server.ha_suspend': 'haSuspend',
  'vrrp_instance.skip_check_adv_addr': 'skipCheckAdvAddr',
  'global_defs.vrrp_skip_check_adv_addr': 'vrrpSkipCheckAdvAddr',
  ...Object.fromEntries(
    ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK'].flatMap((c) => [
      [`${c}.bind_if`, 'bindIf'],
      [`${c}.log_all_failures`, 'logAllFailures'],
    ]),
  ),
};

/**
 * Listed keywords a runtime module reads for a narrower purpose than the keyword's: where, and why the entry
 * stays. Anything else reading a listed field fails the test.
 */
const READ_ONLY_TO: Readonly<Record<string, { file: string; why: string }>> = {
  'vrrp_instance.strict_mode': { file: 'src/vrrp/core/fromConfig.ts', why: 'only "no advert at lower priority" is honoured; no firewall rules' },
};

/** Keywords the runtime acts on, with the field they fill and a module that reads it: never listed. */
const ACTED_ON: readonly { key: string; field: string; reader: string }[] = [
  { key: 'virtual_server.persistence_engine', field: 'persistenceEngine', reader: 'src/ipvs/fromConfig.ts' },
  { key: 'real_server.uthreshold', field: 'upperConnectionThreshold', reader: 'src/ipvs/fromConfig.ts' },
  { key: 'real_server.lthreshold', field: 'lowerConnectionThreshold', reader: 'src/ipvs/fromConfig.ts' },
  { key: 'vrrp_instance.mcast_src_ip', field: 'mcastSrcIp', reader: 'src/vrrp/core/fromConfig.ts' },
  { key: 'vrrp_instance.unicast_src_ip', field: 'unicastSrcIp', reader: 'src/vrrp/core/fromConfig.ts' },
  { key: 'vrrp_instance.use_vmac', field: 'useVmac', reader: 'src/vrrp/service.ts' },
  { key: 'global_defs.vrrp_gna_interval', field: 'vrrpGnaInterval', reader: 'src/vrrp/runtime/masterEffects.ts' },
  { key: 'unicast_peer.min_ttl', field: 'minTtl', reader: 'src/vrrp/core/fromConfig.ts' },
  { key: 'unicast_peer.max_ttl', field: 'maxTtl', reader: 'src/vrrp/core/fromConfig.ts' },
  { key: 'url.regex', field: 'regex', reader: 'src/healthcheck/fromConfig.ts' },
  { key: 'url.regex_no_match', field: 'regexNoMatch', reader: 'src/healthcheck/fromConfig.ts' },
  // HTTP_GET/SSL_GET fast_recovery is acted on with no field read: every url is fetched in one probe anyway.
  { key: 'virtual_server.persistence_timeout', field: 'persistenceTimeout', reader: 'src/ipvs/fromConfig.ts' },
  { key: 'virtual_server.announce_route', field: 'announceRoute', reader: 'src/announce/announcePlan.ts' },
  { key: 'global_defs.announce_route_table', field: 'announceRouteTable', reader: 'src/daemon/announcePart.ts' },
  { key: 'global_defs.announce_route_drain', field: 'announceRouteDrain', reader: 'src/daemon/announcePart.ts' },
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Runtime modules' code with comments and string literals blanked, by path relative to the root. */
const RUNTIME: ReadonlyMap<string, string> = new Map(
  tsFiles(join(root, 'src'))
    .filter((p) => !p.startsWith(join(root, 'src/config/')))
    .map((p) => [
      p.slice(root.length),
      readFileSync(p, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, ' ')
        .replace(/\/\/[^\n]*/g, ' ')
        .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''"),
    ]),
);

/** Runtime modules that read `field`: a property access (`x.field`, `x?.field`) or a destructuring. */
function readersOf(field: string): string[] {
  const access = new RegExp(`\\.${field}\\b|\\{[^{}]*\\b${field}\\b[^{}]*\\}\\s*=`);
  return [...RUNTIME].filter(([, code]) => access.test(code)).map(([file]) => file);
}

describe('the not-acted-on list agrees with the runtime', () => {
  it('every listed keyword has its model field here, and every line here is listed', () => {
    expect([...NOT_ACTED_ON_AT_RUNTIME.keys()].sort()).toEqual(Object.keys(FIELD_OF).sort());
  });

  it('no runtime module reads the field of a listed keyword (beyond the reads explained above)', () => {
    const lies: string[] = [];
    for (const [key, field] of Object.entries(FIELD_OF)) {
      if (field === null) continue;
      const readers = readersOf(field);
      const allowed = READ_ONLY_TO[key];
      const unexplained = readers.filter((f) => f !== allowed?.file);
      if (unexplained.length > 0) lies.push(`${key} (${field}) is listed as not acted on, but ${unexplained.join(', ')} read(s) it`);
      if (allowed) expect(readers, `${key}: ${allowed.why}`).toContain(allowed.file);
    }
    expect(lies).toEqual([]);
  });

  it('keywords the runtime acts on are not listed, and a runtime module does read their field', () => {
    for (const { key, field, reader } of ACTED_ON) {
      expect(NOT_ACTED_ON_AT_RUNTIME.has(key), key).toBe(false);
      expect(readersOf(field), key).toContain(reader);
    }
  });

  it('the scanner finds reads (a check that cannot fail would prove nothing)', () => {
    expect(readersOf('virtualRouterId').length).toBeGreaterThan(0);
    expect(readersOf('noSuchFieldAnywhere')).toEqual([]);
    // `address` in comments all over src/ is not a read of a field named so, only `.address` is.
    expect(readersOf('regexMaxOffset').length).toBeGreaterThan(0);
  });
});

describe('the keyword → field mapping is the compiler\'s', () => {
  it('the acted-on keywords fill the fields the runtime reads', () => {
    const vsModel = model(`${vs('  persistence_engine sip\n  persistence_timeout 50\n  real_server 10.1.0.1 80 {\n    uthreshold 100\n    lthreshold 10\n    TCP_CHECK { }\n  }')}`);
    const service = vsModel.virtualServers[0]!;
    expect(service).toMatchObject({ persistenceEngine: 'sip', persistenceTimeout: 50 });
    expect(service.realServers[0]).toMatchObject({ upperConnectionThreshold: 100, lowerConnectionThreshold: 10 });
    const vrrp = model(instance('  mcast_src_ip 192.0.2.10\n  unicast_src_ip 192.0.2.11'));
    expect(vrrp.vrrpInstances[0]).toMatchObject({ mcastSrcIp: '192.0.2.10', unicastSrcIp: '192.0.2.11' });
  });

  it('listed keywords fill the fields named above', () => {
    const m = model(`global_defs {\n  notification_email { a@b.c }\n  notification_email_from x@b.c\n  smtp_connect_timeout 7\n  vrrp_strict\n  vrrp_skip_check_adv_addr\n  vrrp_gna_interval 2\n}\n${instance('  smtp_alert\n  skip_check_adv_addr\n  strict_mode on\n  unicast_peer {\n    10.0.0.2 min_ttl 1 max_ttl 9\n  }')}${vs(`  ha_suspend\n  smtp_alert\n  real_server 10.1.0.1 80 {\n    smtp_alert\n    HTTP_GET {\n      url {\n        path /\n        regex ok\n        regex_no_match\n      }\n      fast_recovery\n      bind_if eth0\n      log_all_failures\n    }\n  }`)}`);
    expect(m.global).toMatchObject({ notificationEmail: ['a@b.c'], notificationEmailFrom: 'x@b.c', smtpConnectTimeout: 7, vrrpStrict: true, vrrpSkipCheckAdvAddr: true, vrrpGnaInterval: 2 });
    expect(m.vrrpInstances[0]).toMatchObject({ smtpAlert: true, skipCheckAdvAddr: true, strictMode: true });
    expect(m.vrrpInstances[0]!.unicastPeers[0]).toMatchObject({ minTtl: 1, maxTtl: 9 });
    const service = m.virtualServers[0]!;
    expect(service).toMatchObject({ haSuspend: true });
    // virtual_server/real_server smtp_alert keep no field at all: nothing there for a runtime to read.
    expect(service).not.toHaveProperty('smtpAlert');
    expect(service.realServers[0]).not.toHaveProperty('smtpAlert');
    expect(service.realServers[0]!.checkers[0]).toMatchObject({ fastRecovery: true, bindIf: 'eth0', logAllFailures: true, urls: [{ regex: 'ok', regexNoMatch: true }] });
  });
});
