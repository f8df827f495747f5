/**
 * Differential test against the real keepalived 2.2.7 (`keepalived -t`, Debian's package): every line
 * keepalived complains about, tslvsd must also report (same FILE:LINE), and what keepalived accepts cleanly,
 * tslvsd accepts. Skipped when keepalived is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { NodeFileSource } from '../../src/config/nodeFileSource.js';

const keepalived = ['/usr/sbin/keepalived', '/sbin/keepalived'].find((p) => spawnSync(p, ['--version']).status === 0);
const work = mkdtempSync(join(tmpdir(), 'tslvsd-ka-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function both(text: string) {
  const file = join(work, `case${n++}.conf`);
  writeFileSync(file, text);
  const ka = spawnSync(keepalived!, ['-t', '-f', file], { encoding: 'utf8', timeout: 30_000 });
  const kaLines = [...`${ka.stdout}${ka.stderr}`.matchAll(/Line (\d+)\)/g)].map((m) => Number(m[1]));
  const ours = loadConfig(file, { files: new NodeFileSource(), configId: 'x' });
  return { kaCode: ka.status, kaLines: [...new Set(kaLines)], ours, ourLines: [...new Set(ours.diagnostics.map((d) => d.line))] };
}

const I = (body: string) => `vrrp_instance X {\n interface eth0\n virtual_router_id 5\n${body}\n virtual_ipaddress {\n 10.0.0.10\n }\n}\n`;
const V = (body: string) => `virtual_server 10.0.0.1 80 {\n lb_algo rr\n${body}\n real_server 10.0.0.2 80 {\n }\n}\n`;

const FLAGGED: Array<[string, string]> = [
  ['priority out of range', I(' priority 0')],
  ['invalid VIP', 'vrrp_instance X {\n interface eth0\n virtual_router_id 5\n virtual_ipaddress {\n 10.0.0.300\n }\n}\n'],
  ['advert_int not a number', I(' advert_int fast')],
  ['unknown state', I(' state LEADER')],
  ['unknown keyword', 'global_defs {\n frobnicate 1\n}\n'],
  ['unknown scheduler', V(' lb_algo fastest\n protocol TCP')],
  ['unknown protocol', V(' protocol ICMP')],
  ['unknown forwarding method', V(' protocol TCP\n lb_kind DSR')],
  ['VRID out of range', 'vrrp_instance X {\n interface eth0\n virtual_router_id 300\n}\n'],
];

describe.skipIf(keepalived === undefined)('tslvsd reports every line keepalived -t reports', () => {
  it.each(FLAGGED)('%s', (_name, text) => {
    const r = both(text);
    expect(r.kaCode).not.toBe(0);
    expect(r.kaLines.length).toBeGreaterThan(0);
    for (const line of r.kaLines) expect(r.ourLines, `keepalived flags line ${line}`).toContain(line);
  });

  it('what keepalived accepts cleanly, tslvsd accepts', () => {
    for (const text of [
      V(' protocol TCP\n lb_kind DR\n delay_loop 6'),
      I(' state MASTER\n priority 150\n advert_int 1\n authentication {\n auth_type PASS\n auth_pass abc\n }'),
      'global_defs {\n router_id LVS_A\n}\n',
    ]) {
      const r = both(text);
      expect(r.kaCode).toBe(0);
      expect(r.ours.errorCount).toBe(0);
    }
    const example = new URL('../../etc/tslvsd.conf.example', import.meta.url).pathname;
    expect(spawnSync(keepalived!, ['-t', '-f', example]).status).toBe(0);
    expect(loadConfig(example, { files: new NodeFileSource(), configId: 'x' }).diagnostics).toEqual([]);
  });
});
