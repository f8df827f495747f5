import { describe, expect, it } from 'vitest';
import { resolveScriptRunAs, resolveUserSpec, scriptUserOf } from '../../src/scripts/runAs.js';
import { parseUserDatabase } from '../../src/scripts/userDatabase.js';

const passwd = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  'svc:x:1001:2001::/home/svc:/bin/sh',
  'broken:x:notanumber:1::/:/bin/sh',
  '+nis',
  '',
].join('\n');
const group = ['root:x:0:', 'nogroup:x:65534:', 'ops:x:3000:svc', ''].join('\n');
const db = parseUserDatabase(passwd, group);
const daemon = { uid: 0, gid: 0 };

describe('user database (the one /etc/passwd + /etc/group reader)', () => {
  it('parses entries and skips comments, NIS lines and malformed ids', () => {
    expect(db.userByName('svc')).toEqual({ name: 'svc', uid: 1001, gid: 2001 });
    expect(db.userById(65534)?.name).toBe('nobody');
    expect(db.userByName('broken')).toBeUndefined();
    expect(db.userByName('+nis')).toBeUndefined();
    expect(db.groupByName('ops')).toEqual({ name: 'ops', gid: 3000 });
  });
});

describe('who a script runs as', () => {
  it('a user name gets its primary group; a group name or number overrides it', () => {
    expect(resolveUserSpec({ user: 'svc' }, db)).toMatchObject({ ok: true, runAs: { uid: 1001, gid: 2001 } });
    expect(resolveUserSpec({ user: 'svc', group: 'ops' }, db)).toMatchObject({ ok: true, runAs: { uid: 1001, gid: 3000 } });
    expect(resolveUserSpec({ user: 'svc', group: '42' }, db)).toMatchObject({ ok: true, runAs: { uid: 1001, gid: 42 } });
  });

  it('unknown users and groups are refused, never the daemon\'s identity', () => {
    expect(resolveUserSpec({ user: 'nosuchuser' }, db)).toEqual({ ok: false, error: "user 'nosuchuser' does not exist" });
    expect(resolveUserSpec({ user: 'svc', group: 'nosuchgroup' }, db)).toEqual({ ok: false, error: "group 'nosuchgroup' does not exist" });
    expect(resolveScriptRunAs({ user: 'nosuchuser' }, undefined, db, daemon)).toMatchObject({ ok: false });
    expect(resolveScriptRunAs({}, { user: 'nosuchuser' }, db, daemon)).toMatchObject({ ok: false });
  });

  it('a numeric user gets its own group: the passwd gid of that uid, else the same number — never gid 0', () => {
    expect(resolveUserSpec({ user: '65534' }, db)).toMatchObject({ ok: true, runAs: { uid: 65534, gid: 65534 }, numeric: true });
    expect(resolveUserSpec({ user: '1001' }, db)).toMatchObject({ ok: true, runAs: { uid: 1001, gid: 2001 } });
    expect(resolveUserSpec({ user: '4242' }, db)).toMatchObject({ ok: true, runAs: { uid: 4242, gid: 4242 } });
    expect(resolveUserSpec({ user: '4242', group: 'ops' }, db)).toMatchObject({ ok: true, runAs: { uid: 4242, gid: 3000 } });
    expect(resolveUserSpec({ user: '99999999999' }, db)).toMatchObject({ ok: false });
  });

  it('the script\'s own user, else script_user, else keepalived_script, else the daemon', () => {
    expect(scriptUserOf({ user: 'svc' }, { user: 'nobody', group: 'nogroup' })).toEqual({ user: 'svc' });
    expect(scriptUserOf({}, { user: 'nobody', group: 'nogroup' })).toEqual({ user: 'nobody', group: 'nogroup' });
    expect(resolveScriptRunAs({ user: 'svc' }, { user: 'nobody' }, db, daemon)).toMatchObject({ ok: true, runAs: { uid: 1001 }, source: 'script' });
    expect(resolveScriptRunAs({}, { user: 'nobody' }, db, daemon)).toMatchObject({ ok: true, runAs: { uid: 65534 }, source: 'script_user' });
    expect(resolveScriptRunAs({}, undefined, db, daemon)).toEqual({ ok: true, runAs: daemon, source: 'daemon' });
    const withDefault = parseUserDatabase(`${passwd}\nkeepalived_script:x:990:990::/:/bin/false\n`, group);
    expect(resolveScriptRunAs({}, undefined, withDefault, daemon)).toEqual({ ok: true, runAs: { uid: 990, gid: 990 }, source: 'default' });
  });
});
