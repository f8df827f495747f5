import { describe, expect, it } from 'vitest';
import { CompileBudget, type CompileLimits, DEFAULT_COMPILE_LIMITS } from '../../src/config/budget.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/config/diagnostics.js';
import { MemoryFileSource } from '../../src/config/fileSource.js';
import { expandBraces, globFiles } from '../../src/config/glob.js';
import { Preprocessor, stripComment } from '../../src/config/preprocess.js';

function run(files: Record<string, string>, configId = 'main', main = '/etc/ka/main.conf', limits: Partial<CompileLimits> = {}) {
  const sink = new DiagnosticSink();
  const lines = new Preprocessor({
    files: new MemoryFileSource(files), sink, configId, random: () => 0.5, budget: new CompileBudget({ ...DEFAULT_COMPILE_LIMITS, ...limits }),
  }).run(main);
  return { lines, texts: lines.map((l) => l.text), diags: sink.items.map(formatDiagnostic) };
}

describe('comments', () => {
  it('# and ! start comments anywhere outside quotes', () => {
    expect(stripComment('router_id x # note')).toBe('router_id x ');
    expect(stripComment('! whole line')).toBe('');
    expect(stripComment('script "/bin/a #1 !x" # c')).toBe('script "/bin/a #1 !x" ');
    expect(stripComment("x 'a#b' !c")).toBe("x 'a#b' ");
    expect(stripComment('x "a\\"#b" #c')).toBe('x "a\\"#b" ');
  });

  it('drops blank and comment-only lines, keeping line numbers of the rest', () => {
    const r = run({ '/etc/ka/main.conf': '# c\n\n  a b\n! x\nc' });
    expect(r.lines.map((l) => [l.text, l.line, l.colBase])).toEqual([['a b', 3, 3], ['c', 5, 1]]);
  });
});

describe('file encoding', () => {
  it('ignores a UTF-8 BOM and CRLF line ends', () => {
    expect(run({ '/etc/ka/main.conf': '\uFEFFglobal_defs {\r\n  router_id x\r\n}\r\n' }).texts).toEqual(['global_defs {', 'router_id x', '}']);
  });
});

describe('@id conditional lines', () => {
  const text = '@main router_id m\n@backup router_id b\n@^main peer not-main\n@^backup peer not-backup\n';
  it('keeps lines for the matching id and @^ lines for every other id', () => {
    expect(run({ '/etc/ka/main.conf': text }, 'main').texts).toEqual(['router_id m', 'peer not-backup']);
    expect(run({ '/etc/ka/main.conf': text }, 'backup').texts).toEqual(['router_id b', 'peer not-main']);
    expect(run({ '/etc/ka/main.conf': text }, 'other').texts).toEqual(['peer not-main', 'peer not-backup']);
  });

  it('columns point past the removed prefix', () => {
    const r = run({ '/etc/ka/main.conf': '  @main priority 9' });
    expect(r.lines[0].colBase).toBe(9);
  });
});

describe('$NAME definitions', () => {
  it('substitutes $NAME before whitespace and ${NAME} anywhere, at use time', () => {
    const r = run({
      '/etc/ka/main.conf': '$BASE=10.2.${SUB}\n$SUB=0\n${BASE}.100/32\n$SUB=10\n${BASE}.100/32\npriority $P\n$P=7\npriority $P\nx$Pz',
    });
    expect(r.texts).toEqual(['10.2.0.100/32', '10.2.10.100/32', 'priority $P', 'priority 7', 'x$Pz']);
  });

  it('leaves undefined names alone and supports empty values', () => {
    expect(run({ '/etc/ka/main.conf': '$E=\na ${UNDEF} $E b' }).texts).toEqual(['a ${UNDEF}  b']);
  });

  it('works with conditional lines', () => {
    const files = { '/etc/ka/main.conf': '@main $PRI=240\n@backup $PRI=200\npriority $PRI\n$IF_MAIN=@main\n$IF_MAIN nopreempt' };
    expect(run(files, 'main').texts).toEqual(['priority 240', 'nopreempt']);
    expect(run(files, 'backup').texts).toEqual(['priority 200']);
  });

  it('multi-line definitions expand to several lines, nested definitions included', () => {
    const r = run({
      '/etc/ka/main.conf': [
        '$RS= \\', '  real_server 10.0.0.${N} 80 { \\', '    # retired line \\', '    weight ${N} \\', '  }',
        '$VS= \\', '  vs { \\', '    $N=1 \\', '    $RS \\', '    $N=2 \\', '    $RS \\', '  }',
        '$VS',
      ].join('\n'),
    });
    expect(r.texts).toEqual([
      'vs {', 'real_server 10.0.0.1 80 {', 'weight 1', '}', 'real_server 10.0.0.2 80 {', 'weight 2', '}', '}',
    ]);
    expect(r.lines.every((l) => l.line === 13)).toBe(true);
  });

  it('predefined ${_PWD} ${_INSTANCE} ${_HASH} ${_BANG} ${_RANDOM}', () => {
    const r = run({ '/etc/ka/main.conf': 'a ${_PWD} ${_INSTANCE} ${_HASH}${_BANG} ${_RANDOM 10 20}' }, 'node7');
    expect(r.texts).toEqual(['a /etc/ka node7 #! 15']);
  });

  it('stops recursive definitions with a located error instead of hanging', () => {
    const r = run({ '/etc/ka/main.conf': '$A=x $A\n$A' });
    expect(r.diags[0]).toMatch(/^\/etc\/ka\/main\.conf:2:1: error: parameter substitution nested deeper than 32/);
  });
});

