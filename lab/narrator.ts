// Tells what happens in the lab as it happens: every second what the client saw, and at once any change in
// who holds the VIP, where the client's ARP entry points, or which real servers the directors' tables hold.
import type { LvsLab } from './lab.js';
import { summarize } from './traffic/analysis.js';
import type { DirectorRole } from './topology/plan.js';

export class Narrator {
  private readonly t0 = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private last = new Map<string, string>();
  private polling = false;
  private stopped = false;

  constructor(private readonly lab: LvsLab, private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  say(text: string): void {
    const s = ((Date.now() - this.t0) / 1000).toFixed(1).padStart(5);
    this.out(`[${s}s] ${text}`);
  }

  start(): void {
    this.stopped = false;
    let windowStart = Date.now();
    this.timers.push(setInterval(() => {
      const now = Date.now();
      const recs = this.lab.traffic?.between(windowStart, now) ?? [];
      windowStart = now;
      if (recs.length === 0) return;
      const s = summarize(recs);
      const servers = Object.entries(s.byServer).sort().map(([k, v]) => `${k}×${v}`).join(' ');
      const errors = Object.entries(s.errors).map(([k, v]) => `${k}×${v}`).join(' ');
      this.say(`  client: ${String(s.ok).padStart(2)} ok ${servers.padEnd(12)}${s.failed ? `  ${s.failed} FAILED (${errors})` : ''}`);
    }, 1000));
    this.timers.push(setInterval(() => void this.poll(), 200));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private changed(key: string, value: string, text: string): void {
    if (this.stopped || this.last.get(key) === value) return;
    this.last.set(key, value);
    this.say(text);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const obs = this.lab.observer;
      const holders = await obs.vipHolders();
      const dead = holders.filter((d) => !this.lab.directors[d].running);
      const vipText = holders.length === 0 ? 'nobody' : holders.map((d) => (dead.includes(d) ? `${d} (stale: its daemon is dead)` : d)).join(' and ');
      this.changed('vip', holders.join(','), `VIP ${this.lab.plan.vip} is on: ${vipText}`);
      const arp = await obs.clientArpOwner();
      if (arp) this.changed('arp', arp, `client's ARP entry for the VIP → ${arp}`);
      for (const d of ['primary', 'backup'] as DirectorRole[]) {
        if (!this.lab.directors[d].running) {
          this.last.delete(`table-${d}`);
          continue;
        }
        const svc = (await obs.ipvsTable(d)).find((s) => s.address === this.lab.plan.vip);
        const names = (svc?.reals ?? []).map((r) => {
          const name = this.lab.plan.realServers.find((p) => p.address === r.address)?.name ?? r.address;
          return `${name}(w${r.weight})`;
        });
        this.changed(`table-${d}`, names.join(' '), `${d}'s IPVS table: ${svc ? names.join(' ') || '(no real servers)' : '(no service)'}`);
      }
    } finally {
      this.polling = false;
    }
  }
}
