/**
 * issue 17's fuzz campaign (seeded, bounded in time): 10,000 configuration mutants — corpus files and the
 * mutation set of fuzz.test.ts, plus hostile generators (huge expansions, recursive and fanning-out
 * definitions, nested repeats, deep/looping/fanning-out includes, includes of a FIFO, /dev/zero, a
 * directory, a huge file, binary junk) — through the function `tslvsd -t` runs (src/cli.ts main, in
 * this process: the budget is enforced inside it), as real files. Judged: no throw, none slower than
 * HANG_MS, every diagnostic line located FILE:LINE, every rejection with at least one located error.
 * Then a few dozen of them through the real bin/tslvsd.js: the same exit code and the same output.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { DEFAULT_COMPILE_LIMITS } from '../../src/config/budget.js';
import { loadConfigFile } from '../../src/config/compileFile.js';

const MUTANTS = 10_000;
const SEED = 17;
/**
 * A mutant slower than this is a hang past the budget. The slowest hostile file takes ~200 ms and the
 * slowest mutant ~3 s (a mutated generator of 30,000 real servers) on this 2-core machine at load 8.
 */
const HANG_MS = 15_000;
const BIN_SAMPLES = 36;

const root = new URL('../../', import.meta.url).pathname;
const corpus = process.env.TSLVSD_CORPUS ?? new URL('../../../shared/corpus/', import.meta.url).pathname;

const BASE = `global_defs {
  router_id LVS_A
}
vrrp_script chk { script "/bin/true"
  interval 2 weight -10 }
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress {
    192.168.1.10/24 dev eth0
    ~SEQ(N, 11, 13) 192.168.1.\${N}
  }
  track_script { chk }
}
virtual_server 192.168.1.10 80 {
  delay_loop 6
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 10.0.1.1 80 {
    weight 3
    TCP_CHECK { connect_timeout 3 }
  }
}
`;

/** mulberry32, as fuzz.test.ts. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const work = mkdtempSync(path.join(tmpdir(), 'td-fuzz17-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Files the hostile includes point at: a FIFO, a huge sparse file, a directory, 11 glob-including files, a deep chain. */
function prepareTargets(): Record<string, string> {
  const fifo = path.join(work, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = path.join(work, 'big.inc');
  writeFileSync(big, '');
  truncateSync(big, 17 * 1024 * 1024);
  const gdir = path.join(work, 'g');
  mkdirSync(gdir);
  for (let i = 1; i <= 11; i++) writeFileSync(path.join(gdir, `g${i}.conf`), 'include g*.conf\n');
  for (let i = 0; i < 40; i++) writeFileSync(path.join(work, `chain${i}.inc`), `include chain${i + 1}.inc\n`);
  writeFileSync(path.join(work, 'chain40.inc'), 'x\n');
  const ddir = path.join(work, 'dag');
  mkdirSync(ddir);
  for (let i = 1; i <= 12; i++) {
    writeFileSync(path.join(ddir, `d${i}.inc`), Array.from({ length: 12 - i }, (_, k) => `include d${i + k + 1}.inc`).join('\n') + '\n');
  }
  return { fifo, big, gdir, ddir };
}

type Rnd = () => number;
const pick = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);

/** Hostile lines: each stops at a budget (or is refused as a non-regular/binary file) — none may hang. */
function hostileLine(rnd: Rnd, t: Record<string, string>): string {
  const n = 1 + pick(rnd, 6);
  const choices = [
    () => `$A=$A $A\nrouter_id $A`,
    () => `$M=$M \\\n$M \\\n$M\n$M`,
    () => `$R=\${R}\${R}x\nx \${R}`,
    () => `~SEQ(A, ${10 ** n}) ~SEQ(B, ${10 ** n}) ~SEQ(C, 1000) x $A $B`,
    // Sizes a budget refuses at once, or small: a legitimate 100,000-line config costs a second to compile.
    () => `~SEQ(I, ${[1_000, 1_000_000, 10 ** 7, 10 ** 12][pick(rnd, 4)]}) 10.0.\${I}.1`,
    () => `~SEQx(I, 0, 1, ${'f'.repeat(n + 3)}) fe80::\${I}`,
    () => `~LST(V, ${Array.from({ length: 50 }, (_, i) => i).join(', ')}) ~LST(W, ${Array.from({ length: 50 }, (_, i) => i).join(', ')}) ~SEQ(X, 300) $V`,
    () => `include ${t.fifo}`,
    () => `include /dev/zero`,
    () => `includer /dev/null`,
    () => `include ${t.big}`,
    () => `include ${t.gdir}`,
    () => `include ${t.gdir}/g*.conf`,
    () => `include ${t.ddir}/d1.inc`,
    () => `include chain0.inc`,
    () => `include /proc/self/fd/0`,
    () => `include {a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}`,
    () => (n === 1 ? `$W=${'x '.repeat(30_000)}\n~SEQ(I, 40) $W` : `$W=${'x'.repeat(60_000)}\n~SEQ(I, 300) $W`),
    () => `$W=@nomatch ${'y'.repeat(60_000)}\n~SEQ(I, 2500) $W`,
    () => `router_id ${'z'.repeat(70_000)}`,
    () => `$B=\${_RANDOM 0 99999999999999999999}\n~SEQ(I, \${B}) x`,
  ];
  return choices[pick(rnd, choices.length)]!();
}

