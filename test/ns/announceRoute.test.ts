/**
 * announce_route's kernel edge (src/announce/kernelRoutes.ts) in a real network namespace, judged by
 * iproute2: the route form the BIRD/FRR recipes learn (`VIP dev lo scope link` in table 248, proto 249),
 * add/delete idempotence, listing only our protocol's host routes of that table, and a route another
 * protocol holds left alone.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, tsxArgv } from './helpers/exec.js';
import { createNetns, deleteNetns, nsMustRun, RUN_TAG } from './helpers/netns.js';

const NS = `tann${RUN_TAG}`;
const DRIVER = new URL('./helpers/announceRoutesDriver.ts', import.meta.url).pathname;

interface Outcome { done: { prefix: string }[]; failed: { route: { prefix: string }; error: string }[] }

async function driver(args: string[]): Promise<unknown> {
  const [file, ...argv] = tsxArgv(DRIVER, args);
  return JSON.parse(await nsMustRun(NS, file!, argv, 60_000)) as unknown;
}

/** `ip route show table T proto 249` lines (IPv4 and IPv6), as an operator reads them. */
async function shown(table: number, family: '-4' | '-6' = '-4'): Promise<string[]> {
  const out = await nsMustRun(NS, 'ip', [family, 'route', 'show', 'table', String(table), 'proto', '249']);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

describe.skipIf(!isRoot)('announce_route kernel edge (namespace)', () => {
  beforeAll(async () => {
    await createNetns(NS);
  });

  afterAll(async () => {
    await deleteNetns(NS);
  });

  it('adds VIP/32 and VIP/128 in the one form: dev lo, scope link, unicast, table 248, proto 249', async () => {
    const outcome = (await driver(['add', '248', '10.0.0.100', '2001:db8::100'])) as Outcome;
    expect(outcome.failed).toEqual([]);
    expect(outcome.done.map((r) => r.prefix)).toEqual(['10.0.0.100/32', '2001:db8::100/128']);
    expect(await shown(248)).toEqual(['10.0.0.100 dev lo scope link']);
    expect((await shown(248, '-6'))[0]).toMatch(/^2001:db8::100 dev lo metric 1024/);
    const detail = JSON.parse(await nsMustRun(NS, 'ip', ['-j', '-d', 'route', 'show', 'table', '248', 'proto', '249'])) as Record<string, unknown>[];
    // (the proto filter already selects 249; iproute2 then leaves the field out of its JSON)
    expect(detail).toEqual([expect.objectContaining({ type: 'unicast', dst: '10.0.0.100', dev: 'lo', scope: 'link' })]);
    // Nothing in the main table: the route is for the routing daemon, not for forwarding.
    expect(await nsMustRun(NS, 'ip', ['route', 'show', 'table', 'main', 'proto', '249'])).toBe('');
  });

  it('is the same route `ip route replace VIP/32 dev lo table 248 proto 249` makes (the recipes\' hand form)', async () => {
    await nsMustRun(NS, 'ip', ['route', 'replace', '10.0.0.101/32', 'dev', 'lo', 'table', '248', 'proto', '249']);
    expect(await shown(248)).toEqual(['10.0.0.100 dev lo scope link', '10.0.0.101 dev lo scope link']);
    const outcome = (await driver(['remove', '248', '10.0.0.101'])) as Outcome;
    expect(outcome.failed).toEqual([]);
    expect(await shown(248)).toEqual(['10.0.0.100 dev lo scope link']);
  });

  it('adding a held route again and deleting an absent one are done, not errors', async () => {
    expect(((await driver(['add', '248', '10.0.0.100'])) as Outcome).failed).toEqual([]);
    expect(((await driver(['remove', '248', '10.0.0.199'])) as Outcome).failed).toEqual([]);
    expect(await shown(248)).toEqual(['10.0.0.100 dev lo scope link']);
  });

  it('lists only host routes of proto 249 in that table', async () => {
    await nsMustRun(NS, 'ip', ['route', 'add', '10.0.0.102/32', 'dev', 'lo', 'table', '248', 'proto', 'static']);
    await nsMustRun(NS, 'ip', ['route', 'add', '10.0.1.0/24', 'dev', 'lo', 'table', '248', 'proto', '249']);
    await nsMustRun(NS, 'ip', ['route', 'add', '10.0.0.103/32', 'dev', 'lo', 'table', '300', 'proto', '249']);
    const listed = (await driver(['list', '248'])) as { prefix: string; table: number }[];
    expect(listed.map((r) => r.prefix).sort()).toEqual(['10.0.0.100/32', '2001:db8::100/128']);
    expect(((await driver(['list', '300'])) as { prefix: string }[]).map((r) => r.prefix)).toEqual(['10.0.0.103/32']);
  });

  it('a delete touches only proto 249: the same prefix held by another protocol stays', async () => {
    const outcome = (await driver(['remove', '248', '10.0.0.102'])) as Outcome;
    expect(outcome.failed).toEqual([]);
    expect(await nsMustRun(NS, 'ip', ['route', 'show', 'table', '248', '10.0.0.102'])).toContain('proto static');
  });

  it('deletes the held routes: the table has none of ours left', async () => {
    const outcome = (await driver(['remove', '248', '10.0.0.100', '2001:db8::100'])) as Outcome;
    expect(outcome.failed).toEqual([]);
    expect(await shown(248)).toEqual(['10.0.1.0/24 dev lo scope link']);
    expect(await shown(248, '-6')).toEqual([]);
  });

  it('a table above 255 (RTA_TABLE) works the same', async () => {
    expect(((await driver(['add', '100000', '10.0.0.100'])) as Outcome).failed).toEqual([]);
    expect(await shown(100000)).toEqual(['10.0.0.100 dev lo scope link']);
    expect(((await driver(['list', '100000'])) as { prefix: string }[]).map((r) => r.prefix)).toEqual(['10.0.0.100/32']);
    expect(((await driver(['remove', '100000', '10.0.0.100'])) as Outcome).failed).toEqual([]);
    expect(await shown(100000)).toEqual([]);
  });

  it("the OnFailure= unit's ExecStart lines, run as written: our routes of both families go, another protocol's stay", async () => {
    const unit = readFileSync(new URL('../../systemd/tslvsd-withdraw-routes.service', import.meta.url), 'utf8');
    const commands = unit.split('\n').filter((l) => l.startsWith('ExecStart=')).map((l) => l.slice('ExecStart='.length).split(' '));
    expect(commands).toHaveLength(2);
    expect(((await driver(['add', '248', '10.0.0.100', '2001:db8::100'])) as Outcome).failed).toEqual([]);
    await nsMustRun(NS, 'ip', ['route', 'add', '10.0.0.101/32', 'dev', 'lo', 'table', '248', 'proto', 'static']);
    expect((await shown(248, '-6'))[0]).toMatch(/^2001:db8::100 dev lo metric 1024/);
    for (const [file, ...args] of commands) await nsMustRun(NS, file!, args);
    expect(await shown(248)).toEqual([]);
    expect(await shown(248, '-6')).toEqual([]);
    const left = (await nsMustRun(NS, 'ip', ['route', 'show', 'table', '248'])).split('\n').map((l) => l.trim());
    expect(left).toContain('10.0.0.101 dev lo proto static scope link');
    // Run again on an empty table: still exit 0 (a second failure of the service must not fail this unit).
    for (const [file, ...args] of commands) await nsMustRun(NS, file!, args);
    await nsMustRun(NS, 'ip', ['route', 'del', '10.0.0.101/32', 'dev', 'lo', 'table', '248', 'proto', 'static']);
  });
});
