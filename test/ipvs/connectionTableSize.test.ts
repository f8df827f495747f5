import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countIpvsConnections } from '../../src/ipvs/connectionTableSize.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tslvsd-conntab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
const LINE = 'TCP 0A000001 9C40 0A0000C8 0050 0A000064 0050 ESTABLISHED     899\n';

function table(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
}

describe('countIpvsConnections', () => {
  it('counts no connections in a table with only its header', async () => {
    expect(await countIpvsConnections(table('empty', HEADER))).toBe(0);
  });

  it('counts one line per connection across read chunks (64 KiB) without the header', async () => {
    const n = 5000; // ≈ 330 KB: several chunks, with lines cut at chunk borders
    expect(await countIpvsConnections(table('many', HEADER + LINE.repeat(n)))).toBe(n);
  });

  it('counts a last line that has no newline', async () => {
    expect(await countIpvsConnections(table('tail', HEADER + LINE + LINE.trimEnd()))).toBe(2);
  });

  it('rejects when the table is absent (no IPVS module), so the caller keeps its last figure', async () => {
    await expect(countIpvsConnections(path.join(dir, 'absent'))).rejects.toThrow(/ENOENT/);
  });
});
