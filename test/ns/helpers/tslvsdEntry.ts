/**
 * Test entry: compile a keepalived.conf with the project's compiler and run the daemon on it — the same
 * two steps `tslvsd --config FILE` takes. Started inside a namespace by startTslvsd().
 */
import { hostname } from 'node:os';
import { loadConfig } from '../../../src/config/load.js';
import { NodeFileSource } from '../../../src/config/nodeFileSource.js';
import { runDaemon } from '../../../src/daemon.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: tslvsdEntry.ts CONFIG\n');
  process.exit(2);
}
const loaded = loadConfig(file, { files: new NodeFileSource(), configId: hostname().split('.')[0] ?? '' });
if (!loaded.model) {
  process.stderr.write(`config errors: ${JSON.stringify(loaded.diagnostics)}\n`);
  process.exit(1);
}
const level = process.env.TSLVSD_LOG_LEVEL === 'debug' ? 'debug' : 'info';
process.exitCode = await runDaemon({ configFile: file, logLevel: level }, loaded.model);
