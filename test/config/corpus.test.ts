/**
 * The real-world corpora, read in place from ../shared/corpus (skipped when absent, never copied):
 * the 26 keepalived samples must all be accepted; the 652 maintainer configs must never crash or hang
 * and every diagnostic must be located. The accepted count is printed for the report.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { NodeFileSource } from '../../src/config/nodeFileSource.js';

// TSLVSD_CORPUS points elsewhere (a worktree whose parent holds no shared/).
const corpus = process.env.TSLVSD_CORPUS ?? new URL('../../../shared/corpus/', import.meta.url).pathname;
const samplesDir = `${corpus}keepalived-samples`;
const develDir = `${corpus}keepalived-devel-configs`;

function load(path: string) {
  return loadConfig(path, { files: new NodeFileSource(), configId: 'tslvsd-test', random: () => 0.5 });
}

describe.skipIf(!existsSync(samplesDir))('keepalived doc/samples', () => {
  const files = existsSync(samplesDir) ? readdirSync(samplesDir).sort() : [];

  it('has the 26 samples', () => {
    expect(files.length).toBe(26);
  });

  it.each(files)('%s is accepted, warnings only for features not acted on', (name) => {
    const r = load(`${samplesDir}/${name}`);
    const text = r.diagnostics.map(formatDiagnostic);
    expect(r.errorCount, text.join('\n')).toBe(0);
    expect(r.model).toBeDefined();
    for (const line of text) {
      expect(line).toMatch(/: warning: .*(not acted on|legacy|deprecated|taken as a member|obsolete|persistence_timeout 0|no lb_algo|no 'script' given|no vrrp_script of that name|protocol will be ignored|no preference specified)/);
    }
  });

  it('the shipped keepalived.conf compiles to the expected shape', () => {
    const m = load(`${samplesDir}/keepalived.conf`).model!;
    expect(m.vrrpInstances.map((i) => [i.name, i.state, i.virtualRouterId, i.priority])).toEqual([['VI_1', 'MASTER', 51, 100]]);
    expect(m.virtualServers.map((v) => [v.address, v.port, v.lbAlgo, v.lbKind, v.persistenceTimeout, v.realServers.length]))
      .toEqual([['192.168.200.100', 443, 'rr', 'NAT', 50, 1], ['10.10.10.2', 1358, 'rr', 'NAT', 50, 2], ['10.10.10.3', 1358, 'rr', 'NAT', 50, 2]]);
  });
});

describe.skipIf(!existsSync(develDir))('keepalived-devel-tools configs', () => {
  it('no crash, no hang, every diagnostic located at FILE:LINE', () => {
    const files = readdirSync(develDir).filter((f) => f.endsWith('.conf')).sort();
    expect(files.length).toBe(652);
    const reference = new Map(readFileSync(`${corpus}keepalived-devel-configs.keepalived-2.2.7-t.tsv`, 'utf8')
      .trim().split('\n').map((l) => l.split('\t') as [string, string]));
    let accepted = 0;
    let slowest = { file: '', ms: 0 };
    const problems: string[] = [];
    let keepaliveCleanWeReject = 0;
    for (const f of files) {
      const start = performance.now();
      let r;
      try {
        r = load(`${develDir}/${f}`);
      } catch (e) {
        problems.push(`${f}: threw ${e instanceof Error ? e.stack : String(e)}`);
        continue;
      }
      const ms = performance.now() - start;
      if (ms > slowest.ms) slowest = { file: f, ms };
      if (ms > 15_000) problems.push(`${f}: took ${ms.toFixed(0)} ms`);
      for (const d of r.diagnostics) {
        if (!(d.file.length > 0 && Number.isInteger(d.line) && d.line >= 1 && (d.col === undefined || d.col >= 1))) {
          problems.push(`${f}: unlocated diagnostic ${JSON.stringify(d)}`);
        }
      }
      if (r.model !== undefined) accepted++;
      else if (reference.get(f) === '0') keepaliveCleanWeReject++;
    }
    console.log(`[config corpus] keepalived-devel-configs: ${accepted}/${files.length} accepted; ` +
      `${keepaliveCleanWeReject} that keepalived 2.2.7 -t passes cleanly are rejected; slowest ${slowest.file} ${slowest.ms.toFixed(0)} ms`);
    expect(problems).toEqual([]);
    expect(accepted).toBeGreaterThan(500);
  }, 300_000);
});
