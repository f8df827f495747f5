/**
 * Test entry for the daemon's namespace tests: the real CLI (src/cli.ts → src/daemon.ts), runnable
 * through tsx without a build.
 */
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
