// What must hold of every result the fuzzed functions return, written from the documented contracts (proto/jai.proto
// field comments, docs/protocol.md, native/README.md's status records, docs/policy.md). Each check throws an
// AssertionError naming the broken invariant; fast-check reports it with the counterexample.
import assert from 'node:assert/strict';
import { MAX_PACKET_FDS, v1 } from '../../proto/codec';
import type { Failure } from '../../daemon/errors';
import { LIMITS, expectedFdCount, type ValidRequest, type ValidTeardown } from '../../daemon/server/validate';
import { parseStatusRecord, type StatusRecord } from '../../daemon/session/status-record';
import type { PolicyLoad } from '../../daemon/policy/load';
import type { Limits, PolicySettings } from '../../daemon/policy/types';
import { MAX_CPU, MAX_PIDS, MIN_MEMORY_BYTES } from '../../common/units';

type Checked<T> = { ok: true; value: T } | Failure;

const bytesOf = (s: string): number => Buffer.byteLength(s, 'utf8');

function assertText(value: string, what: string, maxBytes: number): void {
  assert.ok(!value.includes('\0'), `${what} contains NUL`);
  assert.ok(!value.includes('\uFFFD'), `${what} contains U+FFFD`);
  assert.ok(bytesOf(value) <= maxBytes, `${what} is over ${maxBytes} bytes`);
}

export function isCanonicalAbsolute(path: string): boolean {
  if (path === '/') return true;
  return (
    path.startsWith('/') &&
    path
      .slice(1)
      .split('/')
      .every((p) => p !== '' && p !== '.' && p !== '..')
  );
}

function assertCanonical(path: string, what: string): void {
  assertText(path, what, LIMITS.pathBytes);
  assert.ok(isCanonicalAbsolute(path), `${what} is not canonical absolute: ${JSON.stringify(path.slice(0, 80))}`);
}

function assertCanonicalOrNull(path: string | null, what: string): void {
  if (path !== null) assertCanonical(path, what);
}

const JAIL_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/;
const MODES: Record<number, ValidRequest['mode'] | undefined> = { 0: 'casual', 1: 'casual', 2: 'strict', 3: 'bare' };
const STDIO: Record<number, string | undefined> = { 1: 'pass', 2: 'pty', 3: 'null' };
const NETWORKS: Record<number, string | null | undefined> = { 0: null, 1: 'host', 2: 'loopback', 3: 'none' };

/** A refusal of a client request: REQUEST_INVALID, exit 1, a short one-line message (it goes back to the client). */
export function assertRequestRefusal(failure: Failure): void {
  assert.equal(failure.code, 'REQUEST_INVALID');
  assert.equal(failure.exitCode, 1);
  assert.equal(typeof failure.message, 'string');
  assert.ok(failure.message.length > 0, 'empty refusal message');
  assert.ok(failure.message.length <= 200, `refusal message of ${failure.message.length} characters`);
}

function assertLimits(limits: Limits): void {
  const { memoryBytes, pids, cpu } = limits;
  if (memoryBytes !== null)
    assert.ok(Number.isSafeInteger(memoryBytes) && memoryBytes >= 1 && memoryBytes <= LIMITS.memoryBytes, 'memory');
  if (pids !== null) assert.ok(Number.isInteger(pids) && pids >= 1 && pids <= LIMITS.pids, 'pids');
  if (cpu !== null) assert.ok(cpu > 0 && cpu <= LIMITS.cpuMillis / 1000, 'cpu');
}

/** Last assignment of each name wins; JAI_SCRIPT is the helper's and never comes from the client. */
function expectedEnv(env: readonly string[]): Map<string, string> {
  const byName = new Map<string, string>();
  for (const entry of env) byName.set(entry.slice(0, entry.indexOf('=')), entry);
  byName.delete('JAI_SCRIPT');
  return byName;
}

