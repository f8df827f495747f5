/**
 * Test entry: the real command line (`tslvsd --config FILE …`, src/cli.ts) run from source with tsx, so
 * the namespace tests need no build. Started inside a namespace by startTslvsd().
 */
import { main } from '../../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
