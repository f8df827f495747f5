#!/usr/bin/env node
// `npm run demo [-- --director tslvsd|keepalived] [-- --mode dr|nat|tun]` (as root): the LVS tutorial lab with
// a primary/backup director pair, narrated (lab/demo.ts). Runs it directly when this kernel has IPVS,
// otherwise inside the project's VM (scripts/vm/run.sh), and says plainly what is missing if it cannot.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const demo = [process.execPath, '--import', 'tsx', join(root, 'lab', 'demo.ts'), ...args];

/** @param {string} msg @returns {never} */
function fail(msg) {
  process.stderr.write(`npm run demo: ${msg}\n`);
  process.exit(1);
}
const has = (/** @type {string} */ cmd) => spawnSync('which', [cmd], { stdio: 'ignore' }).status === 0;

if (typeof process.getuid === 'function' && process.getuid() !== 0) fail('needs root (it builds network namespaces): sudo npm run demo');
if (!existsSync(join(root, 'node_modules', 'tsx'))) fail('dependencies are missing: run npm ci');

let r;
if (existsSync('/proc/net/ip_vs')) {
  r = spawnSync(demo[0], demo.slice(1), { cwd: root, stdio: 'inherit' });
} else {
  const runSh = join(root, 'scripts', 'vm', 'run.sh');
  if (!has('qemu-system-x86_64')) fail('this kernel has no IPVS and qemu is missing: run `bash scripts/vm/prepare.sh` (it installs qemu and fetches a kernel with IPVS)');
  if (!existsSync(runSh)) fail('this kernel has no IPVS and the VM harness (scripts/vm/run.sh) is missing');
  if (spawnSync('bash', [join(root, 'scripts', 'vm', 'prepare.sh'), '--check'], { stdio: 'ignore' }).status !== 0) {
    fail('this kernel has no IPVS and the VM is not prepared: run `bash scripts/vm/prepare.sh` once');
  }
  process.stdout.write('This kernel has no IPVS: running the lab in a VM (Debian\'s stock kernel under qemu; booting takes a few seconds)\n');
  r = spawnSync('bash', [runSh, ...demo], { cwd: root, stdio: 'inherit' });
}
process.exit(r.status ?? 1);
