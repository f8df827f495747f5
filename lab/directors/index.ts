import type { DirectorSoftware, DirectorSoftwareName } from './director.js';
import { keepalivedDirector } from './keepalived.js';
import { tslvsdDirector } from './tslvsd.js';
import { tslvsdVrrpDirector } from './tslvsd-vrrp.js';

export const DIRECTORS: Record<DirectorSoftwareName, DirectorSoftware> = {
  keepalived: keepalivedDirector,
  tslvsd: tslvsdDirector,
  'tslvsd-vrrp': tslvsdVrrpDirector,
};

export function isDirectorName(s: string): s is DirectorSoftwareName {
  return s === 'keepalived' || s === 'tslvsd' || s === 'tslvsd-vrrp';
}
