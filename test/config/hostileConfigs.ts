import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';

/**
 * Configurations that never finish compiling without a budget (issue 17's list and their relatives), as
 * real files in a directory: each with the error `tslvsd -t` must give, located FILE:LINE. Shared by the
 * unit tests (in-process -t), the fuzz campaign and the namespace reload test.
 */
export interface HostileConfig {
  readonly name: string;
  /** The file given to `tslvsd -t -f` / SIGHUP'd into the daemon. */
  readonly file: string;
  /** A diagnostic line that must be printed (FILE:LINE[:COL]: error: …). */
  readonly error: RegExp;
  /** The same when the content is read under another name (the daemon test copies it to its config path). */
  readonly errorAs: (file: string) => RegExp;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `vrrpBody` (optional) is prepended, so in the daemon test the hostile part comes after a valid config. */
export function writeHostileConfigs(dir: string, vrrpBody = ''): HostileConfig[] {
  mkdirSync(dir, { recursive: true });
  const out: HostileConfig[] = [];
  const add = (name: string, text: string | Buffer, error: (file: string) => RegExp): void => {
    const file = path.join(dir, `${name}.conf`);
    writeFileSync(file, typeof text === 'string' ? vrrpBody + text : Buffer.concat([Buffer.from(vrrpBody), text]));
    out.push({ name, file, error: error(file), errorAs: error });
  };
  const lines = vrrpBody === '' ? 0 : vrrpBody.split('\n').length - 1;
  const at = (file: string, line: number, rest: string): RegExp => new RegExp(`^${esc(file)}:${lines + line}(:\\d+)?: error: ${rest}`);

  // $A=$A $A: every use doubles; stopped at the line limit, not at 2^32 words.
  add('recursive-var', '$A=$A $A\nrouter $A\n', (f) => at(f, 2, 'substituting \\$A makes the line longer than 65536'));
  // Nested ~SEQ: 10^9 lines; refused before the first.
  add('nested-seq', '~SEQ(A, 1000) ~SEQ(B, 1000) ~SEQ(C, 1000) x $A $B $C\n', (f) => at(f, 1, '~SEQ: nested repeats make 1000000 lines'));
  // A ~SEQ of 10^6 lines (656 MB before the budget).
  add('seq-million', '~SEQ(I, 1000000) x $I\n', (f) => at(f, 1, '~SEQ: 1000000 lines, more than the 500000'));
  // Multi-line definitions that fan out: 3^32 pieces.
  add('fanout-var', '$M=$M \\\n$M \\\n$M\n$M\n', (f) => at(f, 4, 'parameter substitution nested deeper than 32'));
  // include of a FIFO (blocked forever in open()) and of /dev/zero (aborted at 2.1 GB).
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  add('include-fifo', `include ${fifo}\n`, (f) => at(f, 1, `cannot read ${esc(fifo)}: it is a FIFO, not a regular file`));
  add('include-dev-zero', 'include /dev/zero\n', (f) => at(f, 1, 'cannot read /dev/zero: it is a character device'));
  // 11 files each including the glob of all 11: 11! include paths.
  const gdir = path.join(dir, 'glob');
  mkdirSync(gdir, { recursive: true });
  for (let i = 1; i <= 11; i++) writeFileSync(path.join(gdir, `g${String(i).padStart(2, '0')}.conf`), 'include g*.conf\n');
  add('include-glob-factorial', `include ${gdir}/g*.conf\n`, () => new RegExp(`^${esc(gdir)}/g01.conf:1:1: error: include loop: ${esc(gdir)}/g01.conf is already being read`));
  // No loop, but 12 files each including every later one: 2^11 reads.
  const ddir = path.join(dir, 'dag');
  mkdirSync(ddir, { recursive: true });
  for (let i = 1; i <= 12; i++) {
    const later = Array.from({ length: 12 - i }, (_, k) => `include d${String(i + k + 1).padStart(2, '0')}.inc`).join('\n');
    writeFileSync(path.join(ddir, `d${String(i).padStart(2, '0')}.inc`), `${later}\n`);
  }
  add('include-dag-fan-out', `include ${ddir}/d01.inc\n`, () => /: error: more than 1000 files read \(include fan-out\?\); stopped at /);
  // Includes that go on: a cycle, and a chain deeper than 32.
  writeFileSync(path.join(dir, 'cycle-b.inc'), `include ${path.join(dir, 'cycle-a.inc')}\n`);
  writeFileSync(path.join(dir, 'cycle-a.inc'), `include ${path.join(dir, 'cycle-b.inc')}\n`);
  add('include-cycle', `include ${path.join(dir, 'cycle-a.inc')}\n`, () => new RegExp(`^${esc(path.join(dir, 'cycle-b.inc'))}:1(:\\d+)?: error: include loop`));
  for (let i = 0; i < 40; i++) writeFileSync(path.join(dir, `chain${i}.inc`), `include chain${i + 1}.inc\n`);
  writeFileSync(path.join(dir, 'chain40.inc'), 'x\n');
  add('include-deep', 'include chain0.inc\n', () => /: error: includes nested deeper than 32/);
  // One include naming 600 files.
  const many = path.join(dir, 'many');
  mkdirSync(many, { recursive: true });
  for (let i = 0; i < 600; i++) writeFileSync(path.join(many, `${i}.conf`), '');
  add('include-fan-out', `include ${many}/*.conf\n`, (f) => at(f, 1, 'include .* names 600 files, more than 500'));
  // Words and bytes: 40 lines of 30,000 words; 300 lines of 60,000 characters; 1,100 x 60,000 discarded.
  const words = 'a '.repeat(30_000).trim();
  add('too-many-words', `$W=${words}\n~SEQ(I, 40) $W\n`, () => /: error: configuration has more than 1000000 words/);
  add('too-many-bytes', `$W=${'x'.repeat(60_000)}\n~SEQ(I, 300) $W\n`, (f) => at(f, 2, 'configuration expands to more than 16 MiB'));
  add('too-much-expansion', `$W=@nomatch ${'x'.repeat(60_000)}\n~SEQ(I, 2500) $W\n`, (f) => at(f, 2, 'expansion produces more than 128 MiB'));
  // Binary: NUL bytes, invalid UTF-8 outside a comment.
  add('binary-nul', Buffer.from([0x67, 0x6c, 0x0a, 0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x0a]), (f) => at(f, 2, 'NUL byte'));
  add('binary-utf8', Buffer.from([0x72, 0x6f, 0x75, 0x74, 0x65, 0x72, 0x5f, 0x69, 0x64, 0x20, 0xff, 0xfe, 0x0a]), (f) => at(f, 1, 'invalid UTF-8'));
  // A file larger than 16 MiB (sparse: no disk used).
  const big = path.join(dir, 'big.inc');
  writeFileSync(big, '');
  truncateSync(big, 17 * 1024 * 1024);
  add('include-huge-file', `include ${big}\n`, (f) => at(f, 1, `${esc(big)} is larger than 16 MiB`));
  // A directory named by a plain include (not a glob).
  add('include-directory', `include ${many}\n`, (f) => at(f, 1, `cannot read ${esc(many)}: it is a directory`));
  return out;
}

/** A listening unix socket at `file` (include of a socket); close it when done. */
export async function listenUnixSocket(file: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(file, resolve));
  return server;
}
