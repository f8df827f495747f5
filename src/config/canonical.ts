/**
 * The one canonical text form for equality (the reload diff, the parts' fingerprints of what they run, the
 * VRRP runtime's comparisons of VIPs, routes and script invocations):
 * object keys sorted, `loc` dropped at every depth, undefined omitted. VIP lists compare in order here; the
 * VRRP service itself applies a VIP change as a set difference.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (k !== 'loc') sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  }) ?? 'undefined';
}
