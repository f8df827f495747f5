import { defineConfig } from 'vitest/config';

// Three tiers, one config:
//  - unit: pure cores and edges that need no privileges; parallel.
//  - ns:   root-only tests with real network namespaces, real keepalived, real servers; one file at a time
//          because failover timings are measured and two cores are all there is.
//  - vm:   kernel suites that need IPVS; run inside the qemu VM by scripts/vm/run.sh, never on the host.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/ns/**', 'test/vm/**', '**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'ns',
          include: ['test/ns/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
