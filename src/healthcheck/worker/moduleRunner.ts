import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isBundled } from '../../util/packageLayout.js';

/**
 * Starts a module of this package in a worker thread or a child process, whether tslvsd runs from the
 * built `dist/` (plain .js) or from its TypeScript sources (tests, `tsx`): then the tsx loader is
 * registered first. Worker threads do not inherit `--import` loaders on Node 20, hence the bootstrap.
 */
function tsxDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('tsx'));
}

export function isSource(url: URL): boolean {
  return url.pathname.endsWith('.ts');
}

/**
 * The module `relative` (without extension) to `base`, .ts or .js like `base`; in the bundle, where every
 * entry point is one flat file (src/util/packageLayout.ts), `NAME.mjs` beside it.
 */
export function sibling(base: string | URL, relative: string): URL {
  const url = new URL(base);
  if (isBundled(url)) return new URL(`./${basename(relative)}.mjs`, url);
  const ext = isSource(url) ? '.ts' : '.js';
  return new URL(`${relative}${ext}`, url);
}

export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!isSource(url)) return new Worker(url, options);
  const api = pathToFileURL(join(tsxDir(), 'esm', 'api', 'index.mjs')).href;
  const bootstrap =
    `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((e) => { console.error(e); process.exit(70); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** argv for process.execPath that runs the module. */
export function nodeArgs(url: URL): string[] {
  const path = fileURLToPath(url);
  if (!isSource(url)) return [path];
  return ['--import', pathToFileURL(join(tsxDir(), 'loader.mjs')).href, path];
}
