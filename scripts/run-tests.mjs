#!/usr/bin/env node
// The README's test command (`npm test`). Installs what the tiers need (as root), runs every tier, and ends
// with the plain line `N passed, N failed[, N skipped]`. A tier that cannot run is a failure, never a skip,
// unless the caller opts out of it by name.
//
//   node scripts/run-tests.mjs                       every tier: static, unit, ns, vm
//   node scripts/run-tests.mjs --tier unit           only the named tier(s); repeatable, or comma-separated
//   node scripts/run-tests.mjs --skip-tier vm        every tier but the named one(s)
//   node scripts/run-tests.mjs test/vm/harness.test.ts test/ns/vrrpGarp.test.ts
//                                                    only these files (the tiers they belong to)
// Environment: TSLVSD_TEST_TIERS / TSLVSD_TEST_SKIP_TIERS (as --tier / --skip-tier, comma-separated);
// TSLVSD_VM_FILE_TIMEOUT seconds per VM test file (default 1200; a file may say `// tslvsd-vm-timeout: N`);
// TSLVSD_VM_PARALLEL VM files at a time (default 2, 1 on a one-core host; longest first, by each file's
// `// tslvsd-vm-expected: SECONDS`);
// TSLVSD_TEST_SUMMARY=FILE also writes the totals as JSON (.ci/run adds up two Node versions with it).
//
// Tiers: static (the package's `lint` and `typecheck` scripts, one test each), unit (no privileges), ns
// (root: network namespaces, real keepalived, real servers), vm (root: Debian's stock kernel under qemu,
// for IPVS; one VM boot per test file, each with its own timeout, so a hung file costs only itself).
// The Debian packages each tier needs are in scripts/setup/packages.txt (installed by ensure-packages.sh).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL_TIERS = ['static', 'unit', 'ns', 'vm'];
/** The purpose in scripts/setup/packages.txt whose packages each tier needs. */
const PURPOSE = { static: 'static', unit: 'unit', ns: 'ns', vm: 'vm' };
const ROOT_TIERS = new Set(['ns', 'vm']);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function usage(message) {
  process.stderr.write(`run-tests: ${message}\n`);
  process.exit(2);
}

// ---- what to run -------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const only = [];
const skip = [];
const files = [];
const names = (text) => text.split(/[\s,]+/).filter(Boolean);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--tier' || a === '--skip-tier') {
    if (args[i + 1] === undefined) usage(`${a} needs a tier name (${ALL_TIERS.join(', ')})`);
    (a === '--tier' ? only : skip).push(...names(args[++i]));
  } else if (a.startsWith('--')) usage(`unknown option ${a} (--tier NAME, --skip-tier NAME, or test files)`);
  else files.push(relative(root, resolve(a)));
}
only.push(...names(process.env.TSLVSD_TEST_TIERS ?? ''));
skip.push(...names(process.env.TSLVSD_TEST_SKIP_TIERS ?? ''));
for (const t of [...only, ...skip]) if (!ALL_TIERS.includes(t)) usage(`unknown tier '${t}' (tiers: ${ALL_TIERS.join(', ')})`);
const tierOfFile = (f) => (f.startsWith('test/ns/') ? 'ns' : f.startsWith('test/vm/') ? 'vm' : 'unit');
for (const f of files) if (!existsSync(join(root, f))) usage(`no such test file: ${f}`);
const selected = only.length ? [...new Set(only)] : files.length ? [...new Set(files.map(tierOfFile))] : ALL_TIERS;
const tiers = ALL_TIERS.filter((t) => selected.includes(t) && !skip.includes(t));
const optedOut = ALL_TIERS.filter((t) => !tiers.includes(t));
const filesOf = (tier) => files.filter((f) => tierOfFile(f) === tier);

// ---- running a child ---------------------------------------------------------------------------------
/**
 * Runs argv in its own process group, echoing its output (unless quiet) and keeping the last lines; after
 * timeoutS seconds the whole group gets SIGTERM, 15 s later SIGKILL. Resolves { code, signal, timedOut, tail, output }.
 */
const liveGroups = new Set();
// Children run in their own process groups (so a timeout reaches qemu and everything under it): pass a
// Ctrl-C or SIGTERM on to them, then stop.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const pid of liveGroups) try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
    console.log(`\nrun-tests: ${signal}: stopped`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}
