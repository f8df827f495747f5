import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Diagnostic, SourcePosition } from '../config/diagnostics.js';
import type { ConfigModel } from '../config/model.js';
import { scriptsOf } from './configScripts.js';
import { resolveScriptRunAs, type RunAs } from './runAs.js';
import { isExecutable, needsProtection, pathProblem, type InodeStat, type PathStep } from './scriptSecurity.js';
import { daemonIds, systemUserDatabase, type UserDatabase } from './userDatabase.js';

/**
 * The checks of a compiled config that need the host — who each script runs as (/etc/passwd,
 * /etc/group) and whether its file and every directory above it are safe (keepalived's
 * enable_script_security) — run by `tslvsd -t`, at start and at every reload, after the pure compiler.
 * The host is behind `ScriptHost`, so the logic is tested with a fake one; `nodeScriptHost()` is the edge.
 *
 * Like keepalived: a user or group that does not exist refuses the config (keepalived drops the script;
 * tslvsd never runs it as someone else); with `enable_script_security`, a script that would run as root
 * (uid or gid 0, or a setuid/setgid-root file) and that a non-root user could replace is refused, and
 * so is a script with no user at all when no `script_user` is set and `keepalived_script` does not exist
 * (keepalived: "Unable to set default user keepalived_script"); without it, the same is a warning, and
 * scripts running as root get keepalived's "SECURITY VIOLATION" warning. A script that is missing or not
 * executable is a warning (keepalived disables it; tslvsd keeps it, and it fails each time it runs).
 */
export interface ScriptHost {
  readonly users: UserDatabase;
  /** The daemon's own ids: who runs a script nobody gave a user. */
  readonly daemon: RunAs;
  readonly cwd: string;
  /** $PATH, for a bare program name (keepalived searches it too, and warns). */
  readonly searchPath: readonly string[];
  /** lstat (symlinks not followed); a string = why it could not be read. */
  lstat(file: string): InodeStat | string;
  /** stat (symlinks followed). */
  stat(file: string): InodeStat | string;
  realpath(file: string): string | { error: string };
}

