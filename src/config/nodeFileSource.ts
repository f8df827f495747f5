import { readFileSync, readdirSync } from 'node:fs';
import type { FileSource } from './fileSource.js';

/** The real file system behind the compiler's FileSource (the only fs user of src/config/). */
export class NodeFileSource implements FileSource {
  readText(path: string): string {
    return readFileSync(path, 'utf8');
  }

  listDir(path: string): string[] | undefined {
    try {
      return readdirSync(path).sort();
    } catch {
      return undefined;
    }
  }
}