describe('~SEQ and ~LST', () => {
  it('~SEQ counts with default and explicit steps; ~SEQx prints hex', () => {
    expect(run({ '/etc/ka/main.conf': '~SEQ(S, 0, 3) ip 10.0.${S}.1' }).texts)
      .toEqual(['ip 10.0.0.1', 'ip 10.0.1.1', 'ip 10.0.2.1', 'ip 10.0.3.1']);
    expect(run({ '/etc/ka/main.conf': '~SEQ(S, 3) x$Sy' }).texts).toEqual(['x$Sy', 'x$Sy', 'x$Sy']);
    expect(run({ '/etc/ka/main.conf': '~SEQ(S, 3) x ${S}' }).texts).toEqual(['x 1', 'x 2', 'x 3']);
    expect(run({ '/etc/ka/main.conf': '~SEQ(S, 5, -2, 1) ${S}' }).texts).toEqual(['5', '3', '1']);
    expect(run({ '/etc/ka/main.conf': '~SEQx(S, 0x90, 0x10, 0xc0) fe80::${S}' }).texts)
      .toEqual(['fe80::90', 'fe80::a0', 'fe80::b0', 'fe80::c0']);
  });

  it('nests, takes parameters in its arguments, and combines with ~LST', () => {
    expect(run({ '/etc/ka/main.conf': '$END=2\n~SEQ(A, 1, $END) ~SEQ(B, 1, 2) ${A}.${B}' }).texts).toEqual(['1.1', '1.2', '2.1', '2.2']);
    expect(run({ '/etc/ka/main.conf': '~LST({IP, IP1}, {10,1},{20,4}) ~LST(X, a, b) ${IP}.${IP1}${X}' }).texts)
      .toEqual(['10.1a', '10.1b', '20.4a', '20.4b']);
  });

  it('reports malformed specs at the line', () => {
    expect(run({ '/etc/ka/main.conf': '\n~SEQ(1x, 2) y' }).diags[0]).toMatch(/main\.conf:2:1: error: ~SEQ\(1x, 2\): /);
    expect(run({ '/etc/ka/main.conf': '~SEQ(A, 0, 0, 3) y' }).diags[0]).toMatch(/step must not be 0/);
    expect(run({ '/etc/ka/main.conf': '~SEQ(A, 1, 3 y' }).diags[0]).toMatch(/is not closed/);
  });

  it('refuses expansions past the line budget with an error, not a hang', () => {
    const r = run({ '/etc/ka/main.conf': '~SEQ(A, 1, 600) x\n~SEQ(A, 1, 600) y' }, 'main', '/etc/ka/main.conf', { maxLines: 1000 });
    expect(r.texts.length).toBe(1000);
    expect(r.diags).toEqual(['/etc/ka/main.conf:2:17: error: configuration expands to more than 1000 lines']);
  });

  it('refuses nested repeats whose product is past the line budget at once', () => {
    const r = run({ '/etc/ka/main.conf': '~SEQ(A, 1, 100000) ~SEQ(B, 1, 100000) x' });
    expect(r.texts.length).toBe(0);
    expect(r.diags).toEqual(['/etc/ka/main.conf:1:20: error: ~SEQ: nested repeats make 10000000000 lines, more than the 500000 a configuration may have']);
  });
});

describe('include', () => {
  it('globs relative to the including file, sorted, with ${_PWD} following the file', () => {
    const r = run({
      '/etc/ka/main.conf': 'a\ninclude conf.d/*.conf\nz',
      '/etc/ka/conf.d/20-b.conf': 'b ${_PWD}\ninclude ../sub/x.conf',
      '/etc/ka/conf.d/10-a.conf': 'a2',
      '/etc/ka/conf.d/skip.txt': 'no',
      '/etc/ka/sub/x.conf': 'x',
    });
    expect(r.texts).toEqual(['a', 'a2', 'b /etc/ka/conf.d', 'x', 'z']);
    expect(r.lines[3]).toMatchObject({ file: '/etc/ka/sub/x.conf', line: 1 });
  });

  it('brace expressions and ? and [..]', () => {
    expect(expandBraces('{a,b{c,d}}.conf')).toEqual(['a.conf', 'bc.conf', 'bd.conf']);
    const files = new MemoryFileSource({ '/d/a1': '', '/d/a2': '', '/d/b1': '', '/d/.h1': '' });
    expect(globFiles('/d/a?', '/', files)).toEqual(['/d/a1', '/d/a2']);
    expect(globFiles('[ab]1', '/d', files)).toEqual(['/d/a1', '/d/b1']);
    expect(globFiles('*1', '/d', files)).toEqual(['/d/a1', '/d/b1']);
  });

  it('a missing file is an error at the include line; a glob matching nothing is a warning', () => {
    const r = run({ '/etc/ka/main.conf': 'a\ninclude nothere.conf\ninclude none/*.conf' });
    expect(r.diags).toEqual([
      '/etc/ka/main.conf:2:1: warning: cannot read /etc/ka/nothere.conf: ENOENT: no such file: /etc/ka/nothere.conf',
      '/etc/ka/main.conf:3:1: warning: include none/*.conf: no file matches',
    ]);
  });

  it('an include loop is an error, not a hang', () => {
    const r = run({ '/etc/ka/main.conf': 'include b.conf', '/etc/ka/b.conf': 'b\ninclude main.conf' });
    expect(r.texts).toEqual(['b']);
    expect(r.diags).toEqual(['/etc/ka/b.conf:2:1: error: include loop: /etc/ka/main.conf is already being read']);
  });
});
