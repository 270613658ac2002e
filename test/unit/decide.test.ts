import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../daemon/policy/decide';
import { checkSandboxAccount, SANDBOX_GECOS, STRICT_REFUSAL } from '../../daemon/sandbox-account';
import type { Identity } from '../../daemon/server/peer';
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

describe('policy decision', () => {
  it('allows casual and bare without an account, strict only with a valid one', () => {
    const none = checkSandboxAccount(null);
    assert.equal(decide(alice, request('casual'), none).ok, true);
    assert.equal(decide(alice, request('bare'), none).ok, true);
    const refused = decide(alice, request('strict'), none);
    assert.ok(!refused.ok);
    assert.equal(refused.message, STRICT_REFUSAL);
    const allowed = decide(alice, request('strict'), checkSandboxAccount(jai));
    assert.ok(allowed.ok);
    assert.equal(allowed.sandbox?.uid, 990);
  });

  it('refuses root, and the untrusted account sandboxing itself', () => {
    assert.equal(decide({ ...alice, uid: 0 }, request('casual'), checkSandboxAccount(jai)).ok, false);
    assert.equal(decide({ ...alice, uid: 990 }, request('strict'), checkSandboxAccount(jai)).ok, false);
  });
});
