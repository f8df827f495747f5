import { readFileSync } from 'node:fs';
import { packageFile } from './util/packageLayout.js';

/** The package version, read once from package.json so there is a single source of truth. */
export const VERSION: string = (() => {
  const pkg = JSON.parse(readFileSync(packageFile(import.meta.url, 1, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
})();
