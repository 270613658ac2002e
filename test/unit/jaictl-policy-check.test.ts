// `jaictl policy check FILE`: the daemon's loader, run locally with no daemon; its verdict printed and turned into
// the exit status. The loader is injected here (daemon/policy/load.ts is tested on its own).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicyChecker, type PolicyChecker } from '../../client/ctl/policy-check';
import type { Policy } from '../../daemon/policy/types';
import { jaictl } from './jaictl-fake-api';

const DEFAULTS: Policy['defaults'] = {
  allowModes: ['casual', 'strict', 'bare'],
  maxSessions: 8,
  network: 'host',
  allowUserns: false,
  allowKeyring: true,
  denyGrants: [],
  masks: [],
  unsetenv: [],
  limits: { memoryBytes: null, pids: null, cpu: null },
};

function policy(rules: number, adminGroup: string | null): Policy {
  const rule = { name: 'r', users: [], groups: [], deny: false, overrides: {} };
  return {
    source: '/etc/jai/policy.toml',
    adminGroup,
    defaults: DEFAULTS,
    rules: Array.from({ length: rules }, () => rule),
  };
}

describe('jaictl policy check', () => {
  it('says ok with the rule count and admin group, exit 0, without any socket', async () => {
    const seen: string[] = [];
    const checkPolicy: PolicyChecker = (file) => {
      seen.push(file);
      return { ok: true, policy: policy(3, 'jaiadmin') };
    };
    const r = await jaictl(['--socket', '/nonexistent/admin.sock', 'policy', 'check', 'site.toml'], { checkPolicy });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'site.toml: ok (3 rules, admin group jaiadmin)\n');
    assert.deepEqual(seen, ['site.toml']);
    const one = await jaictl(['policy', 'check', 'p.toml'], {
      checkPolicy: () => ({ ok: true, policy: policy(1, null) }),
    });
    assert.equal(one.stdout, 'p.toml: ok (1 rule, no admin group)\n');
  });

  it("prints the loader's message and exits 1 for an invalid file", async () => {
    const checkPolicy: PolicyChecker = () => ({
      ok: false,
      message: 'bad.toml:4: maxSessions must be a positive integer',
    });
    const r = await jaictl(['policy', 'check', 'bad.toml'], { checkPolicy });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'jaictl: bad.toml:4: maxSessions must be a positive integer\n');
  });

  it('--json gives the verdict as an object', async () => {
    const ok = await jaictl(['--json', 'policy', 'check', 'a.toml'], {
      checkPolicy: () => ({ ok: true, policy: policy(2, 'wheel') }),
    });
    assert.deepEqual(JSON.parse(ok.stdout), { file: 'a.toml', ok: true, rules: 2, adminGroup: 'wheel' });
    const bad = await jaictl(['policy', 'check', 'b.toml', '--json'], {
      checkPolicy: () => ({ ok: false, message: 'nope' }),
    });
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.stdout), { file: 'b.toml', ok: false, message: 'nope' });
  });

  it('escapes control characters in the file name and message, keeping the lines of a long message', async () => {
    const r = await jaictl(['policy', 'check', 'x\u001b[1m.toml'], {
      checkPolicy: () => ({ ok: false, message: 'x.toml: 2 errors\n  line 1: \u001b[1m\r\n  line 2: bad' }),
    });
    assert.equal(r.stderr, 'jaictl: x.toml: 2 errors\n  line 1: \\x1b[1m\\x0d\n  line 2: bad\n');
    const ok = await jaictl(['policy', 'check', 'x\u001b[1m.toml'], {
      checkPolicy: () => ({ ok: true, policy: policy(0, 'g\u0007') }),
    });
    assert.equal(ok.stdout, 'x\\x1b[1m.toml: ok (0 rules, admin group g\\x07)\n');
  });

  it('the real adapter either loads the daemon loader or says plainly why it cannot', () => {
    const loader = loadPolicyChecker();
    if (loader.ok) {
      const r = loader.check('/nonexistent/policy.toml');
      assert.equal(r.ok, false);
    } else assert.match(loader.message, /^cannot load the policy loader: /);
  });
});
