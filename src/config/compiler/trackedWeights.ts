/**
 * The reference list of an instance or sync group to named trackers — `track_file { NAME [weight N
 * [reverse]] … }`, `track_process { … }`: one parser for both, since keepalived gives them one syntax.
 */
import type { TrackedFile } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { type CompileContext, locOf, posOf, requireBlock } from './context.js';
import { parseInteger } from './values.js';

/** A reference to a named tracker, with an optional weight override (TrackedFile and TrackedProcess alike). */
export type TrackedReference = TrackedFile;

export function compileTrackedReferences(node: ConfigNode, ctx: CompileContext): TrackedReference[] {
  const out: TrackedReference[] = [];
  for (const item of requireBlock(node, ctx) ?? []) {
    const t: TrackedReference = { loc: locOf(item.keyword), name: item.keyword.text, weightReverse: false };
    const a = item.args;
    if (a.length > 0) {
      if (a[0]!.text !== 'weight' || a[1] === undefined) {
        ctx.sink.error(posOf(a[0]!), `expected 'weight N [reverse]' after '${item.keyword.text}'`);
      } else {
        const w = parseInteger(a[1], -254, 254, 'weight', ctx);
        if (w !== undefined) t.weight = w;
        if (a[2]?.text === 'reverse') t.weightReverse = true;
      }
    }
    out.push(t);
  }
  return out;
}
