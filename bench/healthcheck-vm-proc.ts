/**
 * CPU and memory of a daemon's process tree from /proc: the root and every descendant (keepalived's checker
 * child, tslvsd's helper processes). /proc/PID/stat's utime + stime already include all the threads of a
 * process (tslvsd's checker worker thread), so summing over the tree covers threads and children.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat { pid: number; ppid: number; ticks: number }

function readStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields restart after the last ')'.
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    // rest[0] = state (field 3), rest[1] = ppid (4), rest[11] = utime (14), rest[12] = stime (15).
    return { pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null; // exited between the listing and the read
  }
}

/** The root and its descendants, alive now. */
export function processTree(root: number): number[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const tree = new Set<number>([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of all) if (!tree.has(s.pid) && tree.has(s.ppid)) { tree.add(s.pid); grew = true; }
  }
  return [...tree].filter((pid) => all.some((s) => s.pid === pid));
}

/** CPU seconds (user + system) used so far by each process of the tree, by pid. */
export function treeCpuSeconds(root: number): Map<number, number> {
  const hz = 100; // USER_HZ on Linux x86-64
  const out = new Map<number, number>();
  for (const pid of processTree(root)) {
    const s = readStat(pid);
    if (s) out.set(pid, s.ticks / hz);
  }
  return out;
}

/** CPU used between two samples; a process present only in the later one counts from zero. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, s] of after) sum += s - (before.get(pid) ?? 0);
  return sum;
}

/**
 * Sum over the tree of each process's resident set, in bytes: its peak (VmHWM, start-up's transient
 * garbage included) or now (VmRSS: after V8's memory reducer has given the start's heap pages back).
 */
export function treeRssBytes(root: number, which: 'VmHWM' | 'VmRSS'): number {
  let sum = 0;
  const field = new RegExp(`^${which}:\\s+(\\d+) kB`, 'm');
  for (const pid of processTree(root)) {
    try {
      const m = field.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) sum += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return sum;
}

/** CPU seconds so far of each thread of one process, keyed `TID (name)`: where a process spends its time. */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    try {
      const raw = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      out.set(`${tid} (${name})`, (Number(rest[11]) + Number(rest[12])) / 100);
    } catch {
      // thread ended
    }
  }
  return out;
}
