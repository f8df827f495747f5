import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The shipped routing-daemon recipes (etc/bird, etc/frr: issue 11, README "Scaling past a pair") judged by the
// daemons' own parsers — `bird -p` (parse only) and `vtysh --dryrun` (every command checked, no daemon
// needed) from the `routing` purpose of scripts/setup/packages.txt — and the settings the two sides must
// agree on compared. test/vm/e2e-ecmp.test.ts runs them.
const run = (cmd: string, args: string[]): { code: number | null; out: string } => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
};
const BIRD = 'etc/bird/tslvsd-bird.conf';
const FRR_ROUTER = 'etc/frr/router-frr.conf';
const FRR_DIRECTOR = 'etc/frr/director-frr.conf';
const text = (f: string): string => readFileSync(f, 'utf8');

/** A copy of a recipe with one line broken, so the checker's rejection is shown to be real. */
function broken(file: string, from: string, to: string): { path: string; done: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tslvsd-routing-'));
  const original = text(file);
  expect(original).toContain(from);
  const p = path.join(dir, path.basename(file));
  writeFileSync(p, original.replace(from, to));
  return { path: p, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('shipped BIRD and FRR recipes', () => {
  it('bird -p accepts the director recipe and rejects it with a misspelt keyword', () => {
    const r = run('bird', ['-p', '-c', BIRD]);
    expect(r.code, r.out).toBe(0);
    const bad = broken(BIRD, '\tlearn;', '\tlearnt;');
    try {
      const b = run('bird', ['-p', '-c', bad.path]);
      expect(b.code).not.toBe(0);
      expect(b.out).toMatch(/tslvsd-bird\.conf:\d+:\d+ syntax error/);
    } finally {
      bad.done();
    }
  });

  it('vtysh --dryrun accepts both FRR recipes and rejects an unknown command', () => {
    for (const f of [FRR_ROUTER, FRR_DIRECTOR]) {
      const r = run('vtysh', ['--dryrun', '-f', f]);
      expect(r.code, `${f}: ${r.out}`).toBe(0);
      expect(r.out, f).not.toMatch(/Unknown command|error/i);
    }
    const bad = broken(FRR_ROUTER, 'maximum-paths 16', 'maximum-paths sixteen');
    try {
      const b = run('vtysh', ['--dryrun', '-f', bad.path]);
      expect(b.code).not.toBe(0);
      expect(b.out).toContain('maximum-paths sixteen');
    } finally {
      bad.done();
    }
  });

  it('the director side learns table 248 routes of protocol 249 only and announces them with BFD', () => {
    const bird = text(BIRD);
    expect(bird).toMatch(/kernel table 248;\s+learn;/);
    expect(bird).toContain('import where krt_source = 249');
    expect(bird).toMatch(/protocol bgp \w+ \{[^}]*bfd on;/);
    expect(bird).toContain('next hop self;');
    const frr = text(FRR_DIRECTOR);
    expect(frr).toContain('ip import-table 248');
    expect(frr).toMatch(/redistribute table 248/);
    expect(frr).toMatch(/neighbor \S+ bfd\n/);
  });

  it('the router does ECMP over BGP neighbours with BFD and documents the L4 multipath hash', () => {
    const router = text(FRR_ROUTER);
    expect(router).toMatch(/^\s+maximum-paths \d+$/m);
    expect(router).toContain('neighbor directors bfd\n');
    expect(router).toContain('net.ipv4.fib_multipath_hash_policy=1');
  });

  it('both sides agree: AS numbers, BFD intervals and multiplier, BGP timers', () => {
    const bird = text(BIRD);
    const router = text(FRR_ROUTER);
    const director = text(FRR_DIRECTOR);
    const birdLocalAs = /local \S+ as (\d+);/.exec(bird)?.[1];
    const birdPeerAs = /neighbor \S+ as (\d+);/.exec(bird)?.[1];
    expect(/router bgp (\d+)/.exec(router)?.[1]).toBe(birdPeerAs);
    expect(/neighbor directors remote-as (\d+)/.exec(router)?.[1]).toBe(birdLocalAs);
    expect(/router bgp (\d+)/.exec(director)?.[1]).toBe(birdLocalAs);
    const bfd = (conf: string): string[] => [/detect-multiplier (\d+)/, /receive-interval (\d+)/, /transmit-interval (\d+)/].map((re) => re.exec(conf)?.[1] ?? '?');
    expect(bfd(router)).toEqual(bfd(director));
    expect([/multiplier (\d+);/, /min rx interval (\d+) ms;/, /min tx interval (\d+) ms;/].map((re) => re.exec(bird)?.[1])).toEqual(bfd(router));
    expect(/timers bgp (\d+ \d+)/.exec(router)?.[1]).toBe(`${/keepalive time (\d+);/.exec(bird)?.[1]} ${/hold time (\d+);/.exec(bird)?.[1]}`);
  });
});
