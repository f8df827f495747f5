import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { MemoryFileSource } from '../../src/config/fileSource.js';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import type { ConfigModel } from '../../src/config/model.js';

/** Compiles `text` as /etc/ka.conf (plus optional extra files) in memory. */
export function compile(text: string, opts: { files?: Record<string, string>; configId?: string; strict?: boolean } = {}): LoadResult {
  return loadConfig('/etc/ka.conf', {
    files: new MemoryFileSource({ '/etc/ka.conf': text, ...opts.files }),
    configId: opts.configId ?? 'node1',
    strict: opts.strict ?? false,
    random: () => 0,
  });
}

/** The formatted diagnostics, for readable assertions. */
export function messages(r: LoadResult): string[] {
  return r.diagnostics.map(formatDiagnostic);
}

/** Compiles and insists there are no errors; returns the model. */
export function model(text: string, opts: Parameters<typeof compile>[1] = {}): ConfigModel {
  const r = compile(text, opts);
  if (r.model === undefined) throw new Error(`expected a valid config, got:\n${messages(r).join('\n')}`);
  return r.model;
}

/** A minimal valid instance, to embed keywords under test. */
export function instance(body: string, name = 'VI_1'): string {
  const vip = body.includes('virtual_ipaddress {') ? '' : '  virtual_ipaddress { 192.0.2.1 }\n';
  return `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id 51\n${body}\n${vip}}\n`;
}
