#!/usr/bin/env node
// The README's test command (`npm test`). Runs every test tier this machine can run, says loudly which
// tiers it could not run and why, and ends with the plain line `N passed, N failed[, N skipped]`.
//
//   node scripts/run-tests.mjs                 all tiers available here (unit, then ns as root, then vm)
//   node scripts/run-tests.mjs --tier unit     only the named tier(s); repeatable
//
// Tiers: unit (no privileges), ns (root: network namespaces, real keepalived, real servers),
// vm (root: a qemu VM booted from Debian's stock kernel, for IPVS; see scripts/vm/).
// TSLVSD_TEST_SUMMARY=FILE also writes the totals as JSON (used by .ci/run to add up Node versions).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const wanted = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--tier') wanted.push(args[++i]);
const tiers = wanted.length ? wanted : ['unit', 'ns', 'vm'];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const has = (cmd) => spawnSync('sh', ['-c', 'command -v "$0"', cmd]).status === 0;

function whyNot(tier) {
  if (tier === 'unit') return null;
  if (!isRoot) return 'needs root';
  if (tier === 'ns' && !has('ip')) return 'needs iproute2 (`ip`)';
  if (tier === 'vm') {
    if (!existsSync(join(root, 'scripts/vm/run.sh'))) return 'no VM harness (scripts/vm/run.sh)';
    if (!has('qemu-system-x86_64')) return 'needs qemu-system-x86 (run scripts/vm/prepare.sh)';
    const ready = spawnSync('bash', [join(root, 'scripts/vm/prepare.sh'), '--check'], { stdio: 'ignore' });
    if (ready.status !== 0) return 'VM kernel not prepared (run scripts/vm/prepare.sh)';
  }
  return null;
}

/** scripts/vm/selftest.sh prints TAP lines; each is counted as one test of the vm tier. */
function vmHarnessSelfTest() {
  console.log('### vm harness self-test (scripts/vm/selftest.sh)');
  const r = spawnSync('bash', [join(root, 'scripts/vm/selftest.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout ?? '');
  const passed = (r.stdout?.match(/^ok /gm) ?? []).length;
  let failed = (r.stdout?.match(/^not ok /gm) ?? []).length;
  if (r.status !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

const work = mkdtempSync(join(tmpdir(), 'tslvsd-tests-'));
const totals = { passed: 0, failed: 0, skipped: 0, tiers: {} };

for (const tier of tiers) {
  const reason = whyNot(tier);
  if (reason) {
    console.log(`\n### tier ${tier}: NOT RUN (${reason})`);
    totals.tiers[tier] = { notRun: reason };
    continue;
  }
  console.log(`\n### tier ${tier}`);
  // The vm tier first checks the harness itself from the host (argv, exit code, timeout, Ctrl-C, leftovers).
  const harness = tier === 'vm' ? vmHarnessSelfTest() : { passed: 0, failed: 0 };
  // The VM writes its report into the project directory (the only read-write share), so keep it there.
  const out = tier === 'vm' ? join(root, `.vm-report-${process.pid}.json`) : join(work, `${tier}.json`);
  const vitest = ['node_modules/vitest/vitest.mjs', 'run', '--project', tier, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile=${out}`];
  const cmd = tier === 'vm'
    ? ['bash', [join(root, 'scripts/vm/run.sh'), 'node', ...vitest]]
    : [process.execPath, vitest];
  // The vm tier's harness test checks that this value arrives in the guest unchanged (quoting, newline).
  const env = tier === 'vm' ? { ...process.env, TSLVSD_VM_ENV_PROBE: `it's "quoted" $HOME \\ \n end` } : process.env;
  const r = spawnSync(cmd[0], cmd[1], { cwd: root, stdio: 'inherit', env });
  let result = { passed: 0, failed: 0, skipped: 0 };
  try {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    result = { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + (j.numTodoTests ?? 0) };
    // A file that failed without a failed test (it did not load, or a beforeAll/afterAll hook threw and its
    // tests were skipped) is still a failure: count it once, so a broken suite can never pass as "skipped".
    const brokenFiles = (j.testResults ?? []).filter(
      (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
    );
    for (const f of brokenFiles) console.log(`### tier ${tier}: ${f.name} failed outside its tests: ${String(f.message ?? '').split('\n')[0]}`);
    result.failed += brokenFiles.length;
  } catch {
    result.failed = 1;
    console.log(`### tier ${tier}: no report (exit ${r.status}); counted as one failure`);
  }
  if (r.status !== 0 && result.failed === 0) {
    result.failed = 1;
    console.log(`### tier ${tier}: runner exited ${r.status} with no failed test; counted as one failure`);
  }
  rmSync(out, { force: true });
  result.passed += harness.passed;
  result.failed += harness.failed;
  console.log(`### tier ${tier}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  totals.tiers[tier] = result;
  totals.passed += result.passed;
  totals.failed += result.failed;
  totals.skipped += result.skipped;
}
rmSync(work, { recursive: true, force: true });
if (process.env.TSLVSD_TEST_SUMMARY) writeFileSync(process.env.TSLVSD_TEST_SUMMARY, JSON.stringify(totals));
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 ? 1 : 0;
