/**
 * Property test with a seeded PRNG (reproducible: the seed is in the test name): mutated configurations —
 * deleted braces, swapped tokens, random bytes, huge numbers, cut files — never throw, and every
 * diagnostic is located inside the file. Deleting a brace must always be reported.
 */
import { describe, expect, it } from 'vitest';
import { MemoryFileSource } from '../../src/config/fileSource.js';
import { loadConfig } from '../../src/config/load.js';

const BASE = `! base config for mutation
$PRI=150
global_defs {
  router_id LVS_A
  vrrp_garp_master_delay 1
}
vrrp_script chk { script "/bin/true --x 'a b'"
  interval 2 weight -10 }
vrrp_sync_group G { group { VI_1 } }
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority $PRI
  advert_int 1
  authentication { auth_type PASS
    auth_pass s3cret }
  virtual_ipaddress {
    192.168.1.10/24 dev eth0 label eth0:vip
    ~SEQ(N, 11, 13) 192.168.1.\${N}
  }
  unicast_peer { 10.0.0.2 }
  track_script { chk }
  notify_master "/etc/notify.sh master"
}
virtual_server_group VG { 10.1.0.1-4 80
  fwmark 9 }
virtual_server 192.168.1.10 80 {
  delay_loop 6
  lb_algo wrr
  lb_kind DR
  persistence_timeout
  protocol TCP
  sorry_server 10.9.9.9 80
  real_server 10.0.1.1 80 {
    weight 3
    TCP_CHECK { connect_timeout 3 retry 2 }
  }
  real_server 10.0.1.2 8080 {
    HTTP_GET { url { path /health status_code 200-299 } connect_timeout 2 }
    MISC_CHECK { misc_path "/bin/check 10.0.1.2" misc_timeout 5 }
  }
}
virtual_server fwmark 9 { lb_algo rr
  real_server 10.0.2.1 0 { DNS_CHECK { connect_port 53 type A name example.org } }
}
`;

/** mulberry32: small, fast, and the same sequence everywhere for a given seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = 'delete-brace' | 'swap-tokens' | 'random-bytes' | 'huge-number' | 'cut' | 'duplicate-line' | 'drop-line';
const MUTATIONS: Mutation[] = ['delete-brace', 'swap-tokens', 'random-bytes', 'huge-number', 'cut', 'duplicate-line', 'drop-line'];

function mutate(text: string, kind: Mutation, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  switch (kind) {
    case 'delete-brace': {
      const at = [...text.matchAll(/[{}]/g)].map((m) => m.index ?? 0);
      if (at.length === 0) return text;
      const i = at[pick(at.length)];
      return text.slice(0, i) + text.slice(i + 1);
    }
    case 'swap-tokens': {
      const tokens = text.split(/(\s+)/);
      const words = tokens.map((t, i) => (/\S/.test(t) ? i : -1)).filter((i) => i >= 0);
      if (words.length === 0) return text;
      const a = words[pick(words.length)];
      const b = words[pick(words.length)];
      [tokens[a], tokens[b]] = [tokens[b], tokens[a]];
      return tokens.join('');
    }
    case 'random-bytes': {
      const i = pick(text.length);
      let junk = '';
      for (let k = 0, n = 1 + pick(12); k < n; k++) junk += String.fromCharCode(pick(256));
      return text.slice(0, i) + junk + text.slice(i);
    }
    case 'huge-number': {
      const nums = [...text.matchAll(/\b[0-9]+\b/g)];
      if (nums.length === 0) return text;
      const m = nums[pick(nums.length)];
      const huge = ['99999999999999999999999999', '-1', '4294967296', '1e309', '0x7fffffff', '1.5'][pick(6)];
      return text.slice(0, m.index) + huge + text.slice((m.index ?? 0) + m[0].length);
    }
    case 'cut':
      return text.slice(0, pick(text.length));
    case 'duplicate-line': {
      const lines = text.split('\n');
      const i = pick(lines.length);
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }
    case 'drop-line': {
      const lines = text.split('\n');
      lines.splice(pick(lines.length), 1);
      return lines.join('\n');
    }
  }
}

describe('fuzz: mutated configs never crash and are always located', () => {
  it('the base config is valid', () => {
    const r = loadConfig('/f.conf', { files: new MemoryFileSource({ '/f.conf': BASE }), configId: 'x' });
    expect(r.errorCount).toBe(0);
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: 400 mutants`, () => {
      const rnd = prng(seed);
      let reported = 0;
      for (let round = 0; round < 400; round++) {
        let text = BASE;
        const applied: Mutation[] = [];
        for (let k = 0, n = 1 + Math.floor(rnd() * 3); k < n; k++) {
          const kind = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)];
          applied.push(kind);
          text = mutate(text, kind, rnd);
        }
        const lineCount = text.split('\n').length;
        let r;
        try {
          r = loadConfig('/f.conf', { files: new MemoryFileSource({ '/f.conf': text }), configId: 'x', random: rnd });
        } catch (e) {
          throw new Error(`seed ${seed} round ${round} (${applied.join(',')}) threw: ${e instanceof Error ? e.stack : String(e)}`, { cause: e });
        }
        for (const d of r.diagnostics) {
          expect(d.file, `seed ${seed} round ${round}`).toBe('/f.conf');
          expect(d.line >= 1 && d.line <= lineCount, `seed ${seed} round ${round}: line ${d.line} of ${lineCount}`).toBe(true);
          if (d.col !== undefined) expect(d.col).toBeGreaterThanOrEqual(1);
        }
        if (applied.length === 1 && applied[0] === 'delete-brace') {
          expect(r.errorCount, `seed ${seed} round ${round}: a deleted brace must be an error`).toBeGreaterThan(0);
        }
        if (r.diagnostics.length > 0) reported++;
      }
      // Most mutants break something; a fuzzer that never finds anything is not fuzzing.
      expect(reported).toBeGreaterThan(200);
    });
  }
});
