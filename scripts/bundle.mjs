#!/usr/bin/env node
// `npm run bundle`: the daemon and CLI as ES modules in one flat directory (dist-bundle/ by default), the
// layout src/util/packageLayout.ts knows by the `.mjs` extension:
//
//   tslvsd.mjs                  bin/tslvsd.js with src/ compiled in (the CLI; the daemon is a dynamic import)
//   checkerWorker.mjs           the health-check worker thread      (src/healthcheck/worker/checkerWorker.ts)
//   compileChild.mjs            SIGHUP's compile child process       (src/daemon/reload/compileChild.ts)
//   icmpHelper.mjs              PING_CHECK's helper process          (src/healthcheck/checkers/icmpHelper.ts)
//   chunk-HASH.mjs              code shared by those (esbuild's code splitting)
//   tslvsd_native.node, tslvsd_tcp_prober.node   the project's addons (N-API 8: any Node >= 20)
//   netlink.node                netlink's prebuilt addon (N-API)
//   raw-socket.abiN.node        @neuralegion/raw-socket per Node ABI (not N-API: 115 = Node 20, 127 = 22, ...)
//   package.json                name and version (tslvsd --version reads it)
//   bundled-packages.json       the npm packages compiled in, with version and licence (for the copyright file)
//
//   node scripts/bundle.mjs [--outdir DIR] [--no-splitting]
//
// The two dependencies that load their addon through node-gyp-build(__dirname) are patched at bundle time to
// require the file beside the bundle instead (there is no __dirname, and no node_modules, in the bundle).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(import.meta.url);

const args = process.argv.slice(2);
const outdirIndex = args.indexOf('--outdir');
const OUTDIR = path.resolve(outdirIndex >= 0 ? (args[outdirIndex + 1] ?? '') : path.join(ROOT, 'dist-bundle'));
const splitting = !args.includes('--no-splitting');

/** Source text patches: [package file, text that must be there, replacement]. */
const ADDON_PATCHES = [
  ['node_modules/netlink/dist/raw.js', "require('node-gyp-build')(__dirname + '/..')", "require('./netlink.node')"],
  [
    'node_modules/@neuralegion/raw-socket/index.js',
    "require('node-gyp-build')(__dirname)",
    "require(['./raw-socket.abi', process.versions.modules, '.node'].join(''))",
  ],
];

/** @type {import('esbuild').Plugin} */
const layoutPlugin = {
  name: 'tslvsd-layout',
  setup(b) {
    // bin/tslvsd.js imports the tsc output; the bundle compiles the sources instead.
    b.onResolve({ filter: /\/dist\/cli\.js$/ }, () => ({ path: path.join(ROOT, 'src', 'cli.ts') }));
    for (const [file, from, to] of ADDON_PATCHES) {
      const absolute = path.join(ROOT, file);
      b.onLoad({ filter: new RegExp(`${absolute.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) }, () => {
        const text = readFileSync(absolute, 'utf8');
        if (!text.includes(from)) throw new Error(`${file}: "${from}" not found (dependency changed? update scripts/bundle.mjs)`);
        return { contents: text.replace(from, to), loader: 'js' };
      });
    }
  },
};

rmSync(OUTDIR, { recursive: true, force: true });
mkdirSync(OUTDIR, { recursive: true });
const started = performance.now();
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    tslvsd: 'bin/tslvsd.js',
    checkerWorker: 'src/healthcheck/worker/checkerWorker.ts',
    compileChild: 'src/daemon/reload/compileChild.ts',
    icmpHelper: 'src/healthcheck/checkers/icmpHelper.ts',
  },
  outdir: OUTDIR,
  bundle: true,
  splitting,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  // The addons are required at run time by path, beside the bundle.
  external: ['*.node'],
  // CommonJS dependencies (pino, prom-client, netlink) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __tslvsdCreateRequire } from 'node:module';\nconst require = __tslvsdCreateRequire(import.meta.url);" },
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [layoutPlugin],
});

// The addons.
/** @param {string} from @param {string} name */
const copy = (from, name) => copyFileSync(from, path.join(OUTDIR, name));
copy(path.join(ROOT, 'build', 'Release', 'tslvsd_native.node'), 'tslvsd_native.node');
copy(path.join(ROOT, 'build', 'Release', 'tslvsd_tcp_prober.node'), 'tslvsd_tcp_prober.node');
/** @type {{ path(dir: string): string }} */
const nodeGypBuild = requireHere('node-gyp-build');
copy(nodeGypBuild.path(path.join(ROOT, 'node_modules', 'netlink')), 'netlink.node');
const rawSocketDir = path.join(ROOT, 'node_modules', '@neuralegion', 'raw-socket');
const rawSocketAbis = new Set();
const prebuilds = path.join(rawSocketDir, 'prebuilds', `linux-${process.arch}`);
for (const name of readdirSync(prebuilds)) {
  const abi = /\.abi(\d+)\.glibc\.node$/.exec(name)?.[1];
  // Node 20 and later only (ABI 115+), as the package's Depends says.
  if (abi !== undefined && Number(abi) >= 115) {
    copy(path.join(prebuilds, name), `raw-socket.abi${abi}.node`);
    rawSocketAbis.add(Number(abi));
  }
}
// This Node's own (compiled at `npm ci` where no prebuild matched, e.g. Node 24).
copy(nodeGypBuild.path(rawSocketDir), `raw-socket.abi${process.versions.modules}.node`);
rawSocketAbis.add(Number(process.versions.modules));

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
writeFileSync(path.join(OUTDIR, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`);

// Which npm packages went in (for the copyright file): every node_modules input of the metafile.
const bundled = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!match || bundled.has(match[1])) continue;
  const meta = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', match[1], 'package.json'), 'utf8'));
  bundled.set(match[1], { version: meta.version, license: meta.license ?? 'see package' });
}
for (const addon of ['netlink', '@neuralegion/raw-socket']) {
  if (!bundled.has(addon)) throw new Error(`${addon} is not in the bundle: the addon patches did not apply`);
}
const packages = [...bundled].sort(([a], [b]) => a.localeCompare(b)).map(([name, info]) => ({ name, ...info }));
writeFileSync(path.join(OUTDIR, 'bundled-packages.json'), `${JSON.stringify(packages, null, 2)}\n`);

const files = readdirSync(OUTDIR).sort();
const size = files.reduce((sum, name) => sum + readFileSync(path.join(OUTDIR, name)).length, 0);
console.log(
  `bundle: ${path.relative(ROOT, OUTDIR) || OUTDIR}/ ${files.length} files, ${(size / 1024).toFixed(0)} KiB ` +
    `(${packages.length} npm packages, raw-socket ABIs ${[...rawSocketAbis].sort().join(' ')}, ` +
    `splitting ${splitting ? 'on' : 'off'}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
