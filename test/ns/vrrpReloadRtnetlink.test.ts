import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRtNetlink, type RtNetlink } from '../../src/net/rtnetlink.js';
import { isRoot, mustRun, runCommand } from './helpers/exec.js';
import { RUN_TAG } from './helpers/netns.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Regression: the kernel refuses a second dump on a netlink socket while one is running (EBUSY), and the
// package's reply matcher keeps one multipart reply at a time, so two dumps (or a dump and an address
// change) in flight on one socket failed each other — VipManager then saw "no interface". The edge now
// keeps one request in flight per socket. Run against the kernel on a veth pair with many addresses so a
// dump spans several datagrams.
const A = `tvrl${RUN_TAG}a`;
const B = `tvrl${RUN_TAG}b`;

describe.skipIf(!isRoot)('rtnetlink edge: concurrent requests on one socket', () => {
  let nl: RtNetlink;
  let ifindex = 0;

  beforeAll(async () => {
    await runCommand('ip', ['link', 'del', A]);
    await mustRun('ip', ['link', 'add', A, 'type', 'veth', 'peer', 'name', B]);
    await mustRun('ip', ['link', 'set', A, 'up']);
    // ~300 addresses: the address dump then needs several datagrams, so replies can interleave.
    const batch = Array.from({ length: 300 }, (_, i) => `addr add 10.78.${Math.floor(i / 200)}.${(i % 200) + 1}/32 dev ${A}`).join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'tvrl-'));
    writeFileSync(join(dir, 'batch'), `${batch}\n`);
    await mustRun('ip', ['-batch', join(dir, 'batch')]);
    rmSync(dir, { recursive: true });
    nl = openRtNetlink();
    ifindex = (await nl.linkByName(A))!.index;
  });

  afterAll(async () => {
    nl?.close();
    await runCommand('ip', ['link', 'del', A]);
  });

  it('runs 20 link and address dumps at once, every one complete', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? nl.links() : nl.addresses(ifindex))),
    );
    for (const [i, result] of results.entries()) {
      if (i % 2 === 0) expect((result as { name: string }[]).some((l) => l.name === A)).toBe(true);
      else expect(result.length).toBeGreaterThanOrEqual(300);
    }
  });

  it('interleaves address changes with dumps on the same socket', async () => {
    const vips = Array.from({ length: 10 }, (_, i) => ({ address: `10.78.9.${i + 1}`, prefixLength: 32, ifindex }));
    const ops = await Promise.all([
      ...vips.map((v) => nl.addAddress(v)),
      nl.linkByName(A),
      nl.addresses(ifindex),
      nl.linkByName(A),
    ]);
    expect(ops.slice(0, 10)).toEqual(Array(10).fill('changed'));
    expect(ops[10]).toMatchObject({ name: A });
    expect(ops[12]).toMatchObject({ name: A });
    const after = await nl.addresses(ifindex);
    for (const v of vips) expect(after.some((a) => a.address === v.address)).toBe(true);
  });
});
