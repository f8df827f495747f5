import { describe, expect, it } from 'vitest';
import { model } from '../config/helpers.js';
import { planFromConfig, type UserResolver } from '../../src/healthcheck/fromConfig.js';
import { resolveScriptRunAs } from '../../src/scripts/runAs.js';
import { parseUserDatabase } from '../../src/scripts/userDatabase.js';

const conf = `
global_defs {
  script_user nobody
}
virtual_server 10.0.0.100 80 {
  delay_loop 6
  lb_algo rr
  lb_kind DR
  protocol TCP
  quorum 2
  hysteresis 1
  quorum_up "/usr/local/bin/qup arg1"
  omega
  sorry_server 192.168.10.99 80
  real_server 192.168.10.11 80 {
    weight 3
    inhibit_on_failure
    notify_down "/usr/local/bin/down rs11" root
    HTTP_GET {
      url {
        path /health
        digest 9b3a0c85a887a256d6939da88aabd8cd
        status_code 200-204
      }
      connect_timeout 2
      retry 4
      delay_before_retry 2
    }
  }
  real_server 192.168.10.12 80 {
    MISC_CHECK {
      misc_path "/usr/local/bin/check 192.168.10.12"
      misc_timeout 4
      misc_dynamic
    }
    TCP_CHECK {
      connect_port 8080
      bindto 192.168.10.2
    }
  }
}
`;

const users = parseUserDatabase('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n', 'root:x:0:\n');
/** The daemon's resolver (src/scripts/hostIdentity.ts) over a fixed database. */
const resolveUser: UserResolver = (command, scriptUser) => {
  const r = resolveScriptRunAs(command, scriptUser, users, { uid: 0, gid: 0 });
  return r.ok ? (r.source === 'daemon' ? undefined : r.runAs) : { refused: r.error };
};

describe('planFromConfig (through the real config compiler)', () => {
  const plan = planFromConfig(model(conf), resolveUser);
  const vs = plan.virtualServers[0]!;

  it('keys virtual and real servers as the IPVS room does', () => {
    expect(vs.key).toBe('10.0.0.100:80/TCP');
    expect(vs.realServers.map((r) => r.key)).toEqual(['192.168.10.11:80', '192.168.10.12:80']);
    expect(vs.sorryServer).toEqual({ key: '192.168.10.99:80', weight: 1, inhibit: false });
  });

  it('carries quorum, hysteresis, omega, scripts as argv, inhibit and weights', () => {
    expect(vs).toMatchObject({ quorum: 2, hysteresis: 1, omega: true, quorumUp: { argv: ['/usr/local/bin/qup', 'arg1'] } });
    expect(vs.quorumUp?.runAs).toEqual({ uid: 65534, gid: 65534 }); // no user of its own: the global script_user
    expect(vs.realServers[0]).toMatchObject({ weight: 3, inhibitOnFailure: true, notifyDown: { argv: ['/usr/local/bin/down', 'rs11'], runAs: { uid: 0, gid: 0 } } });
  });

  it('resolves checker timers in milliseconds and targets', () => {
    const http = vs.realServers[0]!.checkers[0]!;
    expect(http).toMatchObject({
      type: 'HTTP_GET',
      timing: { delayLoopMs: 6000, retry: 4, delayBeforeRetryMs: 2000 },
      target: { host: '192.168.10.11', port: 80, timeoutMs: 2000 },
      urls: [{ path: '/health', digest: '9b3a0c85a887a256d6939da88aabd8cd', statusCodes: [[200, 204]] }],
    });
    const [misc, tcp] = vs.realServers[1]!.checkers;
    expect(misc).toMatchObject({ type: 'MISC_CHECK', argv: ['/usr/local/bin/check', '192.168.10.12'], timeoutMs: 4000, dynamic: true, runAs: { uid: 65534, gid: 65534 } });
    expect(tcp).toMatchObject({ type: 'TCP_CHECK', target: { host: '192.168.10.12', port: 8080, bindTo: '192.168.10.2' } });
  });

  it('a script whose user does not exist is planned as refused, never as the daemon\'s user', () => {
    const refused = planFromConfig(model(conf.replace('script_user nobody', 'script_user no-such-user-hc')), resolveUser);
    const misc = refused.virtualServers[0]!.realServers[1]!.checkers[0]!;
    expect(misc).toMatchObject({ type: 'MISC_CHECK', runAs: { refused: "user 'no-such-user-hc' does not exist" } });
    expect(refused.virtualServers[0]!.quorumUp?.runAs).toEqual({ refused: "user 'no-such-user-hc' does not exist" });
  });

  it('an SSL_GET gets the SSL block\'s material and every url its regex; an HTTP_GET no material', () => {
    const text = `SSL {\n  ca /etc/ca.pem\n  certificate /etc/c.pem\n  key /etc/k.pem\n  password secret\n}\n
virtual_server 10.0.0.1 443 {\n  lb_algo rr\n  protocol TCP
  real_server 10.0.1.1 443 {
    SSL_GET {\n      url {\n        path /\n        regex "up|ok"\n        regex_no_match\n        regex_min_offset 2\n        regex_max_offset 40\n        regex_options multiline caseless never_utf\n      }\n    }
    HTTP_GET {\n      url {\n        path /h\n      }\n    }
  }\n}\n`;
    const m = model(text);
    expect(m.ssl).toMatchObject({ password: 'secret', ca: { path: '/etc/ca.pem', loc: { line: 2 } }, certificate: { path: '/etc/c.pem' }, key: { path: '/etc/k.pem', loc: { line: 4 } } });
    const material = { ca: 'CA', cert: 'C', key: 'K', passphrase: 'secret' };
    const [ssl, http] = planFromConfig(m, resolveUser, material).virtualServers[0]!.realServers[0]!.checkers;
    expect(ssl).toMatchObject({ type: 'SSL_GET', tls: material, urls: [{ path: '/', regex: { pattern: 'up|ok', noMatch: true, minOffset: 2, maxOffset: 40, flags: 'im' } }] });
    expect(http).toMatchObject({ type: 'HTTP_GET' });
    expect(http).not.toHaveProperty('tls');
    expect((http as { urls: unknown[] }).urls[0]).not.toHaveProperty('regex');
  });
});
