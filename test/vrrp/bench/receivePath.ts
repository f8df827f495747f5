/**
 * Receive-path cost of the VRRP core: how many packets per second one core can decode, validate and feed
 * to the state machine — the budget a flood at the raw socket eats before anything else suffers.
 *   npx tsx test/vrrp/bench/receivePath.ts
 */
import { FakeClock } from '../../../src/util/clock.js';
import { AUTH_PASS, encodeAdvert, passwordAuthData, type VrrpAdvert } from '../../../src/vrrp/codec/advertCodec.js';
import { encodeIpv4Header } from '../../../src/vrrp/codec/ipv4Header.js';
import { ReceiveDispatcher, ReceiveValidator } from '../../../src/vrrp/core/receiveValidator.js';
import { VRRP_SPEC_DEFAULTS, VrrpStateMachine } from '../../../src/vrrp/core/vrrpStateMachine.js';

const advert: VrrpAdvert = {
  version: 2, vrid: 51, priority: 150, addresses: ['10.99.0.200'], advertInt: 1, maxAdvertIntCs: 100,
  authType: AUTH_PASS, authData: passwordAuthData('secret1'),
};
const payload = encodeAdvert(advert, { srcIp: '10.99.0.2', dstIp: '224.0.0.18' });
const valid = Buffer.concat([
  encodeIpv4Header({ srcIp: '10.99.0.2', dstIp: '224.0.0.18', protocol: 112, payloadLength: payload.length }),
  payload,
]);
let seed = 1;
const garbage = Array.from({ length: 1024 }, () => {
  const b = Buffer.from(valid);
  for (let i = 0; i < 3; i++) b[(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % b.length] ^= 0xff;
  return b;
});

const clock = new FakeClock();
const machine = new VrrpStateMachine(
  { ...VRRP_SPEC_DEFAULTS, name: 'bench', vrid: 51, primaryIp: '10.99.0.1' },
  clock,
  { sendAdvert() {}, addVips() {}, removeVips() {}, sendGratuitousArp() {}, onTransition() {} },
);
machine.start();
const validator = new ReceiveValidator({
  vrid: 51, version: 2, advertIntervalMs: 1000, authType: AUTH_PASS, authData: passwordAuthData('secret1'),
  virtualAddresses: ['10.99.0.200'], unicastPeers: [], ownAddresses: ['10.99.0.1'],
});
const dispatcher = new ReceiveDispatcher<{ validator: ReceiveValidator }>();
dispatcher.set(51, { validator });

function rate(name: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < 10_000; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`${name.padEnd(48)} ${(n / (ns / 1e9) / 1e6).toFixed(2)} M/s  (${(ns / n).toFixed(0)} ns each)`);
}

rate('valid packet: dispatch + validate + state machine', 1_000_000, () => {
  const r = dispatcher.dispatch(valid);
  if (r.delivered && r.verdict.verdict === 'accept') machine.receiveAdvert(r.verdict.advert, r.verdict.srcIp);
});
rate('corrupted packet (3 flipped bytes): dispatch', 1_000_000, (i) => {
  dispatcher.dispatch(garbage[i & 1023]);
});
rate('encodeAdvert (v2, 1 VIP)', 1_000_000, () => {
  encodeAdvert(advert, { srcIp: '10.99.0.1', dstIp: '224.0.0.18' });
});
console.log(`node ${process.version}; state ${machine.state}; counters ${JSON.stringify(validator.counters)}`);
