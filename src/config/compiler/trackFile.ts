/**
 * `track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }` (keepalived
 * 2.2.7's trackers/track_file.c; `vrrp_track_file` is its deprecated synonym) and the
 * `track_file { NAME [weight N [reverse]] }` lists of instances and sync groups.
 */
import type { TrackedFile, TrackFile } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { compileTrackedReferences } from './trackedWeights.js';
import { applyKeywords, type CompileContext, type KeywordTable, locOf, posOf, requireBlock, singleArg } from './context.js';
import { parseInteger } from './values.js';

interface TrackFileDraft {
  path?: string;
  weight?: number;
  weightReverse: boolean;
  init?: { value: number; overwrite: boolean };
}

const TRACK_FILE_KEYWORDS: KeywordTable<TrackFileDraft> = {
  file: (n, d, ctx) => {
    const t = singleArg(n, ctx);
    if (t === undefined) return;
    if (d.path !== undefined) {
      ctx.sink.warning(posOf(n.keyword), `'file' already set to ${d.path}; '${t.text}' ignored`);
      return;
    }
    d.path = t.text;
  },
  weight: (n, d, ctx) => {
    const t = n.args[0];
    if (t === undefined) {
      ctx.sink.error(posOf(n.keyword), "'weight' needs a value (-254..254)");
      return;
    }
    const w = parseInteger(t, -254, 254, 'weight', ctx);
    if (w !== undefined) d.weight = w;
    const option = n.args[1];
    if (option?.text === 'reverse') d.weightReverse = true;
    else if (option !== undefined) ctx.sink.warning(posOf(option), `unknown weight option '${option.text}' ignored`);
  },
  init_file: (n, d, ctx) => {
    const init = { value: 0, overwrite: false };
    for (const a of n.args) {
      if (a.text === 'overwrite') init.overwrite = true;
      else if (/^-?\d/.test(a.text)) {
        const v = parseInteger(a, -254, 254, 'init_file value', ctx);
        if (v !== undefined) init.value = v;
      } else ctx.sink.warning(posOf(a), `unknown init_file option '${a.text}' ignored`);
    }
    d.init = init;
  },
};

export function compileTrackFile(node: ConfigNode, ctx: CompileContext): TrackFile | undefined {
  const name = node.args[0];
  if (name === undefined) {
    ctx.sink.error(posOf(node.keyword), `'${node.keyword.text}' needs a name`);
    return undefined;
  }
  if (node.keyword.text === 'vrrp_track_file') {
    // keepalived logs the same: "vrrp_track_file" is deprecated, please use "track_file".
    ctx.sink.warning(posOf(node.keyword), "'vrrp_track_file' is deprecated (keepalived 2.x): use 'track_file'");
  }
  const d: TrackFileDraft = { weightReverse: false };
  applyKeywords(requireBlock(node, ctx), TRACK_FILE_KEYWORDS, d, 'track_file', ctx);
  if (d.path === undefined) {
    ctx.sink.error(posOf(node.keyword), `track_file ${name.text}: no 'file PATH'`);
    return undefined;
  }
  const out: TrackFile = { loc: locOf(node.keyword), name: name.text, path: d.path, weight: d.weight ?? 1, weightReverse: d.weightReverse };
  if (d.init) out.init = d.init;
  return out;
}

/** `track_file { NAME [weight N [reverse]] … }` of an instance or a sync group. */
export function compileTrackedFiles(node: ConfigNode, ctx: CompileContext): TrackedFile[] {
  return compileTrackedReferences(node, ctx);
}
