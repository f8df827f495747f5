import type { ConfigModel, ScriptCommand } from '../config/model.js';

/** A script of the config (VRRP or health checks) and how an operator names it. */
export interface NamedScript {
  readonly what: string;
  readonly command: ScriptCommand;
}

/** Every script of the config, named as an operator reads it. */
export function scriptsOf(model: ConfigModel): NamedScript[] {
  const out: NamedScript[] = [];
  const hooks = (owner: string, h: Partial<Record<'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify', ScriptCommand | undefined>>): void => {
    const names = { notifyMaster: 'notify_master', notifyBackup: 'notify_backup', notifyFault: 'notify_fault', notifyStop: 'notify_stop', notify: 'notify' } as const;
    for (const key of Object.keys(names) as (keyof typeof names)[]) {
      const command = h[key];
      if (command) out.push({ what: `${owner} ${names[key]}`, command });
    }
  };
  const fifos = { notify_fifo_script: model.global.notifyFifo, vrrp_notify_fifo_script: model.global.vrrpNotifyFifo, lvs_notify_fifo_script: model.global.lvsNotifyFifo };
  for (const [what, fifo] of Object.entries(fifos)) if (fifo?.script) out.push({ what, command: fifo.script });
  for (const s of model.vrrpScripts) out.push({ what: `vrrp_script ${s.name}`, command: s.script });
  for (const i of model.vrrpInstances) hooks(`vrrp_instance ${i.name}`, i);
  for (const g of model.vrrpSyncGroups) hooks(`vrrp_sync_group ${g.name}`, g);
  for (const vs of model.virtualServers) {
    if (vs.quorumUp) out.push({ what: 'quorum_up', command: vs.quorumUp });
    if (vs.quorumDown) out.push({ what: 'quorum_down', command: vs.quorumDown });
    for (const rs of vs.realServers) {
      if (rs.notifyUp) out.push({ what: 'notify_up', command: rs.notifyUp });
      if (rs.notifyDown) out.push({ what: 'notify_down', command: rs.notifyDown });
      for (const c of rs.checkers) if (c.type === 'MISC_CHECK') out.push({ what: 'MISC_CHECK misc_path', command: c.script });
    }
  }
  return out;
}
