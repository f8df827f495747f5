/**
 * keepalived.conf text for the VRRP scenarios: the same file is read by keepalived and by tslvsd, so the
 * two are configured identically by construction.
 */
export interface VrrpScenario {
  routerId: string;
  instance?: string;
  interface?: string;
  vrid?: number;
  priority: number;
  state?: 'MASTER' | 'BACKUP';
  advertInt?: number;
  version?: 2 | 3;
  password?: string;
  vips: string[];
  nopreempt?: boolean;
  preemptDelay?: number;
  unicastSrc?: string;
  unicastPeers?: string[];
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  notify?: string[];
  trackInterfaces?: string[];
  trackScript?: { name: string; argv: string[]; interval: number; weight: number; rise?: number; fall?: number };
  /** Extra lines inside the instance block. */
  extra?: string[];
}

function quote(argv: string[]): string {
  return `"${argv.join(' ')}"`;
}

export function keepalivedConf(s: VrrpScenario): string {
  const lines: string[] = [];
  lines.push('global_defs {', `  router_id ${s.routerId}`, '  script_user root', '  enable_script_security', '}');
  if (s.trackScript) {
    const t = s.trackScript;
    lines.push(`vrrp_script ${t.name} {`, `  script ${quote(t.argv)}`, `  interval ${t.interval}`, `  weight ${t.weight}`);
    if (t.rise) lines.push(`  rise ${t.rise}`);
    if (t.fall) lines.push(`  fall ${t.fall}`);
    lines.push('}');
  }
  lines.push(`vrrp_instance ${s.instance ?? 'VI_1'} {`);
  lines.push(`  state ${s.state ?? 'BACKUP'}`);
  lines.push(`  interface ${s.interface ?? 'eth0'}`);
  lines.push(`  virtual_router_id ${s.vrid ?? 51}`);
  lines.push(`  priority ${s.priority}`);
  lines.push(`  advert_int ${s.advertInt ?? 1}`);
  if (s.version) lines.push(`  version ${s.version}`);
  if (s.nopreempt) lines.push('  nopreempt');
  if (s.preemptDelay) lines.push(`  preempt_delay ${s.preemptDelay}`);
  if (s.garpMasterDelay !== undefined) lines.push(`  garp_master_delay ${s.garpMasterDelay}`);
  if (s.garpMasterRepeat !== undefined) lines.push(`  garp_master_repeat ${s.garpMasterRepeat}`);
  if (s.password) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${s.password}`, '  }');
  lines.push('  virtual_ipaddress {', ...s.vips.map((v) => `    ${v}`), '  }');
  if (s.unicastSrc) lines.push(`  unicast_src_ip ${s.unicastSrc}`);
  if (s.unicastPeers) lines.push('  unicast_peer {', ...s.unicastPeers.map((p) => `    ${p}`), '  }');
  if (s.trackInterfaces) lines.push('  track_interface {', ...s.trackInterfaces.map((i) => `    ${i}`), '  }');
  if (s.trackScript) lines.push('  track_script {', `    ${s.trackScript.name}`, '  }');
  if (s.notify) lines.push(`  notify ${quote(s.notify)}`);
  lines.push(...(s.extra ?? []).map((l) => `  ${l}`));
  lines.push('}');
  return lines.join('\n') + '\n';
}
