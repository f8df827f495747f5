import { createReadStream } from 'node:fs';

/**
 * Entries in the kernel's IPVS connection table, counted from /proc/net/ip_vs_conn (one header line, then one
 * line per connection). The file of a busy director is many megabytes, and the sync part asks during a
 * preemption hold on the VRRP event loop: so it is streamed in 64 KiB chunks and only newlines are counted —
 * no whole-file string, no split, and the loop gets a turn between chunks.
 */
export async function countIpvsConnections(path = '/proc/net/ip_vs_conn'): Promise<number> {
  let lines = 0;
  let lastByte = 0x0a;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1] ?? 0x0a;
  }
  if (lastByte !== 0x0a) lines++; // a last line without its newline still counts
  return Math.max(0, lines - 1); // minus the header line
}
