#!/usr/bin/env -S node --max-semi-space-size=1
// --max-semi-space-size=1: the main thread (VRRP, IPVS sync, status) allocates little that outlives a
// scavenge, and V8's default lets its young generation grow to 48 MiB; capped, the daemon's RSS for the
// seed config is ≈ 5 MiB lower. The checker worker sets its own limit (src/healthcheck/service.ts).
// The installed entry point: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`tslvsd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
