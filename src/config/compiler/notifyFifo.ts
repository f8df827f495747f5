/**
 * global_defs `notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo` (PATH [USER [GROUP]]) and their
 * `…_script` (CMD [USER [GROUP]]). Compiled together because a script may be written before its FIFO.
 */
import type { GlobalDefs, NotifyFifo, ScriptCommand } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { type CompileContext, locOf, noBlock, posOf } from './context.js';
import { notifyScriptArg } from './values.js';

const FIFOS = { notify_fifo: 'notifyFifo', vrrp_notify_fifo: 'vrrpNotifyFifo', lvs_notify_fifo: 'lvsNotifyFifo' } as const;
type FifoKeyword = keyof typeof FIFOS;

export const NOTIFY_FIFO_KEYWORDS: ReadonlySet<string> = new Set(Object.keys(FIFOS).flatMap((k) => [k, `${k}_script`]));

function fifoKeywordOf(keyword: string): FifoKeyword | undefined {
  const base = keyword.endsWith('_script') ? keyword.slice(0, -'_script'.length) : keyword;
  return Object.prototype.hasOwnProperty.call(FIFOS, base) ? (base as FifoKeyword) : undefined;
}

/** Fills g.notifyFifo / vrrpNotifyFifo / lvsNotifyFifo from the statements of global_defs that name them. */
export function compileNotifyFifos(items: readonly ConfigNode[], g: GlobalDefs, ctx: CompileContext): void {
  const scripts = new Map<FifoKeyword, { script: ScriptCommand; node: ConfigNode }>();
  for (const n of items) {
    const keyword = n.keyword.text;
    const fifo = fifoKeywordOf(keyword);
    if (fifo === undefined) continue;
    noBlock(n, ctx);
    if (keyword.endsWith('_script')) {
      if (scripts.has(fifo)) {
        // keepalived: "notify_fifo_script already specified - ignoring".
        ctx.sink.warning(posOf(n.keyword), `'${keyword}' is already given; this one is ignored`);
        continue;
      }
      const script = notifyScriptArg(n, ctx);
      if (script) scripts.set(fifo, { script, node: n });
      continue;
    }
    const field = FIFOS[fifo];
    if (g[field] !== undefined) {
      ctx.sink.warning(posOf(n.keyword), `'${keyword}' is already given; this one is ignored`);
      continue;
    }
    const path = n.args[0];
    if (path === undefined) {
      ctx.sink.error(posOf(n.keyword), `'${keyword}' needs a FIFO path`);
      continue;
    }
    if (!path.text.startsWith('/')) {
      ctx.sink.error(posOf(path), `'${keyword}': '${path.text}' is not an absolute path`);
      continue;
    }
    if (n.args.length > 3) ctx.sink.warning(posOf(n.args[3]), `'${keyword}': arguments after 'path user group' ignored`);
    const entry: NotifyFifo = { loc: locOf(n.keyword), path: path.text };
    if (n.args[1] !== undefined) entry.user = n.args[1].text;
    if (n.args[2] !== undefined) entry.group = n.args[2].text;
    g[field] = entry;
  }
  for (const [fifo, { script, node }] of scripts) {
    const entry = g[FIFOS[fifo]];
    if (entry === undefined) {
      ctx.sink.warning(posOf(node.keyword), `'${fifo}_script' without '${fifo}': ignored`);
      continue;
    }
    entry.script = script;
  }
  const paths = new Map<string, string>();
  for (const [keyword, field] of Object.entries(FIFOS)) {
    const entry = g[field];
    if (entry === undefined) continue;
    const other = paths.get(entry.path);
    if (other !== undefined) ctx.sink.error(entry.loc, `'${keyword} ${entry.path}': the same FIFO as '${other}'`);
    paths.set(entry.path, keyword);
  }
}
