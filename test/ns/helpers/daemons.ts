import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sleep, tsxArgv, waitFor } from './exec.js';

/**
 * Starting and stopping the daemons under test inside namespaces: tslvsd (this checkout, through
 * tslvsdEntry.ts) and Debian's keepalived, each with its own config file, pid files and captured log.
 */

const ENTRY = path.resolve('test/ns/helpers/tslvsdEntry.ts');

/**
 * How long a daemon may take to start and reach its first state. Generous: tslvsd runs from source through
 * tsx, and this machine is shared (VMs, other suites). Takeover times are measured separately, tightly.
 */
export const BOOT_MS = 40_000;

/** A running tslvsd: its JSON log lines as they arrive, and ways to end it. */
export class TslvsdProcess {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly ns: string,
    private readonly child: ChildProcess,
  ) {
    let buffer = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ raw: line });
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code) => ((this.exitCode = code), resolve())));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  get code(): number | null | undefined {
    return this.exitCode;
  }

  /** Transition lines (event: transition) in order. */
  transitions(): { instance: string; from: string; to: string; reason: string }[] {
    return this.lines.filter((l) => l.event === 'transition') as never;
  }

  async waitForState(state: string, timeoutMs = 15_000, instance?: string): Promise<boolean> {
    const seen = await waitFor(
      () => this.transitions().some((t) => t.to === state && (!instance || t.instance === instance)),
      { timeoutMs },
    );
    return seen === true;
  }

  /** The last state logged for an instance (undefined before the first transition). */
  state(instance?: string): string | undefined {
    const list = this.transitions().filter((t) => !instance || t.instance === instance);
    return list[list.length - 1]?.to;
  }

  /** Waits for a log line matching predicate, among lines from index `from` on (default: all). */
  async waitForLine(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000, from = 0): Promise<Record<string, unknown> | undefined> {
    return await waitFor(() => this.lines.slice(from).find(predicate), { timeoutMs });
  }

  /** SIGTERM and wait for a clean exit. */
  async stop(timeoutMs = 10_000): Promise<number | null | undefined> {
    if (this.running) this.child.kill('SIGTERM');
    await Promise.race([this.exited, sleep(timeoutMs)]);
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
    return this.exitCode;
  }

  /** A crash: SIGKILL, no goodbye. */
  async crash(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }
}

export function startTslvsd(ns: string, configPath: string, env: Record<string, string> = {}): TslvsdProcess {
  const [node, ...args] = tsxArgv(ENTRY, ['--config', configPath, '--log-level', env.TSLVSD_LOG_LEVEL ?? 'info']);
  const child = spawn('ip', ['netns', 'exec', ns, node!, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new TslvsdProcess(ns, child);
}

/** Debian's keepalived in a namespace, VRRP only, in the foreground with its log on the console. */
export class KeepalivedProcess {
  log = '';
  private readonly exited: Promise<void>;
  private done = false;

  constructor(
    readonly ns: string,
    private readonly child: ChildProcess,
    private readonly vrrpPidFile: string,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => (this.log += c));
    child.stderr!.on('data', (c: string) => (this.log += c));
    this.exited = new Promise((resolve) => child.on('exit', () => ((this.done = true), resolve())));
  }

  get running(): boolean {
    return !this.done;
  }

  vrrpPid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.vrrpPidFile, 'utf8').trim());
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until the VRRP child has written its pid (it is up). */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    return (await waitFor(() => this.vrrpPid() !== undefined, { timeoutMs })) !== undefined;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 15_000): Promise<boolean> {
    return (await waitFor(() => pattern.test(this.log), { timeoutMs })) === true;
  }

  /** Graceful: SIGTERM to the parent, which stops the VRRP child (priority 0, VIPs removed). */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    await Promise.race([this.exited, sleep(timeoutMs)]);
    await this.crash();
  }

  /**
   * A crash: SIGKILL to the VRRP child first, then the parent. (The other order is not a crash: the child
   * has PR_SET_PDEATHSIG and would shut down gracefully, sending priority 0.)
   */
  async crash(): Promise<void> {
    const vrrp = this.vrrpPid();
    if (vrrp && this.running) {
      try {
        process.kill(vrrp, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function startKeepalived(ns: string, configPath: string, workDir: string): KeepalivedProcess {
  mkdirSync(workDir, { recursive: true });
  const pid = path.join(workDir, 'keepalived.pid');
  const vrrpPid = path.join(workDir, 'vrrp.pid');
  rmSync(vrrpPid, { force: true });
  rmSync(pid, { force: true });
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, 'keepalived', '-n', '-l', '-D', '--vrrp', '-f', configPath, '-p', pid, '-r', vrrpPid],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new KeepalivedProcess(ns, child, vrrpPid);
}
