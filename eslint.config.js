// `npm run lint`: typescript-eslint over src/, test/, bench/, lab/ and scripts/, plus the layering of
// src/ as import rules (docs/ARCHITECTURE.md: config -> pure cores -> room services -> daemon).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Node built-ins that mean sockets, files, processes, threads or timers: the pure cores get none of them. */
const IO_BUILTINS = [
  'net', 'dgram', 'child_process', 'fs', 'fs/promises', 'worker_threads', 'tls', 'http', 'https', 'http2',
  'readline', 'cluster', 'os', 'process', 'timers', 'timers/promises', 'dns', 'dns/promises', 'module',
].flatMap((name) => [name, `node:${name}`]);

/** What plain .mjs/.js files may use without importing it (Node's globals; .ts files get them from @types/node). */
const NODE_GLOBALS = [
  'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask',
  'structuredClone', 'performance', 'fetch',
];

/** Packages that are I/O edges (sockets, logging, the metrics exporter). */
const IO_PACKAGES = ['netlink', '@neuralegion/raw-socket', 'pino', 'prom-client'];

/** Modules of src/ that do I/O or compose: what a pure core must not reach, even for a type. */
const EDGES = [
  'src/net', 'src/systemd', 'src/scripts', 'src/metrics', 'src/daemon', 'src/daemon.ts', 'src/cli.ts', 'src/cliOptions.ts',
  'src/util/log.ts', 'src/config/nodeFileSource.ts', 'src/config/compileFile.ts',
  'src/vrrp/edge', 'src/vrrp/service.ts',
  'src/ipvs/netlinkTransport.ts', 'src/ipvs/ipvsClient.ts', 'src/ipvs/ipvsService.ts',
  'src/healthcheck/checkers', 'src/healthcheck/worker', 'src/healthcheck/service.ts',
  'src/healthcheck/scripts.ts',
  'src/announce/kernelRoutes.ts',
];

/**
 * The pure cores: no sockets, files, processes or timers (time comes through the Clock interface). In
 * src/config, nodeFileSource.ts (the file system behind the FileSource interface) and compileFile.ts (which
 * plugs it in) are the room's door, not its core.
 */
const PURE_CORES = [
  'src/config/compiler', 'src/config/!(nodeFileSource|compileFile).ts',
  'src/vrrp/core', 'src/vrrp/codec', 'src/ipvs/codec', 'src/ipvs/reconciler.ts', 'src/healthcheck/core',
  'src/announce/announcePlan.ts', 'src/vrrp/units.ts',
];

const DAEMON = ['src/daemon', 'src/daemon.ts'];
/** announce (announce_route's routes, issue 11) is a room like the others: the daemon feeds it the quorum. */
const ROOMS = ['vrrp', 'ipvs', 'healthcheck', 'announce'];

/** import-x/no-restricted-paths zones: files in `target` may not import from `from` (types included). */
const layering = [
  {
    target: 'src/config',
    from: ['src/vrrp', 'src/ipvs', 'src/healthcheck', 'src/announce', 'src/metrics', ...DAEMON],
    message: 'src/config is the lowest layer and knows no room: move the shared piece into src/config.',
  },
  {
    target: PURE_CORES,
    from: EDGES,
    message: 'a pure core imports no edge (sockets, processes, files, logging, metrics, the daemon): take an interface instead.',
  },
  // The rooms know nothing of each other, of the exporter or of the daemon: the daemon adapts.
  ...ROOMS.map((room) => ({
    target: `src/${room}`,
    from: [...ROOMS.filter((other) => other !== room).map((other) => `src/${other}`), 'src/metrics', ...DAEMON],
    message: `the ${room} room knows neither the other rooms, metrics nor the daemon: src/daemon adapts between them.`,
  })),
  {
    target: ['src/net', 'src/systemd', 'src/scripts', 'src/util', 'src/metrics', 'src/version.ts'],
    from: DAEMON,
    message: 'only src/daemon.ts and src/daemon/ compose the rooms; nothing below imports them.',
  },
  {
    // The shared edges under the rooms (links and addresses, systemd, script processes, clock and logging).
    target: ['src/net', 'src/systemd', 'src/scripts', 'src/util'],
    from: ROOMS.map((room) => `src/${room}`),
    message: 'a shared edge serves the rooms and imports none of them.',
  },
];

export default defineConfig(
  {
    // .tv-*-build/: the daemon transpiled by the VM tests (test/vm/daemon-*.test.ts) while they run.
    ignores: ['node_modules/', 'dist/', 'dist-bundle/', 'dist-deb/', 'build/', 'native/', 'bin/', '.tv-*-build/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.js'],
    languageOptions: {
      parserOptions: {
        // One program for everything (the same as `npm run typecheck`), for the type-aware rules below.
        project: ['./tsconfig.check.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      // NodeNext specifiers name the emitted .js; the sources are .ts.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Not no-misused-promises: it finds nothing here today and was half of all rule time when measured.
      '@typescript-eslint/await-thenable': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layering, basePath: import.meta.dirname }],
    },
  },
  {
    files: PURE_CORES.map((p) => (p.endsWith('.ts') ? p : `${p}/**/*.ts`)),
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...IO_BUILTINS, ...IO_PACKAGES].map((name) => ({
          name,
          message: 'a pure core does no I/O: the edge does it behind an interface',
        })),
      }],
    },
  },
  {
    // Not in the typecheck program yet (tsconfig.check.json says why): linted without type information.
    files: ['scripts/run-tests.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Plain JavaScript (scripts/*.mjs, lab/traffic/client.mjs) runs under Node.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: Object.fromEntries(NODE_GLOBALS.map((name) => [name, 'readonly'])) },
  },
);
