import type { IpRoute, IpRule } from '../config/model.js';
import type { RouteSpec, RuleSpec } from '../net/routeManager.js';

/**
 * The model's routes and rules (virtual_routes/rules, static_routes/rules) as the route edge takes them,
 * and their one-line text (iproute2's words) for logs and status. Pure.
 */

export function routeSpecOf(route: IpRoute): RouteSpec {
  const spec: RouteSpec = {
    family: route.family,
    destination: route.destination.address,
    prefixLength: route.destination.prefixLength,
    type: route.type,
    table: route.table,
    protocol: route.protocol,
  };
  if (route.scope !== undefined) spec.scope = route.scope;
  if (route.via !== undefined) spec.via = route.via;
  if (route.src !== undefined) spec.src = route.src;
  if (route.dev !== undefined) spec.dev = route.dev;
  if (route.metric !== undefined) spec.metric = route.metric;
  if (route.onlink) spec.onlink = true;
  if (route.tos !== undefined) spec.tos = route.tos;
  return spec;
}

export function ruleSpecOf(rule: IpRule): RuleSpec {
  const spec: RuleSpec = { family: rule.family, action: rule.action, priority: rule.priority, protocol: rule.protocol, tos: rule.tos ?? 0 };
  if (rule.from) spec.from = { ...rule.from };
  if (rule.to) spec.to = { ...rule.to };
  if (rule.table !== undefined) spec.table = rule.table;
  if (rule.fwmark !== undefined) spec.fwmark = rule.fwmark;
  if (rule.fwmask !== undefined) spec.fwmask = rule.fwmask;
  if (rule.iif !== undefined) spec.iif = rule.iif;
  if (rule.oif !== undefined) spec.oif = rule.oif;
  return spec;
}

/** `10.98.0.0/24 via 10.0.0.2 dev eth0 table 100 metric 5` (what `ip route` would print, in short). */
export function describeRoute(r: RouteSpec): string {
  const words = [r.type === 'unicast' ? '' : r.type, `${r.destination}/${r.prefixLength}`];
  if (r.src !== undefined) words.push('src', r.src);
  if (r.via !== undefined) words.push('via', r.via);
  if (r.dev !== undefined) words.push('dev', r.dev);
  if (r.table !== 254) words.push('table', String(r.table));
  if (r.metric !== undefined) words.push('metric', String(r.metric));
  if (r.onlink) words.push('onlink');
  return words.filter(Boolean).join(' ');
}

/** `100: from 10.0.0.10 lookup 100` (as `ip rule` prints it). */
export function describeRule(r: RuleSpec): string {
  const words = [`${r.priority ?? 0}:`, 'from', r.from ? prefixText(r.from) : 'all'];
  if (r.to) words.push('to', prefixText(r.to));
  if (r.fwmark !== undefined) words.push('fwmark', `0x${r.fwmark.toString(16)}${r.fwmask !== undefined ? `/0x${r.fwmask.toString(16)}` : ''}`);
  if (r.iif !== undefined) words.push('iif', r.iif);
  if (r.oif !== undefined) words.push('oif', r.oif);
  words.push(...(r.action === 'table' ? ['lookup', String(r.table ?? 254)] : [r.action]));
  return words.join(' ');
}

function prefixText(p: { address: string; prefixLength: number }): string {
  const full = p.address.includes(':') ? 128 : 32;
  return p.prefixLength === full ? p.address : `${p.address}/${p.prefixLength}`;
}
