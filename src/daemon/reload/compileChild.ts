/**
 * The reload compiler's child process (started by reloadCompiler.ts): compiles one configuration file with
 * the same function as `tslvsd -t` and start-up (loadConfigFile, with the same CompileBudget), sends the
 * outcome over IPC and exits. While it works it reports where it is reading, so a compilation killed at
 * the wall-clock or memory limit can still be reported at a FILE:LINE.
 */
import { CompileBudget } from '../../config/budget.js';
import { outcomeOf, loadConfigFile } from '../../config/compileFile.js';
import { checkConfigOnHost } from '../hostChecks.js';
import type { SourcePosition } from '../../config/diagnostics.js';
import type { CompileChildMessage, CompileRequest } from './protocol.js';

const PROGRESS_EVERY_MS = 200;

function send(message: CompileChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

process.once('message', (request: CompileRequest) => {
  let lastProgress = Date.now();
  let steps = 0;
  // The IPC channel writes synchronously when it can, so progress leaves even while this loop is busy.
  const onStep = (at: SourcePosition): void => {
    if ((++steps & 1023) !== 0) return;
    const now = Date.now();
    if (now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    void send({ type: 'progress', at: { file: at.file, line: at.line } });
  };
  const budget = new CompileBudget(request.limits, onStep);
  const outcome = outcomeOf(loadConfigFile(request.file, { configId: request.configId, strict: request.strict, budget, hostChecks: checkConfigOnHost }));
  void send({ type: 'result', outcome }).then(() => process.exit(0));
});
// The parent went away: nothing to answer to.
process.once('disconnect', () => process.exit(0));
// Loaded (every import above has run): the parent's time limit for the compilation starts now.
void send({ type: 'ready' });
