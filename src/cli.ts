import { VERSION } from './version.js';

/**
 * Command-line entry. Returns the process exit code; a long-running daemon resolves only when it stops.
 * (Placeholder: the config front end replaces this with the full CLI contract.)
 */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`tslvsd ${VERSION}\n`);
    return 0;
  }
  process.stderr.write('usage: tslvsd [--config FILE] [--config-test] [--version]\n');
  return 2;
}
