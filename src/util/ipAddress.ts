/**
 * The one IP address text ⇄ bytes module: every room writes addresses the same way, so they compare as
 * strings. IPv4 is the dotted quad; IPv6 is RFC 5952 (lower case, leading zeros dropped, the longest run of
 * two or more zero groups — leftmost on ties — as `::`, an IPv4-mapped address as `::ffff:a.b.c.d`).
 * Pure: no node:net (the cores use it too).
 */

/** Dotted quad, four decimal parts of 1-3 digits each up to 255; one pass, no regex (every request parses one). */
export function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      if (++digits > 3) return undefined;
      continue;
    }
    if (c !== 46 || digits === 0 || value > 255 || part > 3) return undefined;
    out[part++] = value;
    value = 0;
    digits = 0;
  }
  return part === 4 ? out : undefined;
}

/** Eight groups (`::` once at most), an embedded IPv4 tail allowed; no zone (`%eth0`). */
export function parseIpv6(s: string): Uint8Array | undefined {
  if (s.includes('%')) return undefined;
  let tail4: Uint8Array | undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i]!)) return undefined;
    const g = parseInt(all[i]!, 16);
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** 4 bytes for IPv4, 16 for IPv6; undefined when the text is neither. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `offset`. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  // §5: an IPv4-mapped address keeps its IPv4 part dotted.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  // §4.2: compress the longest run (leftmost on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Text of 4 (IPv4) or 16 (IPv6) address bytes. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  if (bytes.length === 16) return formatIpv6(bytes);
  throw new RangeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
}

/** The canonical text of an address; text that is not an address is returned as it is. */
export function canonicalIp(text: string): string {
  const bytes = parseIp(text);
  return bytes ? formatIp(bytes) : text;
}

/**
 * Every address from `first` to `last` (a virtual_server_group range), stepping as a big-endian integer,
 * at most `max` of them; canonical text. Addresses of two families give `first` alone.
 */
export function addressRange(first: string, last: string, max: number): string[] {
  const a = parseIp(first);
  const b = parseIp(last);
  if (!a || !b || a.length !== b.length) return [canonicalIp(first)];
  const out: string[] = [];
  const cur = Uint8Array.from(a);
  for (let i = 0; i < max && compareBytes(cur, b) <= 0; i++) {
    out.push(formatIp(cur));
    let k = cur.length - 1;
    while (k >= 0 && cur[k] === 255) cur[k--] = 0;
    if (k < 0) break;
    cur[k]!++;
  }
  return out;
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
