import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where this program's files are, for the three ways it runs: from its TypeScript sources (tests, tsx:
 * `.ts`), from tsc's `dist/` (`.js`, the tree mirrors `src/`), or from the esbuild bundle
 * (`scripts/bundle.mjs`, `.mjs`): one flat directory — the bundled CLI, each worker or child entry point
 * as `NAME.mjs`, the native addons as `NAME.node` and a `package.json` — as installed in /usr/lib/tslvsd by
 * the Debian package. The module's own file extension tells which; nothing else is consulted.
 */
export function isBundled(moduleUrl: string | URL): boolean {
  return new URL(moduleUrl).pathname.endsWith('.mjs');
}

/**
 * A file of the package, given the calling module's `import.meta.url` and how many folders below the
 * package root that module sits in `src/` (`src/version.ts`: 1). In the bundle the file is beside it.
 */
export function packageFile(moduleUrl: string | URL, levelsBelowRoot: number, relative: string): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  if (isBundled(moduleUrl)) return path.join(here, path.basename(relative));
  return path.resolve(here, ...Array<string>(levelsBelowRoot).fill('..'), relative);
}

/** One of the project's node-gyp addons (`build/Release/NAME.node`; `NAME.node` beside the bundle). */
export function addonFile(moduleUrl: string | URL, levelsBelowRoot: number, name: string): string {
  return packageFile(moduleUrl, levelsBelowRoot, path.join('build', 'Release', `${name}.node`));
}
