/**
 * Which processes a vrrp_track_process counts (pure: the edge reads /proc). keepalived 2.2.7
 * (vrrp/track_process.c): without parameters and without `full_command`, a process matches when its name
 * (/proc/PID/comm, the kernel's 15-byte task name) equals `process`; with `full_command`, or when the name is
 * longer than 15 bytes, argv[0] of /proc/PID/cmdline must equal it. With parameters, argv[1..] is compared
 * by `param_match`: exact (the same list), initial (the given ones are a prefix), partial (they appear as
 * a contiguous run anywhere).
 */

/** The kernel's TASK_COMM_LEN − 1. */
export const COMM_MAX = 15;

export type ParamMatch = 'exact' | 'initial' | 'partial';

export interface ProcessPattern {
  /** `process NAME_OR_PATH`: the first word. */
  process: string;
  /** `process NAME ARG…`: the words after it (empty = any arguments). */
  params: readonly string[];
  paramMatch: ParamMatch;
  fullCommand: boolean;
}

export interface ProcessSample {
  /** /proc/PID/comm without its newline. */
  comm: string;
  /** /proc/PID/cmdline split at NUL (empty for kernel threads). */
  argv: readonly string[];
}

/** Whether the pattern needs /proc/PID/cmdline (comm alone is cheaper). */
export function needsCmdline(p: ProcessPattern): boolean {
  return p.fullCommand || p.params.length > 0 || Buffer.byteLength(p.process) > COMM_MAX;
}

export function matchesProcess(p: ProcessPattern, s: ProcessSample): boolean {
  if (needsCmdline(p) && (p.fullCommand || Buffer.byteLength(p.process) > COMM_MAX)) {
    if (s.argv[0] !== p.process) return false;
  } else if (s.comm !== p.process) return false;
  if (p.params.length === 0) return true;
  const args = s.argv.slice(1);
  switch (p.paramMatch) {
    case 'exact':
      return args.length === p.params.length && p.params.every((a, i) => args[i] === a);
    case 'initial':
      return args.length >= p.params.length && p.params.every((a, i) => args[i] === a);
    case 'partial':
      for (let start = 0; start + p.params.length <= args.length; start++) {
        if (p.params.every((a, i) => args[start + i] === a)) return true;
      }
      return false;
  }
}
