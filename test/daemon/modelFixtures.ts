import type { Checker, ConfigModel, GlobalDefs, RealServer, VirtualIpAddress, VirtualServer, VrrpInstance } from '../../src/config/model.js';
import { defaultGlobalDefs } from '../../src/config/compiler/global.js';

/** Complete model objects for the daemon's pure tests, built by hand (the compiler has its own tests). */
let line = 1;
const loc = () => ({ file: '/etc/tslvsd.conf', line: line++ });

export function vip(address: string, over: Partial<VirtualIpAddress> = {}): VirtualIpAddress {
  return { loc: loc(), address, family: address.includes(':') ? 'inet6' : 'inet', prefixLength: 32, noPrefixRoute: false, ...over };
}

export function instance(over: Partial<VrrpInstance> = {}): VrrpInstance {
  return {
    loc: loc(),
    name: 'VI_1',
    interface: 'eth0',
    state: 'BACKUP',
    virtualRouterId: 51,
    priority: 100,
    advertInt: 1,
    version: 2,
    family: 'inet',
    virtualIpAddresses: [vip('10.0.0.100')],
    virtualIpAddressesExcluded: [],
    virtualRoutes: [],
    virtualRules: [],
    unicastPeers: [],
    nopreempt: false,
    preemptDelay: 0,
    garpMasterDelay: 5,
    garpMasterRepeat: 5,
    garpMasterRefresh: 0,
    garpMasterRefreshRepeat: 1,
    garpLowerPrioDelay: 5,
    garpLowerPrioRepeat: 5,
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [], trackProcesses: [],
    smtpAlert: false,
    accept: true,
    dontTrackPrimary: false,
    skipCheckAdvAddr: false,
    checkUnicastSrc: false,
    strictMode: false,
    useVmac: false,
    vmacXmitBase: false,
    useVmacAddr: false,
    ...over,
  };
}

export function tcpCheck(over: Partial<Extract<Checker, { type: 'TCP_CHECK' }>> = {}): Checker {
  return {
    type: 'TCP_CHECK',
    loc: loc(),
    connectIp: '192.168.1.10',
    connectPort: 80,
    connectTimeout: 3,
    retry: 1,
    delayBeforeRetry: 1,
    delayLoop: 6,
    warmup: 0,
    alpha: false,
    logAllFailures: false,
    ...over,
  };
}

export function realServer(address: string, over: Partial<RealServer> = {}): RealServer {
  return {
    loc: loc(),
    address,
    family: 'inet',
    port: 80,
    weight: 1,
    lbKind: 'DR',
    inhibitOnFailure: false,
    upperConnectionThreshold: 0,
    lowerConnectionThreshold: 0,
    delayLoop: 6,
    connectTimeout: 3,
    alpha: false,
    checkers: [tcpCheck({ connectIp: address })],
    ...over,
  };
}

export function virtualServer(over: Partial<VirtualServer> = {}): VirtualServer {
  return {
    loc: loc(),
    address: '10.0.0.100',
    port: 80,
    family: 'inet',
    protocol: 'TCP',
    lbAlgo: 'rr',
    lbKind: 'DR',
    schedulerFlags: [],
    ops: false,
    delayLoop: 6,
    connectTimeout: 3,
    quorum: 1,
    hysteresis: 0,
    alpha: false,
    omega: false,
    inhibitOnFailure: false,
    haSuspend: false,
    realServers: [realServer('192.168.1.10'), realServer('192.168.1.11')],
    ...over,
  };
}

/** keepalived's global defaults as the compiler produces them (one source of truth), with overrides. */
export function globalDefs(over: Partial<GlobalDefs> = {}): GlobalDefs {
  return { ...defaultGlobalDefs(loc().file), loc: loc(), ...over };
}

export function model(over: Partial<ConfigModel> = {}): ConfigModel {
  return {
    source: '/etc/tslvsd.conf',
    global: globalDefs(),
    vrrpScripts: [],
    trackFiles: [], trackProcesses: [],
    vrrpSyncGroups: [],
    vrrpInstances: [instance()],
    staticIpAddresses: [],
    staticRoutes: [],
    staticRules: [],
    virtualServerGroups: [],
    virtualServers: [virtualServer()],
    ...over,
  };
}

/** A deep copy with every `loc` line shifted: same config, different place in the file. */
export function relocated<T>(value: T, shift = 1000): T {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) =>
    key === 'loc' && v && typeof v === 'object' ? { ...(v as { file: string; line: number }), line: (v as { line: number }).line + shift } : v,
  ) as T;
}
