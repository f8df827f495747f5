/** keepalived.conf text → ConfigModel through the project's real compiler (throws on diagnostics errors). */
import { MemoryFileSource } from '../../src/config/fileSource.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigModel } from '../../src/config/model.js';

export function compile(text: string): ConfigModel {
  const r = loadConfig('/etc/keepalived.conf', { files: new MemoryFileSource({ '/etc/keepalived.conf': text }), configId: 'test' });
  if (!r.model) throw new Error(r.diagnostics.map((d) => JSON.stringify(d)).join('\n'));
  return r.model;
}