function runChild(argv, { env = process.env, timeoutS, quiet = false, keepAll = false } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid) liveGroups.add(child.pid);
    let tail = '';
    let output = '';
    const take = (stream, sink) =>
      child[stream].on('data', (chunk) => {
        if (!quiet) sink.write(chunk);
        const text = chunk.toString('utf8');
        if (keepAll) output += text;
        tail = (tail + text).slice(-6000);
      });
    take('stdout', process.stdout);
    take('stderr', process.stderr);
    let timedOut = false;
    let killer;
    const timer = timeoutS
      ? setTimeout(() => {
          timedOut = true;
          try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
          killer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 15_000);
        }, timeoutS * 1000)
      : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      resolvePromise({ code: 127, signal: null, timedOut, tail: `${tail}\n${err.message}`, output });
    });
    child.on('close', (code, signal) => {
      liveGroups.delete(child.pid);
      clearTimeout(timer);
      clearTimeout(killer);
      resolvePromise({ code, signal, timedOut, tail, output });
    });
  });
}
const lastLines = (text, n) => text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '').trimEnd().split('\n').slice(-n).join('\n');

// ---- results -------------------------------------------------------------------------------------------
/** One tier's counts and the failures' messages, which the closing summary repeats whatever happened. */
const newResult = () => ({ passed: 0, failed: 0, skipped: 0, failures: [] });
function fail(result, where, message) {
  result.failed += 1;
  result.failures.push({ where, message });
}

/** Adds a vitest JSON report to result: failed tests with their messages, and files that broke outside any test. */
function addVitestReport(result, reportPath, run, what) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch {
    const why = run.timedOut ? `killed after its timeout` : `exit ${run.code ?? run.signal}`;
    fail(result, what, `no test report (${why}); its last output:\n${lastLines(run.tail, 25)}`);
    return;
  } finally {
    rmSync(reportPath, { force: true });
  }
  result.passed += report.numPassedTests;
  result.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  let failedHere = 0;
  for (const file of report.testResults ?? []) {
    const name = relative(root, file.name);
    const failedTests = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failedTests) {
      failedHere += 1;
      fail(result, `${name} > ${a.fullName}`, (a.failureMessages ?? []).join('\n'));
    }
    // A file that failed without a failed test (it did not load, or a beforeAll/afterAll hook threw and its
    // tests were skipped) is still a failure: count it once, so a broken suite can never pass as "skipped".
    if (file.status === 'failed' && failedTests.length === 0) {
      failedHere += 1;
      fail(result, `${name} (outside its tests)`, String(file.message ?? 'failed'));
    }
  }
  if (run.code !== 0 && failedHere === 0) fail(result, what, `exited ${run.code ?? run.signal} with no failed test:\n${lastLines(run.tail, 25)}`);
}

// ---- set-up --------------------------------------------------------------------------------------------
const ensureScript = join(root, 'scripts/setup/ensure-packages.sh');
/** Installs the tier's Debian packages if missing (root); resolves null when ready, else the reason. */
async function setUp(tier) {
  if (ROOT_TIERS.has(tier) && !isRoot) {
    return `needs root (network namespaces${tier === 'vm' ? ', qemu' : ''}): run as root, or opt out with --skip-tier ${tier} (or TSLVSD_TEST_TIERS=${ALL_TIERS.filter((t) => !ROOT_TIERS.has(t)).join(',')})`;
  }
  const ensure = await runChild(['bash', ensureScript, PURPOSE[tier]]);
  if (ensure.code !== 0) return `its Debian packages are not installed: ${lastLines(ensure.tail, 1)}`;
  if (tier === 'vm') {
    const prepare = join(root, 'scripts/vm/prepare.sh');
    const ready = await runChild(['bash', prepare, '--check'], { quiet: true });
    if (ready.code !== 0) {
      console.log(`setup: preparing the VM (scripts/vm/prepare.sh: ${lastLines(ready.tail, 1)})`);
      const prepared = await runChild(['bash', prepare]);
      if (prepared.code !== 0) return `the VM could not be prepared (scripts/vm/prepare.sh exit ${prepared.code}): ${lastLines(prepared.tail, 1)}`;
    }
  }
  return null;
}

// ---- the tiers -----------------------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'tslvsd-tests-'));
const vitest = (project, out, extra) => [
  'node_modules/vitest/vitest.mjs', 'run', '--project', project, '--passWithNoTests',
  '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...extra,
];

