#!/usr/bin/env node
// `npm run demo [-- --director tslvsd|keepalived] [-- --mode dr|nat|tun]` (as root): the LVS tutorial lab with
// a primary/backup director pair, narrated (lab/demo.ts). First installs what it lacks (the Debian packages
// of the `demo` purpose in scripts/setup/packages.txt, naming each), then runs the lab directly when this
// kernel has IPVS, otherwise inside the project's VM (scripts/vm/run.sh, prepared on first use).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const demo = [process.execPath, '--import', 'tsx', join(root, 'lab', 'demo.ts'), ...args];
const started = Date.now();

/** @param {string} msg @returns {never} */
function fail(msg) {
  process.stderr.write(`npm run demo: ${msg}\n`);
  process.exit(1);
}
/** @param {string[]} argv @param {import('node:child_process').SpawnSyncOptions} [opts] */
const run = (argv, opts = {}) => spawnSync(argv[0] ?? '', argv.slice(1), { cwd: root, stdio: 'inherit', ...opts });

if (typeof process.getuid === 'function' && process.getuid() !== 0) fail('needs root (it builds network namespaces and installs what is missing): sudo npm run demo');
if (!existsSync(join(root, 'node_modules', 'tsx'))) fail('dependencies are missing: run npm ci first');

// The tslvsd director runs esbuild's bundle (lab/directors/tslvsd.ts, TSLVSD_LAB_ENTRY): under the VM's
// emulation a daemon loading ~150 dist/ modules and node_modules is most of the demo's time. Built here on
// the host (about 2 s), where it is missing or older than what it is built from.
/** @param {string} dir @returns {number} */
function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
const directorArg = args.find((a, i) => a.startsWith('--director=') || args[i - 1] === '--director');
const director = directorArg?.replace(/^--director=/, '') ?? 'tslvsd';
if (director === 'tslvsd') {
  const bundle = join(root, 'dist-bundle', 'tslvsd.mjs');
  const sources = Math.max(newestMtime(join(root, 'src')), ...['bin/tslvsd.js', 'scripts/bundle.mjs', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    process.stdout.write('Bundling tslvsd for the directors (scripts/bundle.mjs)\n');
    if (run([process.execPath, join(root, 'scripts', 'bundle.mjs')]).status !== 0) fail('the bundle could not be built (see above)');
  }
  process.env.TSLVSD_LAB_ENTRY = 'bundle';
}

const hostHasIpvs = existsSync('/proc/net/ip_vs');
const ensure = run(['bash', join(root, 'scripts/setup/ensure-packages.sh'), 'demo']);
if (ensure.status !== 0) fail('the Debian packages it needs could not be installed (see above)');

let r;
if (hostHasIpvs) {
  r = run(demo);
} else {
  const prepare = join(root, 'scripts', 'vm', 'prepare.sh');
  if (run(['bash', prepare, '--check'], { stdio: 'ignore' }).status !== 0) {
    process.stdout.write('This kernel has no IPVS: preparing the VM once (qemu and Debian\'s stock kernel; scripts/vm/prepare.sh)\n');
    if (run(['bash', prepare]).status !== 0) fail('this kernel has no IPVS and the VM could not be prepared (see above)');
  }
  process.stdout.write('This kernel has no IPVS: running the lab in a VM (Debian\'s stock kernel under qemu; booting takes a few seconds)\n');
  r = run(['bash', join(root, 'scripts', 'vm', 'run.sh'), ...demo]);
}
process.stdout.write(`npm run demo: ${r.status === 0 ? 'done' : `failed (exit ${r.status})`} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.exit(r.status ?? 1);