export function assertValidRequest(v: ValidRequest, req: v1.SpawnRequest): void {
  assert.deepEqual(v.argv, [...req.argv]);
  assert.ok(v.argv.length <= LIMITS.argv, 'argv too long');
  v.argv.forEach((a, i) => assertText(a, `argv[${i}]`, LIMITS.stringBytes));
  if (v.argv.length > 0) assert.notEqual(v.argv[0], '', 'argv[0] empty');

  assertCanonical(v.cwd, 'cwd');
  assert.equal(v.cwd, req.cwd);

  assert.ok(req.env.length <= LIMITS.env, 'env too long');
  for (const [i, entry] of req.env.entries()) {
    assertText(entry, `env[${i}]`, LIMITS.stringBytes);
    assert.ok(entry.indexOf('=') > 0, `env[${i}] is not NAME=VALUE`);
  }
  assert.deepEqual(new Set(v.env), new Set(expectedEnv(req.env).values()));
  assert.equal(v.env.length, expectedEnv(req.env).size, 'env names not unique');

  assert.equal(v.mode, MODES[req.mode], 'mode');
  assert.equal(v.jail, req.jail === '' ? 'default' : req.jail);
  assert.ok(JAIL_NAME.test(v.jail) && bytesOf(v.jail) <= LIMITS.jailBytes, 'jail name');
  assert.equal(typeof v.nocwd, 'boolean');

  assert.ok(v.grants.length <= LIMITS.grants, 'too many grants');
  assert.equal(v.grants.length, req.grants.length);
  for (const [i, g] of v.grants.entries()) {
    assertCanonical(g.path, `grants[${i}].path`);
    const access = req.grants[i]?.access;
    assert.ok(access === v1.GrantAccess.GRANT_READ_WRITE || access === v1.GrantAccess.GRANT_READ_ONLY, 'access');
    assert.equal(g.readOnly, access === v1.GrantAccess.GRANT_READ_ONLY);
  }

  assert.ok(v.masks.length <= LIMITS.masks, 'too many masks');
  for (const [i, mask] of v.masks.entries()) {
    assertText(mask, `masks[${i}]`, LIMITS.pathBytes);
    assert.ok(!mask.startsWith('/') && mask.split('/').every((p) => p !== '' && p !== '.' && p !== '..'), 'mask');
  }

  assertCanonicalOrNull(v.storage, 'storage');
  assertCanonicalOrNull(v.configDir, 'configDir');
  assertCanonicalOrNull(v.initjail, 'initjail');

  assert.deepEqual(v.stdio, [STDIO[req.stdin], STDIO[req.stdout], STDIO[req.stderr]]);
  if (v.stdio.includes('pty')) {
    assert.ok(v.terminal !== null, 'a PTY without a terminal size');
    for (const n of [v.terminal.rows, v.terminal.cols])
      assert.ok(Number.isInteger(n) && n >= 1 && n <= 0xffff, `terminal size ${n}`);
  } else {
    assert.equal(v.terminal, null);
  }

  assert.ok(Number.isInteger(v.umask) && v.umask >= 0 && v.umask <= 0o777, 'umask');
  if (v.actAsUser !== null)
    assert.ok(USER_NAME.test(v.actAsUser) && v.actAsUser.length <= LIMITS.userBytes, 'act_as_user');
  if (v.script !== null) {
    assert.notEqual(v.script, '');
    assertText(v.script, 'script', LIMITS.scriptBytes);
  }
  assert.equal(v.network, NETWORKS[req.network], 'network');
  assertLimits(v.limits);

  const fds = expectedFdCount(v);
  assert.equal(fds, (v.nocwd ? 0 : 1) + v.grants.length + v.stdio.filter((s) => s === 'pass').length);
  assert.ok(fds <= MAX_PACKET_FDS, `${fds} fds expected, more than one packet carries`);
}

/** validateSpawnRequest's verdict: either a well-formed ValidRequest or a well-formed refusal. */
export function assertSpawnVerdict(req: v1.SpawnRequest, result: Checked<ValidRequest>): 'accepted' | 'refused' {
  if (!result.ok) {
    assertRequestRefusal(result);
    return 'refused';
  }
  assertValidRequest(result.value, req);
  return 'accepted';
}

