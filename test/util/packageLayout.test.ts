import { describe, expect, it } from 'vitest';
import { sibling } from '../../src/healthcheck/worker/moduleRunner.js';
import { addonFile, isBundled, packageFile } from '../../src/util/packageLayout.js';

describe('packageLayout: sources, dist/ and the bundle', () => {
  it('resolves package files by depth below the root, or beside the bundle', () => {
    expect(isBundled('file:///repo/src/version.ts')).toBe(false);
    expect(isBundled('file:///usr/lib/tslvsd/chunk-ABC.mjs')).toBe(true);
    expect(packageFile('file:///repo/src/version.ts', 1, 'package.json')).toBe('/repo/package.json');
    expect(packageFile('file:///repo/dist/version.js', 1, 'package.json')).toBe('/repo/package.json');
    expect(packageFile('file:///usr/lib/tslvsd/chunk-ABC.mjs', 1, 'package.json')).toBe('/usr/lib/tslvsd/package.json');
    expect(addonFile('file:///repo/dist/net/nativeAddon.js', 2, 'tslvsd_native')).toBe('/repo/build/Release/tslvsd_native.node');
    expect(addonFile('file:///usr/lib/tslvsd/chunk-ABC.mjs', 3, 'tslvsd_tcp_prober')).toBe('/usr/lib/tslvsd/tslvsd_tcp_prober.node');
  });

  it('names worker and child entry points as .ts, .js, or flat .mjs files beside the bundle', () => {
    expect(sibling('file:///repo/src/healthcheck/service.ts', './worker/checkerWorker').href).toBe('file:///repo/src/healthcheck/worker/checkerWorker.ts');
    expect(sibling('file:///repo/dist/healthcheck/service.js', './worker/checkerWorker').href).toBe('file:///repo/dist/healthcheck/worker/checkerWorker.js');
    expect(sibling('file:///usr/lib/tslvsd/chunk-ABC.mjs', './worker/checkerWorker').href).toBe('file:///usr/lib/tslvsd/checkerWorker.mjs');
  });
});
