// What the lab looks like right now, read from the kernel: who holds the VIP, where the client's ARP entry
// points, what each director's IPVS table says. Polled through /proc (cheap); `ipvsadmList` asks ipvsadm,
// the independent judge, for final verdicts.
import { inNetns, run } from '../exec.js';
import type { DirectorRole, HostRole, LabPlan } from '../topology/plan.js';
import { parseIpvsadmList, type IpvsService } from './ipvsadm.js';
import { NetnsView } from './netns-view.js';
import { arpEntry, listensOn, localAddresses } from './procfs.js';

const DIRECTORS: readonly DirectorRole[] = ['primary', 'backup'];

export class LabObserver {
  private constructor(private readonly plan: LabPlan, private readonly views: Record<HostRole, NetnsView>,
    private readonly directorMac: Record<DirectorRole, string>) {}

  static async open(plan: LabPlan): Promise<LabObserver> {
    const views = {
      client: await NetnsView.open(plan.netns.client),
      primary: await NetnsView.open(plan.netns.primary),
      backup: await NetnsView.open(plan.netns.backup),
      rs1: await NetnsView.open(plan.netns.rs1),
      rs2: await NetnsView.open(plan.netns.rs2),
    };
    const mac = async (d: DirectorRole): Promise<string> => {
      const r = await run(['ip', '-n', plan.netns[d], '-o', 'link', 'show', 'dev', plan.directorLan]);
      const m = /link\/ether ([0-9a-f:]+)/.exec(r.stdout)?.[1];
      if (!m) throw new Error(`no MAC for ${d}`);
      return m;
    };
    return new LabObserver(plan, views, { primary: await mac('primary'), backup: await mac('backup') });
  }

  /** Directors that have the VIP as a local address. */
  async vipHolders(): Promise<DirectorRole[]> {
    const held: DirectorRole[] = [];
    for (const d of DIRECTORS) if (localAddresses(await this.views[d].read('fib_trie')).has(this.plan.vip)) held.push(d);
    return held;
  }

  /** The director the client's ARP entry for the VIP points at (who the client actually talks to). */
  async clientArpOwner(): Promise<DirectorRole | undefined> {
    const mac = arpEntry(await this.views.client.read('arp'), this.plan.vip);
    return DIRECTORS.find((d) => this.directorMac[d] === mac);
  }

  /** The director's IPVS table, from /proc/net/ip_vs. */
  async ipvsTable(d: DirectorRole): Promise<IpvsService[]> {
    return parseIpvsadmList(await this.views[d].read('ip_vs'));
  }

  /** The real server's entry in the VIP's service on director `d`, if present. */
  async realServerEntry(d: DirectorRole, address: string): Promise<{ weight: number } | undefined> {
    const svc = (await this.ipvsTable(d)).find((s) => s.address === this.plan.vip && s.port === this.plan.port);
    const real = svc?.reals.find((r) => r.address === address);
    return real ? { weight: real.weight } : undefined;
  }

  async listening(host: HostRole, port: number): Promise<boolean> {
    // busybox httpd listens on a dual-stack IPv6 socket: check both tables.
    const v = this.views[host];
    return listensOn(await v.read('tcp'), port) || listensOn(await v.read('tcp6'), port);
  }

  close(): void {
    for (const v of Object.values(this.views)) v.close();
  }
}

/** `ipvsadm -Ln` in a director's namespace: the independent judge of the kernel table. */
export async function ipvsadmList(plan: LabPlan, d: DirectorRole): Promise<IpvsService[]> {
  const r = await run(inNetns(plan.netns[d], ['ipvsadm', '-Ln']), { allowFail: true });
  return r.code === 0 ? parseIpvsadmList(r.stdout) : [];
}
