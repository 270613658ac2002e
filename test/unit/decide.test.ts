import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../daemon/policy/decide';
import {
  checkSandboxAccount,
  sandboxIdentityFor,
  SANDBOX_GECOS,
  STRICT_REFUSAL,
  type AccountCheck,
  type SandboxCheck,
} from '../../daemon/sandbox-account';
import type { GroupEntry, Identity, PasswdEntry } from '../../daemon/server/peer';
import type { ValidRequest } from '../../daemon/server/validate';

const alice: Identity = {
  user: 'alice',
  uid: 1001,
  gid: 1001,
  groups: [1001],
  home: '/home/alice',
  shell: '/bin/bash',
  peerPid: 1,
  peerUid: 1001,
};
const request = (mode: ValidRequest['mode']): ValidRequest => ({
  argv: ['true'],
  cwd: '/home/alice/p',
  env: [],
  mode,
  jail: 'default',
  nocwd: false,
  grants: [],
  masks: [],
  storage: null,
  configDir: null,
  network: null,
  limits: { memoryBytes: null, pids: null, cpu: null },
  stdio: ['null', 'null', 'null'],
  terminal: null,
  umask: 0o22,
  actAsUser: null,
  script: null,
  initjail: null,
});
const jai = { name: 'jai', uid: 990, gid: 990, dir: '/', shell: '/usr/sbin/nologin', gecos: SANDBOX_GECOS };

describe('the strict-mode account', () => {
  it('is accepted only with uid ≠ 0, the exact GECOS and home /', () => {
    assert.deepEqual(checkSandboxAccount(jai), { ok: true, account: { name: 'jai', uid: 990, gid: 990 } });
    assert.deepEqual(checkSandboxAccount(null), { ok: false, reason: 'missing' });
    for (const bad of [{ uid: 0 }, { gecos: 'JAI sandbox' }, { dir: '/home/jai' }, { gid: 0 }])
      assert.deepEqual(checkSandboxAccount({ ...jai, ...bad }), { ok: false, reason: 'invalid' }, JSON.stringify(bad));
  });
});

const RANGE = { base: 0x70000000, count: 0x10000000 };
const noEntries = { getpwuid: (): PasswdEntry | null => null, getgrgid: (): GroupEntry | null => null };
const sandboxOf = (uid: number, account: AccountCheck = checkSandboxAccount(jai)): SandboxCheck =>
  sandboxIdentityFor(uid, account, RANGE, noEntries);

describe("a user's sandbox ids", () => {
  it("are base + the uid, for uid and gid alike, under the jai account's name", () => {
    assert.deepEqual(sandboxOf(1001), {
      ok: true,
      sandbox: { name: 'jai', uid: 0x70000000 + 1001, gid: 0x70000000 + 1001, range: RANGE },
    });
    const other = sandboxOf(1002);
    assert.ok(other.ok);
    assert.equal(other.sandbox.uid, 0x70000000 + 1002, 'two users, two ids');
    assert.equal(sandboxOf(RANGE.count - 1).ok, true, 'the last uid of the range');
  });

  it('are refused beyond the range, with a message naming the option', () => {
    for (const uid of [RANGE.count, RANGE.count + 5, 0xfffffffe]) {
      const r = sandboxOf(uid);
      assert.ok(!r.ok && r.reason === 'out-of-range', String(uid));
      assert.match(r.message, new RegExp(`uid ${uid} is outside the sandbox id range \\(jaid --sandbox-id-count`));
    }
    const small = sandboxIdentityFor(70000, checkSandboxAccount(jai), { base: 100000, count: 65536 }, noEntries);
    assert.ok(!small.ok && small.reason === 'out-of-range');
  });

  it('are refused when a passwd or group entry has the id, or the lookup fails (fail closed)', () => {
    const id = RANGE.base + 1001;
    const user = sandboxIdentityFor(1001, checkSandboxAccount(jai), RANGE, {
      getpwuid: (uid) => (uid === id ? { ...jai, name: 'mallory', uid } : null),
      getgrgid: () => null,
    });
    assert.ok(!user.ok && user.reason === 'id-taken');
    assert.match(user.message, new RegExp(`sandbox id ${id} .* is taken by user mallory`));
    const group = sandboxIdentityFor(1001, checkSandboxAccount(jai), RANGE, {
      getpwuid: () => null,
      getgrgid: (gid) => (gid === id ? { name: 'builders', gid } : null),
    });
    assert.ok(!group.ok && group.reason === 'id-taken');
    assert.match(group.message, /taken by group builders/);
    const broken = sandboxIdentityFor(1001, checkSandboxAccount(jai), RANGE, {
      getpwuid: () => {
        throw new Error('nss down');
      },
      getgrgid: () => null,
    });
    assert.ok(!broken.ok && broken.reason === 'id-taken');
    assert.match(broken.message, /a lookup that failed \(nss down\)/);
  });

  it("need a valid jai account, and are never the jai account's own", () => {
    assert.deepEqual(sandboxOf(1001, checkSandboxAccount(null)), { ok: false, reason: 'missing' });
    assert.deepEqual(sandboxOf(1001, checkSandboxAccount({ ...jai, dir: '/home/jai' })), {
      ok: false,
      reason: 'invalid',
    });
    assert.deepEqual(sandboxOf(990), { ok: false, reason: 'own-account' });
  });
});

describe('policy decision', () => {
  it('allows casual and bare without an account, strict only with a valid one', () => {
    const none = sandboxOf(1001, checkSandboxAccount(null));
    assert.equal(decide(alice, request('casual'), none).ok, true);
    assert.equal(decide(alice, request('bare'), none).ok, true);
    const refused = decide(alice, request('strict'), none);
    assert.ok(!refused.ok);
    assert.equal(refused.code, 'MODE_UNSUPPORTED');
    assert.equal(refused.message, STRICT_REFUSAL);
    const allowed = decide(alice, request('strict'), sandboxOf(1001));
    assert.ok(allowed.ok);
    assert.equal(allowed.sandbox?.uid, 0x70000000 + 1001);
    assert.equal(allowed.sandbox.name, 'jai');
  });

  it('refuses strict mode with exit 1 when the sandbox ids are out of range or taken', () => {
    for (const check of [
      sandboxOf(RANGE.count),
      sandboxIdentityFor(1001, checkSandboxAccount(jai), RANGE, {
        getpwuid: (uid) => ({ ...jai, name: 'taken', uid }),
        getgrgid: () => null,
      }),
    ]) {
      const r = decide(alice, request('strict'), check);
      assert.ok(!r.ok);
      assert.equal(r.code, 'MODE_UNSUPPORTED');
      assert.equal(r.exitCode, 1);
      assert.match(r.message, /^Cannot use strict mode: /);
    }
    assert.equal(decide(alice, request('casual'), sandboxOf(RANGE.count)).ok, true, 'other modes are unaffected');
  });

  it('refuses root, and the untrusted account sandboxing itself', () => {
    assert.equal(decide({ ...alice, uid: 0 }, request('casual'), sandboxOf(0)).ok, false);
    const own = decide({ ...alice, uid: 990 }, request('strict'), sandboxOf(990));
    assert.ok(!own.ok);
    assert.equal(own.code, 'POLICY_DENIED');
  });
});
