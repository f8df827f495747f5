import { describe, expect, it } from 'vitest';
import { DiagnosticSink, formatDiagnostic } from '../../src/config/diagnostics.js';
import { type ConfigNode, parse } from '../../src/config/parser.js';
import type { LogicalLine } from '../../src/config/preprocess.js';

function tree(text: string) {
  const lines: LogicalLine[] = text.split('\n').map((t, i) => ({ text: t, file: 'k.conf', line: i + 1, colBase: 1 }))
    .filter((l) => l.text.trim() !== '');
  const sink = new DiagnosticSink();
  return { nodes: parse(lines, sink), diags: sink.items.map(formatDiagnostic) };
}

type Shape = string | [string, Shape[]];
function shape(nodes: ConfigNode[]): Shape[] {
  return nodes.map((n) => {
    const head = [n.keyword.text, ...n.args.map((a) => a.text)].join(' ');
    return n.block === undefined ? head : [head, shape(n.block)];
  });
}

describe('parser', () => {
  it('blocks opened on the same line or the next', () => {
    const a = tree('vrrp_instance A {\n state MASTER\n}\nvirtual_server 1.2.3.4 80\n{\n  real_server 1.1.1.1 80\n  {\n  }\n}');
    expect(a.diags).toEqual([]);
    expect(shape(a.nodes)).toEqual([
      ['vrrp_instance A', ['state MASTER']],
      ['virtual_server 1.2.3.4 80', [['real_server 1.1.1.1 80', []]]],
    ]);
  });

  it('several statements on one line', () => {
    const a = tree('vrrp_instance A { track_script { chk1 chk2 } state BACKUP }');
    expect(a.diags).toEqual([]);
    expect(shape(a.nodes)).toEqual([['vrrp_instance A', [['track_script', ['chk1 chk2']], 'state BACKUP']]]);
  });

  it('a block never closed is reported at its {', () => {
    const a = tree('global_defs {\n  router_id x\n}\nvrrp_instance A {\n  authentication {\n    auth_type PASS\n}');
    expect(a.diags).toEqual(["k.conf:4:17: error: 'vrrp_instance' block opened here is never closed (missing '}')"]);
  });

  it("an extra '}' and a '{' without keyword are located errors", () => {
    expect(tree('a {\n}\n}').diags).toEqual(["k.conf:3:1: error: unmatched '}'"]);
    expect(tree('a {\n}\n  {\n}').diags).toEqual(["k.conf:3:3: error: '{' without a keyword before it"]);
    expect(tree('a {\n} {\n}').diags).toEqual(["k.conf:2:3: error: '{' without a keyword before it"]);
  });
});
