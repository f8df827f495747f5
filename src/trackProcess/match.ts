/**
 * Which processes a vrrp_track_process counts (pure: the edge reads /proc), as keepalived 2.2.7
 * (core/track_process.c check_params, vrrp/vrrp_parser.c): without `full_command` the name is compared with
 * /proc/PID/comm (the kernel's 15-byte task name); with it — implied by parameters or `param_match` — with
 * argv[0]. Parameters, as NUL-separated blocks: `any` (no parameters and no param_match: whatever the
 * arguments), `exact` (the same arguments; none given = none allowed), `partial` (the process's arguments
 * begin with the given words), `initial` (they begin with the given text: the last word may be cut short).
 * tslvsd compares a name longer than 15 bytes with argv[0] too, where keepalived's comm match never succeeds.
 */

/** The kernel's TASK_COMM_LEN − 1. */
export const COMM_MAX = 15;

export type ParamMatch = 'any' | 'exact' | 'initial' | 'partial';

export interface ProcessPattern {
  /** `process NAME_OR_PATH`: the first word. */
  process: string;
  /** `process NAME ARG…`: the words after it. */
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

function comparesArgv0(p: ProcessPattern): boolean {
  return p.fullCommand || Buffer.byteLength(p.process) > COMM_MAX;
}

/** Whether the pattern needs /proc/PID/cmdline (comm alone is cheaper). */
export function needsCmdline(p: ProcessPattern): boolean {
  return comparesArgv0(p) || p.paramMatch !== 'any';
}

/** keepalived's check_params on the NUL-terminated argument blocks. */
function paramsMatch(p: ProcessPattern, args: readonly string[]): boolean {
  if (p.paramMatch === 'any') return true;
  const actual = args.length === 0 ? '' : `${args.join('\0')}\0`;
  const wanted = p.params.length === 0 ? '' : `${p.params.join('\0')}\0`;
  switch (p.paramMatch) {
    case 'exact':
      return actual === wanted;
    case 'partial':
      return actual.startsWith(wanted);
    case 'initial':
      return actual.startsWith(wanted.slice(0, -1));
  }
}

export function matchesProcess(p: ProcessPattern, s: ProcessSample): boolean {
  const name = comparesArgv0(p) ? s.argv[0] : s.comm;
  return name === p.process && paramsMatch(p, s.argv.slice(1));
}
