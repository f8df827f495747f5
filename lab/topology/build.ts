// Executes a LabPlan against the kernel, and takes it all down again (processes included).
import { existsSync } from 'node:fs';
import { inNetns, run } from '../exec.js';
import type { LabPlan, LabStep } from './plan.js';

async function runStep(step: LabStep): Promise<void> {
  if (step.kind === 'ip') {
    const argv = step.netns ? ['ip', '-n', step.netns, '-batch', '-'] : ['ip', '-batch', '-'];
    await run(argv, { input: `${step.lines.join('\n')}\n` });
  } else {
    await run(inNetns(step.netns, ['sysctl', '-qw', ...step.settings.map(([k, v]) => `${k}=${v}`)]));
  }
}

/** Builds the namespaces, bridges, links, addresses and sysctls. On failure, tears down what it made. */
export async function buildTopology(plan: LabPlan): Promise<void> {
  await destroyTopology(plan); // leftovers of an earlier crashed run with the same prefix
  if (plan.mode === 'tun' && !existsSync('/sys/module/ipip')) await run(['modprobe', 'ipip'], { allowFail: true });
  try {
    for (const step of plan.steps) await runStep(step);
  } catch (err) {
    await destroyTopology(plan);
    throw err;
  }
}

/** Kills every process left in the lab's namespaces, then deletes them (the veths and bridges go with them). */
export async function destroyTopology(plan: LabPlan): Promise<void> {
  const existing = new Set((await run(['ip', 'netns', 'list'], { allowFail: true })).stdout.split('\n').map((l) => l.split(' ')[0]));
  for (const name of Object.values(plan.netns)) {
    if (!existing.has(name)) continue;
    const pids = (await run(['ip', 'netns', 'pids', name], { allowFail: true })).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await run(['ip', 'netns', 'del', name], { allowFail: true });
  }
}
