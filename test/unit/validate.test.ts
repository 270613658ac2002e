import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v1 } from '../../proto/codec';
import { LIMITS, expectedFdCount, validateSpawnRequest } from '../../daemon/server/validate';

function request(overrides: v1.SpawnRequest.$Properties = {}): v1.SpawnRequest {
  return v1.SpawnRequest.create({
    argv: ['true'],
    cwd: '/home/u/proj',
    env: ['PATH=/usr/bin:/bin'],
    stdin: v1.StdioKind.STDIO_PASS,
    stdout: v1.StdioKind.STDIO_PASS,
    stderr: v1.StdioKind.STDIO_PASS,
    umask: 0o022,
    ...overrides,
  });
}

function refusal(overrides: v1.SpawnRequest.$Properties): string {
  const result = validateSpawnRequest(request(overrides));
  if (result.ok) return assert.fail('expected a refusal');
  assert.equal(result.code, 'REQUEST_INVALID');
  return result.message;
}

describe('spawn request validation', () => {
  it('accepts a plain request and fills the defaults', () => {
    const result = validateSpawnRequest(request());
    assert.ok(result.ok);
    assert.equal(result.value.jail, 'default');
    assert.equal(result.value.mode, 'casual');
    assert.deepEqual(result.value.stdio, ['pass', 'pass', 'pass']);
    assert.equal(result.value.terminal, null);
    assert.equal(expectedFdCount(result.value), 4);
  });

  it('reads the network and the limits asked for (0: not asked)', () => {
    const plain = validateSpawnRequest(request());
    assert.ok(plain.ok);
    assert.equal(plain.value.network, null);
    assert.deepEqual(plain.value.limits, { memoryBytes: null, pids: null, cpu: null });
    const asked = validateSpawnRequest(
      request({ network: v1.Network.NETWORK_NONE, limits: { memoryBytes: 2 ** 31, pids: 100, cpuMillis: 1500 } }),
    );
    assert.ok(asked.ok);
    assert.equal(asked.value.network, 'none');
    assert.deepEqual(asked.value.limits, { memoryBytes: 2 ** 31, pids: 100, cpu: 1.5 });
    const loopback = validateSpawnRequest(request({ network: v1.Network.NETWORK_LOOPBACK }));
    assert.ok(loopback.ok);
    assert.equal(loopback.value.network, 'loopback');
    for (const bad of [
      request({ network: 9 as v1.Network }),
      request({ limits: { memoryBytes: 2 ** 51 } }),
      request({ limits: { pids: LIMITS.pids + 1 } }),
      request({ limits: { cpuMillis: LIMITS.cpuMillis + 1 } }),
    ]) {
      const r = validateSpawnRequest(bad);
      assert.ok(!r.ok);
      assert.equal(r.code, 'REQUEST_INVALID');
    }
  });

  it('counts cwd, grant and passed-stdio fds', () => {
    const result = validateSpawnRequest(
      request({
        nocwd: true,
        grants: [{ path: '/srv/a', access: v1.GrantAccess.GRANT_READ_ONLY }],
        stdin: v1.StdioKind.STDIO_PTY,
        stdout: v1.StdioKind.STDIO_PTY,
        terminal: { rows: 50, cols: 100 },
      }),
    );
    assert.ok(result.ok);
    assert.equal(expectedFdCount(result.value), 2);
    assert.deepEqual(result.value.grants, [{ path: '/srv/a', readOnly: true }]);
    assert.deepEqual(result.value.terminal, { rows: 50, cols: 100 });
  });

  it('gives a PTY with a 0x0 terminal the default size', () => {
    const result = validateSpawnRequest(request({ stdin: v1.StdioKind.STDIO_PTY, terminal: { rows: 0, cols: 0 } }));
    assert.ok(result.ok);
    assert.deepEqual(result.value.terminal, { rows: 24, cols: 80 });
  });

  it('refuses NUL bytes and invalid UTF-8 in argv, env and paths', () => {
    assert.match(refusal({ argv: ['a\0b'] }), /argv\[0\]: contains a NUL/);
    assert.match(refusal({ argv: ['ok', 'x\uFFFDy'] }), /argv\[1\]: not valid UTF-8/);
    assert.match(refusal({ env: ['A=1\0'] }), /env\[0\]/);
    assert.match(refusal({ cwd: '/home/\0' }), /cwd/);
  });

  it('refuses relative and non-canonical paths', () => {
    assert.match(refusal({ cwd: 'proj' }), /cwd: not an absolute path/);
    for (const cwd of ['/a/../b', '/a/./b', '/a//b', '/a/']) assert.match(refusal({ cwd }), /not a canonical path/);
    assert.match(
      refusal({ grants: [{ path: '/x/..', access: v1.GrantAccess.GRANT_READ_WRITE }] }),
      /grants\[0\]\.path/,
    );
    assert.match(refusal({ storage: 'rel' }), /storage/);
  });

  it('refuses over-long paths and too many entries', () => {
    assert.match(refusal({ cwd: '/' + 'a'.repeat(LIMITS.pathBytes) }), /longer than/);
    assert.match(refusal({ argv: Array.from({ length: LIMITS.argv + 1 }, () => 'x') }), /argv: more than/);
    const grants = Array.from({ length: LIMITS.grants + 1 }, (_, i) => ({
      path: `/g${i}`,
      access: v1.GrantAccess.GRANT_READ_WRITE,
    }));
    assert.match(refusal({ grants }), /grants: more than/);
  });

  it('refuses bad jail names as upstream does', () => {
    for (const jail of ['../x', '..', '.', 'a/b', '.hidden', 'x\0y', 'é', 'a'.repeat(256)])
      assert.match(refusal({ jail }), /invalid sandbox name/, jail);
  });

  it('refuses masks that are absolute or climb', () => {
    assert.match(refusal({ masks: ['/etc'] }), /cannot mask an absolute path/);
    assert.match(refusal({ masks: ['../../etc/passwd'] }), /not a plain relative path/);
    assert.match(refusal({ masks: ['a//b'] }), /not a plain relative path/);
  });

  it('refuses env entries without a name', () => {
    assert.match(refusal({ env: ['=x'] }), /not NAME=VALUE/);
    assert.match(refusal({ env: ['NOEQUALS'] }), /not NAME=VALUE/);
  });

  it('drops JAI_SCRIPT, which only the helper sets', () => {
    const result = validateSpawnRequest(request({ env: ['JAI_SCRIPT=/tmp/evil', 'A=1'] }));
    assert.ok(result.ok);
    assert.deepEqual(result.value.env, ['A=1']);
  });

  it('keeps the last assignment of a duplicated variable, and __proto__ is only a name', () => {
    const result = validateSpawnRequest(request({ env: ['A=1', '__proto__=x', 'A=2'] }));
    assert.ok(result.ok);
    assert.deepEqual(result.value.env, ['A=2', '__proto__=x']);
  });

  it('refuses unspecified or unknown enum values', () => {
    assert.match(refusal({ stdin: v1.StdioKind.STDIO_UNSPECIFIED }), /stdin: unspecified/);
    assert.match(refusal({ stdout: 99 as v1.StdioKind }), /stdout: unknown kind/);
    assert.match(refusal({ mode: 7 as v1.Mode }), /mode: unknown/);
    assert.match(refusal({ grants: [{ path: '/a', access: v1.GrantAccess.GRANT_UNSPECIFIED }] }), /access/);
  });

  it('refuses an empty argv[0], a big umask and a bad act_as_user', () => {
    assert.match(refusal({ argv: [''] }), /argv\[0\]: empty/);
    assert.match(refusal({ umask: 0o1000 }), /umask/);
    assert.match(refusal({ actAsUser: '../root' }), /act_as_user/);
  });
});
