#!/usr/bin/env -S node --optimize-for-size
// --optimize-for-size: V8's memory-saving mode. The main thread (VRRP, IPVS sync, status) allocates little
// that outlives a scavenge, and V8's default lets its young generation grow to 48 MiB; in this mode it stays
// at 1 MiB (as --max-semi-space-size=1 did before, seed config ≈ 5 MiB lower) and the old generation grows
// and is compacted with memory in mind: 1,000 TCP_CHECKs in the VM 78–79 → 74–75 MiB at the same CPU
// (README, Memory). One flag, so the package's #!/usr/bin/node line needs no env -S. The checker worker
// sets its own young-generation limit (src/healthcheck/service.ts).
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
