import { readFileSync, statSync } from 'node:fs';

/**
 * The one reader of /etc/passwd and /etc/group (Node has no getpwnam), used by the VRRP and the
 * health-check sides alike, by `-t` and by the runtime: two readers would disagree on what a user is.
 * Parsing is pure (`parseUserDatabase`); `systemUserDatabase()` is the edge that reads the files, again
 * only when one of them changed.
 */
export interface UserEntry {
  readonly name: string;
  readonly uid: number;
  /** The primary group. */
  readonly gid: number;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
}

export interface UserDatabase {
  userByName(name: string): UserEntry | undefined;
  userById(uid: number): UserEntry | undefined;
  groupByName(name: string): GroupEntry | undefined;
}

const ID = /^\d{1,10}$/;

function records(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    // NIS compat lines (`+`, `-`) are not entries of their own.
    if (!line || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    out.push(line.split(':'));
  }
  return out;
}

/** passwd(5) and group(5) text → a database. Malformed lines are skipped; the first entry of a name wins, as getpwnam. */
export function parseUserDatabase(passwd: string, group: string): UserDatabase {
  const usersByName = new Map<string, UserEntry>();
  const usersById = new Map<number, UserEntry>();
  for (const f of records(passwd)) {
    const [name, , uid, gid] = f;
    if (!name || uid === undefined || gid === undefined || !ID.test(uid) || !ID.test(gid)) continue;
    const entry: UserEntry = { name, uid: Number(uid), gid: Number(gid) };
    if (!usersByName.has(name)) usersByName.set(name, entry);
    if (!usersById.has(entry.uid)) usersById.set(entry.uid, entry);
  }
  const groups = new Map<string, GroupEntry>();
  for (const f of records(group)) {
    const [name, , gid] = f;
    if (!name || gid === undefined || !ID.test(gid) || groups.has(name)) continue;
    groups.set(name, { name, gid: Number(gid) });
  }
  return {
    userByName: (name) => usersByName.get(name),
    userById: (uid) => usersById.get(uid),
    groupByName: (name) => groups.get(name),
  };
}

export interface UserDatabaseFiles {
  readonly passwd: string;
  readonly group: string;
}

const SYSTEM_FILES: UserDatabaseFiles = { passwd: '/etc/passwd', group: '/etc/group' };

let cached: { key: string; db: UserDatabase } | undefined;

function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // No such database: nobody resolves from it.
    return '';
  }
}

/** The host's database, re-read only when /etc/passwd or /etc/group changed (scripts run every second). */
export function systemUserDatabase(files: UserDatabaseFiles = SYSTEM_FILES): UserDatabase {
  const key = `${files.passwd}=${stamp(files.passwd)} ${files.group}=${stamp(files.group)}`;
  if (cached?.key !== key) cached = { key, db: parseUserDatabase(readOrEmpty(files.passwd), readOrEmpty(files.group)) };
  return cached.db;
}

/** The daemon's own effective ids (root in production): who runs a script nobody gave a user. */
export function daemonIds(): { uid: number; gid: number } {
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
}