/** static: each of the package's `lint` and `typecheck` scripts that exists is one test. */
async function runStatic(result) {
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  const present = ['lint', 'typecheck'].filter((s) => typeof scripts[s] === 'string');
  if (present.length === 0) console.log('static: package.json has neither a lint nor a typecheck script');
  for (const script of present) {
    const started = Date.now();
    const r = await runChild(['npm', 'run', '--silent', script], { quiet: true, keepAll: true });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (r.code === 0) {
      result.passed += 1;
      console.log(`ok static: npm run ${script} (${seconds} s)`);
    } else {
      console.log(`FAIL static: npm run ${script} (exit ${r.code}, ${seconds} s):\n${r.output.trimEnd()}`);
      fail(result, `npm run ${script}`, lastLines(r.output, 60));
    }
  }
}

/** unit and ns: one vitest run of the project (ns runs its files one at a time: see vitest.config.ts). */
async function runVitestTier(tier, result) {
  const out = join(work, `${tier}.json`);
  const run = await runChild([process.execPath, ...vitest(tier, out, filesOf(tier))]);
  addVitestReport(result, out, run, `tier ${tier}`);
}

/** Every VM test file, found anew each run (new files join by themselves), in a stable order. */
function vmTestFiles() {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) found.push(p);
    }
  };
  walk('test/vm');
  return found.sort();
}

/** How long a file usually takes (`// tslvsd-vm-expected: SECONDS` in its first lines; 60 unsaid): the lanes' order. */
function vmFileExpected(file) {
  const head = readFileSync(join(root, file), 'utf8').slice(0, 4000);
  return Number(/\/\/\s*tslvsd-vm-expected:\s*(\d+)/.exec(head)?.[1] ?? 60);
}

/** A file's own timeout (`// tslvsd-vm-timeout: SECONDS` in its first lines), else the default. */
function vmFileTimeout(file) {
  const head = readFileSync(join(root, file), 'utf8').slice(0, 4000);
  const own = /\/\/\s*tslvsd-vm-timeout:\s*(\d+)/.exec(head);
  return Number(own?.[1] ?? process.env.TSLVSD_VM_FILE_TIMEOUT ?? 1200);
}

/** vm: the harness's self-test from the host, then one VM boot per test file, each with its own timeout. */
async function runVmTier(result) {
  console.log('### vm harness self-test (scripts/vm/selftest.sh)');
  const self = await runChild(['bash', join(root, 'scripts/vm/selftest.sh')], { timeoutS: 900, keepAll: true });
  result.passed += (self.output.match(/^ok /gm) ?? []).length;
  for (const line of self.output.match(/^not ok .*/gm) ?? []) fail(result, 'scripts/vm/selftest.sh', line);
  if (self.code !== 0 && !/^not ok /m.test(self.output)) {
    fail(result, 'scripts/vm/selftest.sh', `exit ${self.code ?? self.signal}${self.timedOut ? ' (killed after 900 s)' : ''}:\n${lastLines(self.tail, 20)}`);
  }

  const chosen = filesOf('vm');
  const list = chosen.length ? chosen : vmTestFiles();
  // Each VM is one TCG thread (-smp 1): on a host with two cores, two VMs at a time use the machine that one
  // left half idle, and cut the tier from ~55 to ~20 minutes of CI. The longest files start first (their
  // `tslvsd-vm-expected` line is the hint), so the two lanes end together. Output is printed whole, per file, when it ends.
  const lanes = Math.max(1, Number(process.env.TSLVSD_VM_PARALLEL ?? Math.min(2, Math.max(1, availableParallelism()))));
  const queue = list.map((file, i) => ({ file, i, timeoutS: vmFileTimeout(file), expected: vmFileExpected(file) })).sort((a, b) => b.expected - a.expected || a.i - b.i);
  console.log(`### vm: ${list.length} files, ${lanes} at a time`);
  const runOne = async ({ file, i, timeoutS }) => {
    const started = Date.now();
    // The VM writes the report into the checkout (its only read-write share with the host).
    const out = join(root, `.vm-report-${process.pid}-${i}.json`);
    const env = {
      ...process.env,
      TSLVSD_VM_TIMEOUT: String(timeoutS),
      // The harness test checks that this value arrives in the guest unchanged (quoting, newline).
      TSLVSD_VM_ENV_PROBE: `it's "quoted" $HOME \\ \n end`,
    };
    // run.sh kills its VM at timeoutS (exit 124); the host's own watchdog, a minute later, covers run.sh itself.
    const run = await runChild(['bash', join(root, 'scripts/vm/run.sh'), 'node', ...vitest('vm', out, [file])], { env, timeoutS: timeoutS + 60, quiet: lanes > 1, keepAll: lanes > 1 });
    if (lanes > 1) console.log(`\n### vm ${i + 1}/${list.length}: ${file} (own VM, timeout ${timeoutS} s)\n${run.output}`);
    // This file's counts apart, then added: the other lane adds its own meanwhile.
    const mine = newResult();
    if (run.code === 124 || run.timedOut) {
      rmSync(out, { force: true });
      fail(mine, file, `the VM did not finish within ${timeoutS} s and was killed (a hung test, or a machine too busy); its last output:\n${lastLines(run.tail, 25)}`);
    } else if (run.code === 125) {
      rmSync(out, { force: true });
      fail(mine, file, `the VM failed before the tests ran:\n${lastLines(run.tail, 25)}`);
    } else {
      addVitestReport(mine, out, run, file);
    }
    result.passed += mine.passed;
    result.failed += mine.failed;
    result.skipped += mine.skipped;
    result.failures.push(...mine.failures);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`### vm ${file}: ${mine.failed === 0 ? 'passed' : `${mine.failed} failed`} (${seconds} s)`);
  };
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (lanes === 1) console.log(`\n### vm ${next.i + 1}/${list.length}: ${next.file} (own VM, timeout ${next.timeoutS} s)`);
      await runOne(next);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

