import { readFileSync } from 'node:fs';

/**
 * The node flags the installed daemon runs with — the words after `node` on bin/tslvsd.js's #! line, which
 * the Debian package copies — so a bench's tslvsd runs as the daemon does. TSLVSD_BENCH_DAEMON_FLAGS
 * (space-separated; may be empty) runs it with other flags instead, to compare them.
 */
export function daemonNodeFlags(): string[] {
  const override = process.env.TSLVSD_BENCH_DAEMON_FLAGS;
  if (override !== undefined) return override.split(' ').filter(Boolean);
  const shebang = readFileSync(new URL('../../bin/tslvsd.js', import.meta.url), 'utf8').split('\n', 1)[0]!;
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}
