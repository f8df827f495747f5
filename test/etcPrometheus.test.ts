import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The shipped alert rules (etc/prometheus/tslvsd.rules.yml) checked and tested by Debian's promtool on the
// series of etc/prometheus/tslvsd.rules.test.yml; the dashboard's queries parsed by it. promtool comes from
// the `prometheus` package of the unit purpose (scripts/setup/packages.txt).
const promtool = (...args: string[]): { code: number | null; out: string } => {
  const r = spawnSync('promtool', args, { cwd: 'etc/prometheus', encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
};

describe('shipped Prometheus rules and Grafana dashboard', () => {
  it('promtool check rules: six alerts', () => {
    const r = promtool('check', 'rules', 'tslvsd.rules.yml');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS: 6 rules found');
  });

  it('promtool test rules on the recorded series', () => {
    const r = promtool('test', 'rules', 'tslvsd.rules.test.yml');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('every alert of the rules file is exercised by the tests file', () => {
    const alerts = [...readFileSync('etc/prometheus/tslvsd.rules.yml', 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tests = readFileSync('etc/prometheus/tslvsd.rules.test.yml', 'utf8');
    expect(alerts).toEqual(['TslvsdVrrpSplitBrain', 'TslvsdVrrpNoMaster', 'TslvsdVrrpFlapping', 'TslvsdVirtualServerQuorumLost', 'TslvsdRealServerDown', 'TslvsdConfigReloadFailed']);
    for (const alert of alerts) expect(tests).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:`));
  });

  it('the dashboard is Grafana JSON whose every query is PromQL promtool accepts', () => {
    const dashboard = JSON.parse(readFileSync('etc/grafana/tslvsd.json', 'utf8')) as { uid: string; panels: Array<{ targets: Array<{ expr: string }> }> };
    expect(dashboard.uid).toBe('tslvsd');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    // A rules file of recording rules, one per query, is the way promtool parses PromQL offline.
    const rules = `groups:\n  - name: dashboard\n    rules:\n${exprs.map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e)}\n`).join('')}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'tslvsd-dash-'));
    try {
      writeFileSync(path.join(dir, 'dashboard.rules.yml'), rules);
      const r = spawnSync('promtool', ['check', 'rules', path.join(dir, 'dashboard.rules.yml')], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