/** Each `/`-prefix of an absolute path, `/` first. */
function prefixes(absolute: string): string[] {
  const parts = absolute.split('/').filter(Boolean);
  const out = ['/'];
  for (let i = 1; i <= parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

function stepsOf(absolute: string, host: ScriptHost): PathStep[] | string {
  const steps: PathStep[] = [];
  for (const p of prefixes(absolute)) {
    const stat = host.lstat(p);
    if (typeof stat === 'string') return `${p}: ${stat}`;
    steps.push({ path: p, stat });
  }
  return steps;
}

/** A bare name through $PATH, as execvp (and keepalived's find_path) would find it. */
function searchPath(name: string, runAs: RunAs, host: ScriptHost): string | undefined {
  for (const dir of host.searchPath) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    const stat = host.stat(candidate);
    if (typeof stat !== 'string' && stat.kind === 'file' && isExecutable(stat, runAs)) return candidate;
  }
  return undefined;
}

/** What the file of one script, run with one identity, tells (the same for every script naming it). */
interface FileVerdict {
  readonly findings: readonly { readonly severity: Diagnostic['severity']; readonly text: string }[];
  /** It runs privileged (uid/gid 0, or a setuid/setgid-root file). */
  readonly privileged: boolean;
  readonly unsafe: boolean;
}

function fileVerdict(program: string, runAs: RunAs, secure: boolean, host: ScriptHost): FileVerdict {
  const findings: { severity: Diagnostic['severity']; text: string }[] = [];
  const done = (privileged = false, unsafe = false): FileVerdict => ({ findings, privileged, unsafe });
  if (!program.includes('/')) {
    const found = searchPath(program, runAs, host);
    if (!found) {
      findings.push({ severity: 'warning', text: `'${program}' is not found in PATH (it fails each time it runs; keepalived disables it)` });
      return done();
    }
    findings.push({ severity: 'warning', text: `'${program}' resolved by PATH search to ${found}; give the full path` });
    program = found;
  }
  const lexical = path.resolve(host.cwd, program);
  const real = host.realpath(lexical);
  if (typeof real !== 'string') {
    findings.push({ severity: 'warning', text: `${lexical}: ${real.error} (it fails each time it runs; keepalived disables it)` });
    return done();
  }
  const file = host.stat(real);
  if (typeof file === 'string' || file.kind !== 'file') {
    findings.push({ severity: 'warning', text: `${real} is not a regular file` });
    return done();
  }
  if (!isExecutable(file, runAs)) {
    findings.push({ severity: 'warning', text: `${real} is not executable for uid ${runAs.uid} gid ${runAs.gid} (it fails each time it runs; keepalived disables it)` });
    return done();
  }
  if (!needsProtection(file, runAs)) return done();
  // The file that runs (every directory of its real path) and the path as written (its symlinks could
  // be re-pointed): a non-root user must be able to change neither.
  let problem: string | undefined;
  for (const p of real === lexical ? [real] : [lexical, real]) {
    const steps = stepsOf(p, host);
    problem = typeof steps === 'string' ? steps : pathProblem(steps);
    if (problem) break;
  }
  if (!problem) return done(true);
  findings.push(secure
    ? { severity: 'error', text: `unsafe to run as uid ${runAs.uid} gid ${runAs.gid}: ${problem} (enable_script_security refuses it, as keepalived)` }
    : { severity: 'warning', text: `unsafe permissions: ${problem} (enable_script_security would refuse it)` });
  return done(true, true);
}

export function checkScripts(model: ConfigModel, host: ScriptHost): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (loc: SourcePosition, severity: Diagnostic['severity'], message: string): void => {
    out.push({ severity, file: loc.file, line: loc.line, message });
  };
  const secure = model.global.enableScriptSecurity;
  // Thousands of MISC_CHECKs usually name a handful of files: each file is judged once per identity.
  const verdicts = new Map<string, FileVerdict>();
  let firstRootScript: { loc: SourcePosition; count: number; insecure: number } | undefined;

  for (const { what, command } of scriptsOf(model)) {
    const loc = command.loc;
    const identity = resolveScriptRunAs(command, model.global.scriptUser, host.users, host.daemon);
    if (!identity.ok) {
      at(loc, 'error', `${what}: ${identity.error} (the script would not run; keepalived drops it)`);
      continue;
    }
    const runAs = identity.runAs;
    const written = command.user ?? (identity.source === 'script_user' ? model.global.scriptUser?.user : undefined);
    if (written !== undefined && /^\d+$/.test(written) && !host.users.userByName(written)) {
      at(loc, 'warning', `${what}: numeric user '${written}' runs as uid ${runAs.uid} gid ${runAs.gid} (keepalived 2.2.7 refuses a user that is not a name)`);
    }
    if (secure && identity.source === 'daemon') {
      at(loc, 'error', `${what}: enable_script_security is set but neither script_user nor the user 'keepalived_script' exists, so it would run as the daemon's user (uid ${runAs.uid}); set script_user (root is allowed: its scripts are then checked)`);
      continue;
    }
    const program = command.argv[0]!;
    const key = `${runAs.uid}:${runAs.gid}:${program}`;
    let verdict = verdicts.get(key);
    if (!verdict) verdicts.set(key, (verdict = fileVerdict(program, runAs, secure, host)));
    for (const f of verdict.findings) at(loc, f.severity, `${what}: ${f.text}`);
    if (!verdict.privileged) continue;
    if (firstRootScript) firstRootScript.count++;
    else firstRootScript = { loc, count: 1, insecure: 0 };
    if (verdict.unsafe) firstRootScript.insecure++;
  }
  if (!secure && firstRootScript) {
    const { loc, count, insecure } = firstRootScript;
    at(loc, 'warning', `${count} script(s) run as root but enable_script_security is not set${insecure ? `, ${insecure} of them unsafe` : ''} (keepalived: SECURITY VIOLATION - scripts are being executed but script_security not enabled)`);
  }
  return out;
}

function inode(s: Stats): InodeStat {
  const kind = s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  return { kind, uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 };
}

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'no such file or directory' : e.code ?? e.message;
}

/** The real host: the system user database, the daemon's ids, the filesystem. */
export function nodeScriptHost(): ScriptHost {
  return {
    users: systemUserDatabase(),
    daemon: daemonIds(),
    cwd: process.cwd(),
    searchPath: (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':'),
    lstat: (file) => {
      try {
        return inode(lstatSync(file));
      } catch (err) {
        return why(err);
      }
    },
    stat: (file) => {
      try {
        return inode(statSync(file));
      } catch (err) {
        return why(err);
      }
    },
    realpath: (file) => {
      try {
        return realpathSync(file);
      } catch (err) {
        return { error: why(err) };
      }
    },
  };
}

/** checkScripts on this host (src/daemon/hostChecks.ts adds the other rooms' host checks). */
export function checkScriptsOnHost(model: ConfigModel): Diagnostic[] {
  return checkScripts(model, nodeScriptHost());
}
