/** The one id of a virtual / real server (src/config/keys.ts), which the health and IPVS rooms both use. */
import { describe, expect, it } from 'vitest';
import { realServerKey, virtualServerKey } from '../../src/config/keys.js';
import { planFromConfig } from '../../src/healthcheck/fromConfig.js';
import { ipvsPlanFromConfig } from '../../src/ipvs/fromConfig.js';
import { model } from './helpers.js';

const CONF = `
virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.1.0.1 80 { TCP_CHECK { } }
}
virtual_server FD00:0:0::0010 443 {
  protocol TCP
  real_server fd00::2 443 { TCP_CHECK { } }
}
virtual_server fwmark 7 {
  real_server 10.1.0.3 8080 { TCP_CHECK { } }
}
`;

describe('config keys', () => {
  const m = model(CONF);

  it('name address, IPv6 (RFC 5952, bracketed) and fwmark virtual servers and their real servers', () => {
    expect(m.virtualServers.map(virtualServerKey)).toEqual(['10.0.0.1:80/TCP', '[fd00::10]:443/TCP', 'fwmark:7/IPv4']);
    expect(m.virtualServers.map((vs) => realServerKey(vs.realServers[0]))).toEqual(['10.1.0.1:80', '[fd00::2]:443', '10.1.0.3:8080']);
  });

  it('a hand-written, non-canonical IPv6 address gets the same key as the compiled one', () => {
    expect(realServerKey({ address: 'FD00:0000::0002', port: 443 })).toBe('[fd00::2]:443');
  });

  it('the health plan and the IPVS plan name every destination alike', () => {
    const ipvs = ipvsPlanFromConfig(m).virtualServers.map((vs) => [vs.virtualServer, vs.realServers.map((rs) => rs.key)]);
    const health = planFromConfig(m, () => undefined).virtualServers.map((vs) => [vs.key, vs.realServers.map((rs) => rs.key)]);
    expect(health).toEqual(ipvs);
  });
});