function binaryJunk(rnd: Rnd): Buffer {
  const b = Buffer.alloc(1 + pick(rnd, 4096));
  for (let i = 0; i < b.length; i++) b[i] = pick(rnd, 256);
  return b;
}

function mutateText(text: string, rnd: Rnd, targets: Record<string, string>): string | Buffer {
  const lines = text.split('\n');
  switch (pick(rnd, 11)) {
    case 0: {
      const at = [...text.matchAll(/[{}]/g)].map((m) => m.index ?? 0);
      if (at.length === 0) return text;
      const i = at[pick(rnd, at.length)]!;
      return text.slice(0, i) + text.slice(i + 1);
    }
    case 1: {
      const tokens = text.split(/(\s+)/);
      const words = tokens.map((w, i) => (/\S/.test(w) ? i : -1)).filter((i) => i >= 0);
      if (words.length < 2) return text;
      const a = words[pick(rnd, words.length)]!;
      const b = words[pick(rnd, words.length)]!;
      [tokens[a], tokens[b]] = [tokens[b]!, tokens[a]!];
      return tokens.join('');
    }
    case 2: {
      const i = pick(rnd, text.length + 1);
      let junk = '';
      for (let k = 0, n = 1 + pick(rnd, 12); k < n; k++) junk += String.fromCharCode(pick(rnd, 256));
      return text.slice(0, i) + junk + text.slice(i);
    }
    case 3:
      return text.slice(0, pick(rnd, text.length + 1));
    case 4: {
      const i = pick(rnd, lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 5:
      lines.splice(pick(rnd, lines.length), 1);
      return lines.join('\n');
    case 6: {
      const nums = [...text.matchAll(/\b[0-9]+\b/g)];
      if (nums.length === 0) return text;
      const m = nums[pick(rnd, nums.length)]!;
      const huge = ['99999999999999999999999999', '-1', '4294967296', '1e309', '0x7fffffff', '1000000'][pick(rnd, 6)]!;
      return text.slice(0, m.index) + huge + text.slice((m.index ?? 0) + m[0].length);
    }
    case 7: {
      // Binary junk spliced into the text.
      const i = pick(rnd, text.length + 1);
      return Buffer.concat([Buffer.from(text.slice(0, i)), binaryJunk(rnd), Buffer.from(text.slice(i))]);
    }
    case 8:
      return binaryJunk(rnd);
    default: {
      lines.splice(pick(rnd, lines.length + 1), 0, hostileLine(rnd, targets));
      return lines.join('\n');
    }
  }
}

interface CheckResult {
  code: number;
  stderr: string;
  ms: number;
}

async function configTest(file: string): Promise<CheckResult> {
  let err = '';
  const t0 = performance.now();
  const code = await main(['-t', '-f', file, '-i', 'lb1'], { out: { write: () => true }, err: { write: (t: string) => (err += t) } });
  return { code, stderr: err, ms: performance.now() - t0 };
}

const LOCATED = /^(\/[^:]+|[^:/][^:]*):\d+(:\d+)?: (error|warning): /;

function problemsOf(file: string, r: CheckResult): string[] {
  const problems: string[] = [];
  const lines = r.stderr.trimEnd().split('\n');
  const summary = lines.pop() ?? '';
  if (!summary.startsWith(`tslvsd: ${file}: configuration ${r.code === 0 ? 'valid' : 'invalid'}`)) problems.push(`summary: ${summary.slice(0, 200)}`);
  for (const l of lines) if (!LOCATED.test(l)) problems.push(`unlocated: ${l.slice(0, 200)}`);
  if (r.code === 1 && !lines.some((l) => /^[^:]+:\d+(:\d+)?: error: /.test(l))) problems.push('rejected without a located error');
  if (r.code !== 0 && r.code !== 1) problems.push(`exit ${r.code}`);
  if (r.ms > HANG_MS) problems.push(`took ${r.ms.toFixed(0)} ms`);
  return problems;
}

function corpusBases(): string[] {
  const bases = [BASE];
  for (const sub of ['keepalived-samples', 'keepalived-devel-configs']) {
    const d = path.join(corpus, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      // Small and cheap ones: a mutant of 1173.conf (273,300 lines, 2.5 s) costs 1,000x a small one and
      // finds nothing more; corpus.test.ts compiles those whole.
      if (!statSync(p).isFile() || statSync(p).size >= 8_000) continue;
      // A probe with a small line budget picks them, deterministically (a timing would vary with the load).
      const probe = loadConfigFile(p, { configId: 'lb1', limits: { ...DEFAULT_COMPILE_LIMITS, maxLines: 2_000 } });
      if (probe.diagnostics.some((d) => /more than (the )?2000\b/.test(d.message))) continue;
      bases.push(readFileSync(p, 'latin1'));
    }
  }
  return bases;
}

let targets: Record<string, string> = {};
let bases: string[] = [];
const samples: { file: string; result: CheckResult }[] = [];

beforeAll(() => {
  targets = prepareTargets();
  bases = corpusBases();
});

describe('fuzz campaign: 10,000 mutants through tslvsd -t (in-process)', () => {
  it(`seed ${SEED}: no crash, no hang past the budget, every rejection located`, async () => {
    const rnd = prng(SEED);
    const problems: string[] = [];
    const counts = { valid: 0, invalid: 0, hostile: 0 };
    let slowest = { ms: 0, what: '' };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let k = 0; k < MUTANTS; k++) {
      const base = bases[pick(rnd, bases.length)]!;
      let content: string | Buffer = base;
      for (let m = 0, n = 1 + pick(rnd, 3); m < n && typeof content === 'string'; m++) content = mutateText(content, rnd, targets);
      const file = path.join(work, `m${k % 16}.conf`);
      writeFileSync(file, content);
      let r: CheckResult;
      try {
        r = await configTest(file);
      } catch (e) {
        problems.push(`mutant ${k} threw: ${e instanceof Error ? e.stack : String(e)}`);
        continue;
      }
      if (r.code === 0) counts.valid++;
      else counts.invalid++;
      if (/more than|larger than|not a regular|binary|include loop|nested deeper/.test(r.stderr)) counts.hostile++;
      if (r.ms > slowest.ms) slowest = { ms: r.ms, what: `mutant ${k} (${r.stderr.split('\n')[0]!.slice(0, 160)})` };
      // FUZZ_KEEP_SLOW=DIR keeps the mutants slower than 500 ms, to look at.
      if (process.env.FUZZ_KEEP_SLOW && r.ms > 500) writeFileSync(`${process.env.FUZZ_KEEP_SLOW}/slow${k}.conf`, content);
      for (const p of problemsOf(file, r)) problems.push(`mutant ${k}: ${p}`);
      // Samples for the bin: spread over the campaign, none with ${_RANDOM} (its values differ per process).
      if (k >= samples.length * Math.floor(MUTANTS / BIN_SAMPLES) && samples.length < BIN_SAMPLES && !content.includes('_RANDOM')) {
        const keep = path.join(work, `sample${samples.length}.conf`);
        writeFileSync(keep, content);
        samples.push({ file: keep, result: await configTest(keep) });
      }
    }
    const cpu = process.cpuUsage(cpu0);
    console.log(`[fuzz 17] ${MUTANTS} mutants of ${bases.length} bases in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
      `(CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s): ${counts.valid} valid, ${counts.invalid} rejected ` +
      `(${counts.hostile} by a budget or a file check); slowest ${slowest.what} ${slowest.ms.toFixed(0)} ms; ${problems.length} problems`);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(counts.hostile).toBeGreaterThan(MUTANTS / 20);
    expect(counts.valid).toBeGreaterThan(MUTANTS / 20);
  }, 300_000);
});

describe('the same mutants through the real bin/tslvsd.js', () => {
  // Runs after the campaign above, which keeps the samples (a filtered run that skips it skips this too).
  beforeAll(() => {
    const built = path.join(root, 'dist/cli.js');
    const newest = (dir: string): number => Math.max(...readdirSync(dir, { withFileTypes: true })
      .map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
    if (!existsSync(built) || statSync(built).mtimeMs < Math.max(newest(path.join(root, 'src/config')), statSync(path.join(root, 'src/cli.ts')).mtimeMs)) {
      spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'ignore' });
    }
  }, 180_000);

  it(`${BIN_SAMPLES} samples: same exit code and output as in-process`, async (ctx) => {
    if (samples.length === 0) ctx.skip();
    expect(samples.length).toBe(BIN_SAMPLES);
    const run = (file: string): Promise<{ code: number | null; stderr: string }> => new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(root, 'bin/tslvsd.js'), '-t', '-f', file, '-i', 'lb1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (c: string) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
    for (let i = 0; i < samples.length; i += 4) {
      const batch = samples.slice(i, i + 4);
      const results = await Promise.all(batch.map((s) => run(s.file)));
      batch.forEach((s, k) => {
        expect(results[k]!.code, s.file).toBe(s.result.code);
        expect(results[k]!.stderr, s.file).toBe(s.result.stderr);
      });
    }
  }, 180_000);
});
