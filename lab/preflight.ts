// What the lab needs from the machine, checked before anything is built so the user gets one clear message.
import { run } from './exec.js';
import type { DirectorSoftwareName } from './directors/director.js';

const TOOLS: { argv: string[]; what: string }[] = [
  { argv: ['ip', '-V'], what: 'iproute2 (`ip`)' },
  { argv: ['ipvsadm', '-v'], what: 'ipvsadm (apt-get install ipvsadm)' },
  { argv: ['busybox', 'true'], what: 'busybox (apt-get install busybox-static), the real servers\' httpd' },
  { argv: ['curl', '--version'], what: 'curl' },
];

export async function missingTools(director: DirectorSoftwareName): Promise<string[]> {
  const missing: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root (network namespaces)');
  const tools = director === 'keepalived' ? [...TOOLS, { argv: ['keepalived', '--version'], what: 'keepalived (apt-get install keepalived)' }] : TOOLS;
  for (const t of tools) {
    const r = await run(t.argv, { allowFail: true }).catch(() => ({ code: 127 }));
    if (r.code !== 0) missing.push(t.what);
  }
  return missing;
}
