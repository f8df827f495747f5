import { readFileSync } from 'node:fs';
import type { UserResolver } from './fromConfig.js';

function lookup(file: string, name: string): string[] | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === name) return fields;
    }
  } catch {
    // No such database: unresolved.
  }
  return undefined;
}

/**
 * script_user names → numeric ids from /etc/passwd and /etc/group (Node has no getpwnam). Numeric names
 * are taken as ids. Unknown users resolve to undefined: the script then runs as the daemon's user, and
 * the config side has already warned.
 */
export const systemUserResolver: UserResolver = (user, group) => {
  const pw = /^\d+$/.test(user) ? ['', '', user, user] : lookup('/etc/passwd', user);
  if (!pw) return undefined;
  const uid = Number(pw[2]);
  let gid = Number(pw[3]);
  if (group !== undefined) {
    const gr = /^\d+$/.test(group) ? ['', '', group] : lookup('/etc/group', group);
    if (gr) gid = Number(gr[2]);
  }
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
};
