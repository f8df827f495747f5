import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this lab belongs to (lab/ is one level below it). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