export function assertTeardownVerdict(req: v1.Teardown, result: Checked<ValidTeardown>): 'accepted' | 'refused' {
  if (!result.ok) {
    assertRequestRefusal(result);
    return 'refused';
  }
  const v = result.value;
  if (v.jail !== null) assert.ok(JAIL_NAME.test(v.jail) && bytesOf(v.jail) <= LIMITS.jailBytes, 'jail name');
  assert.equal(v.jail, req.jail === '' ? null : req.jail);
  assert.equal(v.mode, MODES[req.mode], 'mode');
  assertCanonicalOrNull(v.storage, 'storage');
  assertCanonicalOrNull(v.configDir, 'configDir');
  if (v.actAsUser !== null)
    assert.ok(USER_NAME.test(v.actAsUser) && v.actAsUser.length <= LIMITS.userBytes, 'act_as_user');
  return 'accepted';
}

// ---- Helper status records (native/README.md).

const MAX_RECORD = 4096;

/** The record as the helper would have written it. */
export function formatStatusRecord(r: StatusRecord): string {
  switch (r.kind) {
    case 'pty':
      return 'pty';
    case 'started':
      return `started ${r.pid}`;
    case 'error':
      return `error ${r.code} ${r.stage === '' ? '' : `${r.stage}: `}${r.message}`;
    case 'exit':
      return `exit ${r.code}`;
    case 'signal':
      return `signal ${r.signo}`;
    case 'stopped':
      return `stopped ${r.signo}`;
    case 'notice':
      return `notice ${r.text}`;
    case 'masks-ignored':
      return `masks-ignored ${r.path}`;
    case 'changes':
      return `changes ${r.count} ${r.truncated ? 1 : 0}`;
    case 'changed':
      return `changed ${r.path}`;
  }
}

const inRange = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;

export function assertStatusRecord(data: Buffer, record: StatusRecord | null): string {
  if (data.length === 0 || data.length > MAX_RECORD) assert.equal(record, null, 'record of a bad size parsed');
  if (record === null) return 'null';
  switch (record.kind) {
    case 'pty':
      break;
    case 'started':
      assert.ok(inRange(record.pid, 1, 0x7fffffff), 'pid');
      break;
    case 'exit':
      assert.ok(inRange(record.code, 0, 255), 'exit code');
      break;
    case 'signal':
      assert.ok(inRange(record.signo, 1, 64), 'signal');
      break;
    case 'stopped':
      assert.ok([19, 20, 21, 22].includes(record.signo), 'stop signal');
      break;
    case 'notice':
      assert.notEqual(record.text, '');
      break;
    case 'masks-ignored':
      assert.ok(record.path.startsWith('/'), 'masks-ignored path');
      break;
    case 'changes':
      assert.ok(inRange(record.count, 0, 0xffffffff), 'count');
      assert.equal(typeof record.truncated, 'boolean');
      break;
    case 'changed':
      assert.ok(record.path !== '' && !record.path.startsWith('/'), 'changed path');
      break;
    case 'error':
      assert.ok(inRange(record.code, 0, 255), 'error code');
      assert.ok(record.stage === '' || /^[a-z]+$/.test(record.stage), 'stage');
      assert.equal(typeof record.message, 'string');
      break;
  }
  // Written back out, the record reads the same (unless normalising the text made it too long).
  const again = Buffer.from(formatStatusRecord(record), 'utf8');
  if (again.length <= MAX_RECORD)
    assert.deepEqual(parseStatusRecord(again), record, 'record does not read back the same');
  return record.kind;
}

// ---- Policy files (docs/policy.md).