// ---- main ----------------------------------------------------------------------------------------------
console.log(`### tiers: ${tiers.join(' ') || '(none)'}${optedOut.length ? `; not run, by request: ${optedOut.join(' ')}` : ''}`);
const totals = { passed: 0, failed: 0, skipped: 0, tiers: {} };
const results = {};
for (const tier of tiers) {
  console.log(`\n### tier ${tier}`);
  const result = newResult();
  const started = Date.now();
  const reason = await setUp(tier);
  if (reason) {
    console.log(`### tier ${tier}: CANNOT RUN: ${reason}`);
    fail(result, `tier ${tier}`, `cannot run: ${reason}`);
  } else if (tier === 'static') await runStatic(result);
  else if (tier === 'vm') await runVmTier(result);
  else await runVitestTier(tier, result);
  result.seconds = Math.round((Date.now() - started) / 1000);
  console.log(`### tier ${tier}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped (${result.seconds} s)`);
  results[tier] = result;
  totals.tiers[tier] = { passed: result.passed, failed: result.failed, skipped: result.skipped, seconds: result.seconds };
  totals.passed += result.passed;
  totals.failed += result.failed;
  totals.skipped += result.skipped;
}
rmSync(work, { recursive: true, force: true });

// The summary: every failure with its message, whatever tier or file it came from, then the counts.
const failures = Object.entries(results).flatMap(([tier, r]) => r.failures.map((f) => ({ tier, ...f })));
if (failures.length) {
  console.log(`\n### ${failures.length} failure(s)`);
  for (const f of failures) {
    const message = lastLines(String(f.message), 1e9).split('\n').slice(0, 20).join('\n    ');
    console.log(`- [${f.tier}] ${f.where}\n    ${message}`);
  }
}
console.log('\n### summary');
for (const [tier, r] of Object.entries(totals.tiers)) console.log(`  ${tier.padEnd(6)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.seconds} s)`);
for (const tier of optedOut) console.log(`  ${tier.padEnd(6)} not run (opted out)`);
// The failures go into the summary too, by name and first line, so that .ci/run can repeat them beside its
// last line: a CI log is often read only from its tail.
const failed = failures.map((f) => `[${f.tier}] ${f.where}: ${String(f.message).split('\n').find((l) => l.trim()) ?? ''}`.slice(0, 300));
if (process.env.TSLVSD_TEST_SUMMARY) writeFileSync(process.env.TSLVSD_TEST_SUMMARY, JSON.stringify({ ...totals, failedTests: failed }));
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 || tiers.length === 0 ? 1 : 0;
