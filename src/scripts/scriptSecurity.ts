import type { RunAs } from './runAs.js';

/**
 * keepalived's script security rules (lib/notify.c: is_executable, check_script_secure, check_security),
 * as pure functions over stat results, so they are tested without a filesystem. The edge that stats the
 * files is hostChecks.ts.
 */
export type InodeKind = 'dir' | 'file' | 'symlink' | 'other';

export interface InodeStat {
  readonly kind: InodeKind;
  readonly uid: number;
  readonly gid: number;
  /** st_mode permission bits, with setuid 0o4000, setgid 0o2000, sticky 0o1000. */
  readonly mode: number;
}

/** One step of a path, from `/` down to the script itself. */
export interface PathStep {
  readonly path: string;
  readonly stat: InodeStat;
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_IXUSR = 0o100;
const S_IXGRP = 0o010;
const S_IXOTH = 0o001;

/** keepalived's is_executable(): may `uid:gid` execute this file (root: any x bit). */
export function isExecutable(file: InodeStat, runAs: RunAs): boolean {
  const { mode } = file;
  if (runAs.uid === 0) return (mode & (S_IXUSR | S_IXGRP | S_IXOTH)) !== 0;
  if (runAs.uid === file.uid) return (mode & S_IXUSR) !== 0;
  if (runAs.gid === file.gid) return (mode & S_IXGRP) !== 0;
  return (mode & S_IXOTH) !== 0;
}

/**
 * Does the path need to be safe from non-root writers? keepalived: when the script runs with uid 0 or
 * gid 0, or is a setuid-root / setgid-root executable (it would run privileged whoever starts it).
 */
export function needsProtection(file: InodeStat, runAs: RunAs): boolean {
  return runAs.uid === 0
    || runAs.gid === 0
    || (file.uid === 0 && (file.mode & S_IXUSR) !== 0 && (file.mode & S_ISUID) !== 0)
    || (file.gid === 0 && (file.mode & S_IXGRP) !== 0 && (file.mode & S_ISGID) !== 0);
}

/**
 * Why one step makes the path unsafe, or undefined when it is safe (keepalived's check_security): every
 * step must be owned by root; a directory without the sticky bit, and the file itself, must not be
 * writable by a group other than root's nor by everyone. A symlink is judged by its owner only (its own
 * mode bits mean nothing); the steps before the last must be directories (or, on the path as written,
 * root-owned symlinks to them).
 */
export function stepProblem(step: PathStep, last: boolean): string | undefined {
  const { stat } = step;
  if (!last && stat.kind !== 'dir' && stat.kind !== 'symlink') return `${step.path} is not a directory`;
  if (last && stat.kind !== 'file' && stat.kind !== 'symlink') return `${step.path} is not a regular file`;
  if (stat.uid !== 0) return `${step.path} is owned by uid ${stat.uid}, not root`;
  const judged = stat.kind === 'file' || (stat.kind === 'dir' && (stat.mode & S_ISVTX) === 0);
  if (judged && (stat.mode & S_IWOTH) !== 0) return `${step.path} is writable by everyone (mode ${octal(stat.mode)})`;
  if (judged && stat.gid !== 0 && (stat.mode & S_IWGRP) !== 0) return `${step.path} is writable by group ${stat.gid} (mode ${octal(stat.mode)})`;
  return undefined;
}

/** The first problem along a path (`/` … script), or undefined when a non-root user can change none of it. */
export function pathProblem(steps: readonly PathStep[]): string | undefined {
  for (let i = 0; i < steps.length; i++) {
    const problem = stepProblem(steps[i]!, i === steps.length - 1);
    if (problem) return problem;
  }
  return undefined;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
