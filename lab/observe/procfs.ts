// Parsers for /proc/<pid>/net files, the cheap way to watch another namespace: reading a file costs nothing,
// starting `ip` or `ipvsadm` costs ~250 ms of the emulated VM's single CPU (which the daemons under test
// need). Pure.

/** Local IPv4 addresses from /proc/net/fib_trie (`|-- A.B.C.D` followed by `/32 host LOCAL`). */
export function localAddresses(fibTrie: string): Set<string> {
  const out = new Set<string>();
  let leaf: string | undefined;
  for (const line of fibTrie.split('\n')) {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (m) {
      leaf = m[1];
      continue;
    }
    if (leaf && /\/32 host LOCAL/.test(line)) out.add(leaf);
  }
  return out;
}

/** The hardware address of a complete /proc/net/arp entry for `ip`. */
export function arpEntry(arp: string, ip: string): string | undefined {
  for (const line of arp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[0] === ip && f[2] === '0x2') return f[3]?.toLowerCase();
  }
  return undefined;
}

/** Whether /proc/net/tcp (or tcp6) has a socket listening on `port`. */
export function listensOn(tcp: string, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return tcp.split('\n').slice(1).some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1]?.endsWith(`:${hexPort}`) === true && f[3] === '0A';
  });
}