/** `file:line: key: message`, `file:line:column: message` (TOML syntax) or `file: message`. */
function locationPattern(file: string): RegExp {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}(?::(\\d+)(?::(\\d+))?)?: .`, 's');
}

function assertSettings(s: Partial<Omit<PolicySettings, 'limits'>>, where: string): void {
  if (s.allowModes !== undefined) {
    assert.ok(s.allowModes.length > 0, `${where}: no mode allowed`);
    assert.equal(new Set(s.allowModes).size, s.allowModes.length, `${where}: a mode twice`);
    for (const m of s.allowModes) assert.ok(['casual', 'strict', 'bare'].includes(m), `${where}: mode ${m}`);
  }
  if (s.maxSessions !== undefined) assert.ok(inRange(s.maxSessions, 0, 100000), `${where}: max_sessions`);
  if (s.network !== undefined) assert.ok(['host', 'loopback', 'none'].includes(s.network), `${where}: network`);
  for (const p of s.denyGrants ?? []) assert.ok(!p.includes('\0') && isCanonicalAbsolute(p), `${where}: deny_grants`);
  for (const m of s.masks ?? [])
    assert.ok(
      !m.includes('\0') && !m.startsWith('/') && m.split('/').every((p) => p !== '' && p !== '.' && p !== '..'),
      `${where}: masks`,
    );
  for (const u of s.unsetenv ?? []) assert.ok(u !== '' && !u.includes('\0') && !u.includes('='), `${where}: unsetenv`);
}

function assertPolicyLimits(limits: Partial<Limits>, where: string): void {
  const { memoryBytes, pids, cpu } = limits;
  if (typeof memoryBytes === 'number') assert.ok(memoryBytes >= MIN_MEMORY_BYTES, `${where}: memory`);
  if (typeof pids === 'number') assert.ok(inRange(pids, 1, MAX_PIDS), `${where}: pids`);
  if (typeof cpu === 'number') assert.ok(cpu > 0 && cpu <= MAX_CPU, `${where}: cpu`);
}

/**
 * parsePolicy's result: a policy that satisfies the schema, or problems that start with the file's name and, when
 * they give one, a line of the file. With `everyLine`, each line of the message must itself start so (one problem per
 * line, as `jaictl policy check` prints them).
 */
export function assertPolicyLoad(
  source: string,
  file: string,
  result: PolicyLoad,
  everyLine = false,
): 'accepted' | 'refused' {
  if (!result.ok) {
    assert.equal(typeof result.message, 'string');
    const sourceLines = source.split('\n').length;
    const pattern = locationPattern(file);
    const lines = result.message.split('\n');
    assert.ok(pattern.test(result.message), `a message without its location: ${JSON.stringify(result.message)}`);
    for (const line of everyLine ? lines : [lines[0] ?? '']) {
      const match = pattern.exec(line);
      assert.ok(match !== null, `a problem line without its location: ${JSON.stringify(line.slice(0, 200))}`);
      const lineNumber = match[1] === undefined ? null : Number(match[1]);
      if (lineNumber !== null)
        assert.ok(lineNumber >= 1 && lineNumber <= sourceLines + 1, `line ${lineNumber} of a ${sourceLines}-line file`);
    }
    const located = lines.filter((line) => pattern.test(line)).length;
    assert.ok(located <= 51, `${located} problems reported (at most 50 and a count)`);
    return 'refused';
  }
  const { policy } = result;
  assert.equal(policy.source, file);
  if (policy.adminGroup !== null) assert.ok(USER_NAME.test(policy.adminGroup), 'admin_group');
  assertSettings(policy.defaults, 'defaults');
  assertPolicyLimits(policy.defaults.limits, 'defaults');
  assert.ok(policy.rules.length <= 1000, 'rules');
  const names = new Set<string>();
  for (const rule of policy.rules) {
    assert.ok(/^[A-Za-z0-9._-]{1,64}$/.test(rule.name) && rule.name !== 'defaults', `rule name ${rule.name}`);
    assert.ok(!names.has(rule.name), `rule ${rule.name} twice`);
    names.add(rule.name);
    assert.ok(rule.users.length + rule.groups.length > 0, `rule ${rule.name} matches nobody`);
    for (const n of [...rule.users, ...rule.groups]) assert.ok(USER_NAME.test(n), `rule ${rule.name}: name ${n}`);
    assertSettings(rule.overrides, `rule ${rule.name}`);
    assertPolicyLimits(rule.overrides.limits ?? {}, `rule ${rule.name}`);
  }
  return 'accepted';
}
