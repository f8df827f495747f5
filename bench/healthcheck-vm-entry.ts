/**
 * tslvsd's daemon composition (`composeAndRun`, compiled in dist/) behind the CLI's own option parsing and
 * config compiler: what `tslvsd --check-only --config FILE` is meant to run. The benchmark starts tslvsd
 * through this entry by default because, at the time of writing, bin/tslvsd.js → dist/cli.js still calls
 * the VRRP-only `runDaemon` (src/daemon.ts): with `--check-only` it starts no checks and no IPVS.
 *
 *   node --import tsx bench/healthcheck-vm-entry.ts --check-only --config FILE [CLI flags]
 */
// The compiled modules (dist/ has no declarations), typed by their sources.
const dist = new URL('../dist/', import.meta.url).href;
const { parseCliOptions } = (await import(`${dist}cliOptions.js`)) as typeof import('../src/cliOptions.js');
const { compileConfigFile } = (await import(`${dist}config/compileFile.js`)) as typeof import('../src/config/compileFile.js');
const { composeAndRun } = (await import(`${dist}daemon/compose.js`)) as typeof import('../src/daemon/compose.js');

const parsed = parseCliOptions(process.argv.slice(2));
if (!parsed.ok || parsed.options.command !== 'run') {
  process.stderr.write(`healthcheck-vm-entry: expected daemon run flags (${parsed.ok ? parsed.options.command : parsed.message})\n`);
  process.exitCode = 2;
} else {
  const options = { ...parsed.options, configId: parsed.options.configId ?? 'hcbench' };
  const outcome = compileConfigFile(options.configFile, { configId: options.configId, strict: options.strict });
  for (const line of outcome.warnings) process.stderr.write(`${line}\n`);
  if (!outcome.ok) {
    for (const line of outcome.errors) process.stderr.write(`${line}\n`);
    process.exitCode = 1;
  } else {
    process.exitCode = await composeAndRun(options, outcome.model);
  }
}
