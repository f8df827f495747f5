/**
 * The static gates fail when they should. A file planted in test/ with a type error, an unused variable and a
 * floating promise must be reported by the typecheck program (tsconfig.check.json, what `npm run typecheck`
 * runs) and by ESLint with the project's config (what `npm run lint` runs, type-aware rules included); the
 * layering rules must report a room importing another room and a pure core importing an I/O built-in.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Not *.test.ts, so no test runner picks it up; per process, so two runs do not share it.
const planted = join(root, 'test', `planted-static-error-${process.pid}.ts`);
const PLANTED = [
  "export const port: number = 'eighty';", // line 1: TS2322
  'async function later(): Promise<void> {}',
  'later();', // line 3: floating promise
  'const unused = 1;', // line 4: unused variable
  '',
].join('\n');

// The gates may run while other work loads both cores: generous bounds, no healthy run comes near them.
const SLOW = 180_000;

describe('static gates', () => {
  beforeAll(() => writeFileSync(planted, PLANTED));
  afterAll(() => rmSync(planted, { force: true }));

  it('the npm scripts are the tools checked here', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.typecheck).toBe('tsc -p tsconfig.check.json');
    expect(scripts.lint).toBe('eslint .');
  });

  it('typecheck: the planted file is in the program and its type error is reported', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.check.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    expect(parsed?.errors).toEqual([]);
    expect(parsed?.fileNames).toContain(planted);
    // Only the planted file as root (its options are the whole program's), so this stays fast.
    const program = ts.createProgram({ rootNames: [planted], options: parsed!.options });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === planted && d.category === ts.DiagnosticCategory.Error)
      .map((d) => ({ code: d.code, line: d.file!.getLineAndCharacterOfPosition(d.start!).line + 1 }));
    expect(errors).toEqual([{ code: 2322, line: 1 }]);
  }, SLOW);

  it('lint: the unused variable and the floating promise are reported as errors', async () => {
    const eslint = new ESLint({ cwd: root });
    expect(await eslint.isPathIgnored(planted)).toBe(false);
    const [result] = await eslint.lintFiles([planted]);
    const found = result.messages.map((m) => ({ rule: m.ruleId, line: m.line, severity: m.severity }));
    expect(found).toEqual(expect.arrayContaining([
      { rule: '@typescript-eslint/no-floating-promises', line: 3, severity: 2 },
      { rule: '@typescript-eslint/no-unused-vars', line: 4, severity: 2 },
    ]));
    expect(result.errorCount).toBeGreaterThanOrEqual(2); // the CLI exits 1 on any error
  }, SLOW);

  it('layering: a room importing another room, or a pure core importing node:fs, is an error', async () => {
    // Import rules need no type information: lint source text as if it lived at these paths.
    const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });
    const rulesAt = async (file: string, code: string): Promise<Array<string | null>> =>
      (await eslint.lintText(code, { filePath: join(root, file) }))[0].messages.map((m) => m.ruleId);

    expect(await rulesAt('src/ipvs/planted.ts', "import type { RealServerChange } from '../healthcheck/events.js';\nexport type C = RealServerChange;\n"))
      .toEqual(['import-x/no-restricted-paths']);
    expect(await rulesAt('src/healthcheck/planted.ts', "export { ipvsPlanFromConfig } from '../ipvs/fromConfig.js';\n"))
      .toEqual(['import-x/no-restricted-paths']);
    expect(await rulesAt('src/vrrp/core/planted.ts', "import { VipManager } from '../edge/vipManager.js';\nexport const m = VipManager;\n"))
      .toEqual(['import-x/no-restricted-paths']);
    expect(await rulesAt('src/config/compiler/planted.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"))
      .toEqual(['no-restricted-imports']);
    // One way only (issue 14): the IPVS room takes no metrics type, a shared edge no room, config no room.
    expect(await rulesAt('src/ipvs/planted.ts', "import type { IpvsMetricsSource } from '../metrics/sources.js';\nexport type S = IpvsMetricsSource;\n"))
      .toEqual(['import-x/no-restricted-paths']);
    expect(await rulesAt('src/util/planted.ts', "import type { ServiceKey } from '../ipvs/types.js';\nexport type K = ServiceKey;\n"))
      .toEqual(['import-x/no-restricted-paths']);
    expect(await rulesAt('src/config/planted.ts', "import type { VirtualServerPlan } from '../healthcheck/plan.js';\nexport type P = VirtualServerPlan;\n"))
      .toEqual(['import-x/no-restricted-paths']);
    expect(await rulesAt('src/healthcheck/core/planted.ts', "import { IpvsService } from '../../ipvs/ipvsService.js';\nexport const s = IpvsService;\n"))
      .toEqual(['import-x/no-restricted-paths', 'import-x/no-restricted-paths']);
    // Every room takes its identities from config (src/config/keys.ts), which all may import.
    expect(await rulesAt('src/healthcheck/core/planted.ts', "import { destinationKey } from '../../config/keys.js';\nexport const k = destinationKey;\n"))
      .toEqual([]);
    // The same imports where they belong are clean: the daemon composes the rooms.
    expect(await rulesAt('src/daemon/planted.ts', "import type { RealServerChange } from '../healthcheck/events.js';\nimport { ipvsPlanFromConfig } from '../ipvs/fromConfig.js';\nexport type C = RealServerChange;\nexport const p = ipvsPlanFromConfig;\n"))
      .toEqual([]);
  }, SLOW);
});
