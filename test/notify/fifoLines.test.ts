import { describe, expect, it } from 'vitest';
import { realServerFifoLine, virtualServerFifoLine, vrrpFifoLine } from '../../src/notify/fifoLines.js';

// The expected strings are keepalived 2.2.7's snprintf formats applied by hand (vrrp_notify.c notify_fifo,
// ipwrapper.c notify_fifo_vs/rs, check_data.c format_vs/format_rs, utils.c inet_sockaddrtotrio_r).
describe('notify FIFO lines (keepalived 2.2.7 formats)', () => {
  it('INSTANCE and GROUP lines: quoted name, state, priority; a group always says 0', () => {
    expect(vrrpFifoLine({ type: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 150 })).toBe('INSTANCE "VI_1" MASTER 150\n');
    expect(vrrpFifoLine({ type: 'INSTANCE', name: 'VI_1', state: 'STOP', priority: 0 })).toBe('INSTANCE "VI_1" STOP 0\n');
    expect(vrrpFifoLine({ type: 'GROUP', name: 'G1', state: 'FAULT', priority: 100 })).toBe('GROUP "G1" FAULT 0\n');
    expect(vrrpFifoLine({ type: 'INSTANCE', name: 'a b', state: 'BACKUP_PRIORITY', priority: 90 })).toBe('INSTANCE "a b" BACKUP_PRIORITY 90\n');
  });

  it('VS lines: [addr]:proto:port, FWM N, [group]:0', () => {
    expect(virtualServerFifoLine({ address: '10.0.0.1', port: 80, protocol: 'TCP' }, true)).toBe('VS [10.0.0.1]:tcp:80 UP\n');
    expect(virtualServerFifoLine({ address: '2001:db8::1', port: 53, protocol: 'UDP' }, false)).toBe('VS [2001:db8::1]:udp:53 DOWN\n');
    expect(virtualServerFifoLine({ fwmark: 7, protocol: 'TCP' }, true)).toBe('VS FWM 7 UP\n');
    expect(virtualServerFifoLine({ group: 'web', protocol: 'TCP' }, true)).toBe('VS [web]:0 UP\n');
    expect(virtualServerFifoLine({ address: '10.0.0.1', port: 443, protocol: 'SCTP' }, true)).toBe('VS [10.0.0.1]:sctp:443 UP\n');
  });

  it('RS lines: the real server with the service protocol, then the VS, then UP/DOWN', () => {
    const vs = { address: '10.0.0.1', port: 80, protocol: 'TCP' } as const;
    expect(realServerFifoLine({ address: '192.168.1.2', port: 8080 }, vs, false)).toBe('RS [192.168.1.2]:tcp:8080 [10.0.0.1]:tcp:80 DOWN\n');
    expect(realServerFifoLine({ address: '192.168.1.2', port: 8080 }, vs, true)).toBe('RS [192.168.1.2]:tcp:8080 [10.0.0.1]:tcp:80 UP\n');
    expect(realServerFifoLine({ address: '192.168.1.3', port: 0 }, { fwmark: 3, protocol: 'UDP' }, true)).toBe('RS [192.168.1.3]:udp:0 FWM 3 UP\n');
  });
});
