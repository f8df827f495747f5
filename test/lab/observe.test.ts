import { describe, expect, it } from 'vitest';
import { parseIpvsadmList } from '../../lab/observe/ipvsadm.js';
import { arpEntry, listensOn, localAddresses } from '../../lab/observe/procfs.js';

describe('ipvsadm -Ln and /proc/net/ip_vs', () => {
  const expected = [{ protocol: 'TCP', address: '10.10.0.100', port: 80, scheduler: 'wrr', reals: [
    { address: '10.20.0.11', port: 80, forward: 'Masq', weight: 2 },
    { address: '10.20.0.12', port: 80, forward: 'Masq', weight: 0 },
  ] }];
  it('parses ipvsadm -Ln', () => {
    const text = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.10.0.100:80 wrr
  -> 10.20.0.11:80                Masq    2      0          3
  -> 10.20.0.12:80                Masq    0      0          0
`;
    expect(parseIpvsadmList(text)).toEqual(expected);
  });
  it('parses the hex layout of /proc/net/ip_vs to the same result', () => {
    const text = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A0A0064:0050 wrr 
  -> 0A14000B:0050      Masq    2      0          3         
  -> 0A14000C:0050      Masq    0      0          0         
`;
    expect(parseIpvsadmList(text)).toEqual(expected);
  });
  it('ignores garbage and empty tables', () => {
    expect(parseIpvsadmList('')).toEqual([]);
    expect(parseIpvsadmList('  -> 1.2.3.4:80 Route 1 0 0\nTCP nonsense\n')).toEqual([]);
  });
});

describe('/proc/net parsers', () => {
  it('local addresses from fib_trie', () => {
    const trie = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.10.0.0
        /24 link UNICAST
     |-- 10.10.0.2
        /32 host LOCAL
     |-- 10.10.0.100
        /32 host LOCAL
     |-- 10.10.0.255
        /32 link BROADCAST
`;
    expect([...localAddresses(trie)].sort()).toEqual(['10.10.0.100', '10.10.0.2']);
  });
  it('complete ARP entries only', () => {
    const arp = `IP address       HW type     Flags       HW address            Mask     Device
10.10.0.100      0x1         0x2         AA:bb:cc:dd:ee:ff     *        eth0
10.10.0.3        0x1         0x0         00:00:00:00:00:00     *        eth0
`;
    expect(arpEntry(arp, '10.10.0.100')).toBe('aa:bb:cc:dd:ee:ff');
    expect(arpEntry(arp, '10.10.0.3')).toBeUndefined();
  });
  it('listening sockets from tcp/tcp6', () => {
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
`;
    expect(listensOn(tcp6, 80)).toBe(true);
    expect(listensOn(tcp6, 8080)).toBe(false);
    expect(listensOn(tcp6.replace(' 0A ', ' 01 '), 80)).toBe(false);
  });
});
