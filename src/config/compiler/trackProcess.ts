/**
 * `vrrp_track_process NAME { … }` (keepalived 2.2.7's vrrp/vrrp_parser.c track_process handlers) and the
 * `track_process { NAME [weight N [reverse]] }` lists of instances and sync groups.
 */
import type { TrackedProcess, TrackProcess } from '../model.js';
import type { ConfigNode } from '../parser.js';
import { compileTrackedReferences } from './trackedWeights.js';
import { applyKeywords, type CompileContext, type KeywordTable, locOf, posOf, requireBlock } from './context.js';
import { intArg, parseInteger, secondsArg } from './values.js';

interface TrackProcessDraft {
  process?: string;
  params: string[];
  paramMatch?: 'exact' | 'initial' | 'partial';
  fullCommand: boolean;
  quorum?: number;
  quorumMax?: number;
  forkDelay?: number;
  terminateDelay?: number;
  weight?: number;
  weightReverse: boolean;
}

const TRACK_PROCESS_KEYWORDS: KeywordTable<TrackProcessDraft> = {
  process: (n, d, ctx) => {
    const [first, ...rest] = n.args;
    if (first === undefined) {
      ctx.sink.error(posOf(n.keyword), "'process' needs a name or path");
      return;
    }
    d.process = first.text;
    d.params = rest.map((a) => a.text);
  },
  param_match: (n, d, ctx) => {
    // keepalived: a bare `param_match` is exact.
    const t = n.args[0];
    if (t === undefined) d.paramMatch = 'exact';
    else if (t.text === 'exact' || t.text === 'initial' || t.text === 'partial') d.paramMatch = t.text;
    else ctx.sink.error(posOf(t), `param_match: expected exact, initial or partial, not '${t.text}'`);
  },
  full_command: (_n, d) => {
    d.fullCommand = true;
  },
  quorum: (n, d, ctx) => {
    const v = intArg(n, 1, 65535, ctx);
    if (v !== undefined) d.quorum = v;
  },
  quorum_max: (n, d, ctx) => {
    const v = intArg(n, 1, 65535, ctx);
    if (v !== undefined) d.quorumMax = v;
  },
  delay: (n, d, ctx) => {
    const v = secondsArg(n, ctx);
    if (v !== undefined) d.forkDelay = d.terminateDelay = v;
  },
  fork_delay: (n, d, ctx) => {
    const v = secondsArg(n, ctx);
    if (v !== undefined) d.forkDelay = v;
  },
  terminate_delay: (n, d, ctx) => {
    const v = secondsArg(n, ctx);
    if (v !== undefined) d.terminateDelay = v;
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
};

export function compileTrackProcess(node: ConfigNode, ctx: CompileContext): TrackProcess | undefined {
  const name = node.args[0];
  if (name === undefined) {
    ctx.sink.error(posOf(node.keyword), `'${node.keyword.text}' needs a name`);
    return undefined;
  }
  const d: TrackProcessDraft = { params: [], fullCommand: false, weightReverse: false };
  applyKeywords(requireBlock(node, ctx), TRACK_PROCESS_KEYWORDS, d, 'vrrp_track_process', ctx);
  if (d.process === undefined) {
    ctx.sink.error(posOf(node.keyword), `vrrp_track_process ${name.text}: no 'process NAME'`);
    return undefined;
  }
  const quorum = d.quorum ?? 1;
  // keepalived: no quorum_max = no upper bound; a quorum_max below quorum is refused.
  const quorumMax = d.quorumMax ?? Number.MAX_SAFE_INTEGER;
  if (quorumMax < quorum) {
    ctx.sink.error(posOf(node.keyword), `vrrp_track_process ${name.text}: quorum_max ${quorumMax} is below quorum ${quorum}`);
    return undefined;
  }
  return {
    loc: locOf(node.keyword),
    name: name.text,
    process: d.process,
    params: d.params,
    // keepalived: parameters mean exact matching unless said otherwise, and both mean argv[0] is compared.
    paramMatch: d.paramMatch ?? (d.params.length > 0 ? 'exact' : 'any'),
    fullCommand: d.fullCommand || d.params.length > 0 || d.paramMatch !== undefined,
    quorum,
    quorumMax,
    forkDelay: d.forkDelay ?? 0,
    terminateDelay: d.terminateDelay ?? 0,
    weight: d.weight ?? 0,
    weightReverse: d.weightReverse,
  };
}

/** `track_process { NAME [weight N [reverse]] … }` of an instance or a sync group. */
export function compileTrackedProcesses(node: ConfigNode, ctx: CompileContext): TrackedProcess[] {
  return compileTrackedReferences(node, ctx);
}
