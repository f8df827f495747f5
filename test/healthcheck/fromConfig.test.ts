import { describe, expect, it } from 'vitest';
import { model } from '../config/helpers.js';
import { planFromConfig } from '../../src/healthcheck/fromConfig.js';
import { systemUserResolver } from '../../src/healthcheck/userIds.js';

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

describe('planFromConfig (through the real config compiler)', () => {
  const plan = planFromConfig(model(conf), (user) => (user === 'nobody' ? { uid: 65534, gid: 65534 } : user === 'root' ? { uid: 0, gid: 0 } : undefined));
  const vs = plan.virtualServers[0]!;

  it('keys virtual and real servers as the IPVS room does', () => {
    expect(vs.key).toBe('10.0.0.100:80/TCP');
    expect(vs.realServers.map((r) => r.key)).toEqual(['192.168.10.11:80', '192.168.10.12:80']);
    expect(vs.sorryServer).toEqual({ key: '192.168.10.99:80', weight: 1, inhibit: false });
  });

  it('carries quorum, hysteresis, omega, scripts as argv, inhibit and weights', () => {
    expect(vs).toMatchObject({ quorum: 2, hysteresis: 1, omega: true, quorumUp: { argv: ['/usr/local/bin/qup', 'arg1'] } });
    expect(vs.quorumUp?.uid).toBeUndefined(); // no user of its own: the global script_user applies at run time
    expect(vs.realServers[0]).toMatchObject({ weight: 3, inhibitOnFailure: true, notifyDown: { argv: ['/usr/local/bin/down', 'rs11'], uid: 0, gid: 0 } });
    expect(plan.scriptUser).toEqual({ uid: 65534, gid: 65534 });
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
    expect(misc).toMatchObject({ type: 'MISC_CHECK', argv: ['/usr/local/bin/check', '192.168.10.12'], timeoutMs: 4000, dynamic: true, uid: 65534 });
    expect(tcp).toMatchObject({ type: 'TCP_CHECK', target: { host: '192.168.10.12', port: 8080, bindTo: '192.168.10.2' } });
  });

  it('the system resolver reads /etc/passwd', () => {
    expect(systemUserResolver('root')).toEqual({ uid: 0, gid: 0 });
    expect(systemUserResolver('no-such-user-hc')).toBeUndefined();
  });
});
