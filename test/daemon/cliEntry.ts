/**
 * Test entry for the daemon's namespace tests: the CLI's own option parsing and config loading, then the
 * daemon composition — what `tslvsd …` does, runnable through tsx without a build.
 */
import { parseCliOptions } from '../../src/cliOptions.js';
import { main } from '../../src/cli.js';
import { compileConfigFile } from '../../src/config/compileFile.js';
import { composeAndRun } from '../../src/daemon/compose.js';

const argv = process.argv.slice(2);
const parsed = parseCliOptions(argv);
if (!parsed.ok || parsed.options.command !== 'run') {
  process.exitCode = await main(argv);
} else {
  const options = { ...parsed.options, configId: parsed.options.configId ?? 'test' };
  const outcome = compileConfigFile(options.configFile, { configId: options.configId, strict: options.strict });
  for (const line of outcome.warnings) process.stderr.write(`${line}\n`);
  if (!outcome.ok) {
    for (const line of outcome.errors) process.stderr.write(`${line}\n`);
    process.exitCode = 1;
  } else {
    process.exitCode = await composeAndRun(options, outcome.model);
  }
}
