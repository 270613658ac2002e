// Checklist #28: kernel keyrings. Each session joins a fresh session keyring, but the user keyring (@u) is per uid:
// a casual or bare jail runs as the user and can link and read what the user's own sessions keep there (Kerberos
// KEYRING: caches, tokens) — shown here as the documented residual. The policy's `allow_keyring = false` closes it:
// the seccomp filter refuses add_key, request_key and keyctl.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { adminRequest } from '../helpers/admin-request';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';
import { MODES, probe } from './jail-modes';

const skip = privilegedSkipReason();

// x86-64: add_key 248, keyctl 250. The key is in the user's @u for 60 s (KEYCTL_SET_TIMEOUT 15).
const ADD = `my ($t, $d, $p) = ("user", "jaisec-keyring", "secret of the user");
my $id = syscall(248, $t, $d, $p, length $p, -4); die "add_key: $!" if $id < 0; syscall(250, 15, $id, 60);`;
// KEYCTL_LINK (8) @u into the session keyring, KEYCTL_SEARCH (10), KEYCTL_READ (11); errno of the first failure.
const READ = `my ($t, $d) = ("user", "jaisec-keyring");
if (syscall(250, 8, -4, -3) < 0) { print "link-failed ", $!+0, "\\n"; exit 0 }
my $id = syscall(250, 10, -3, $t, $d, 0); if ($id < 0) { print "not-found\\n"; exit 0 }
my $buf = "\\0" x 64; my $n = syscall(250, 11, $id, $buf, 64);
print $n > 0 ? "read " . substr($buf, 0, $n) . "\\n" : "read-failed\\n";`;

describe('#28 the user keyring from inside a jail', { skip: skip || process.arch !== 'x64' }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-keyring');
    const add = spawnSync('perl', ['-e', ADD], { uid: f.user.uid, gid: f.user.gid, encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: by default, reaches the user keyring only when the jail runs as the user`, () => {
      const r = probe(f, mode, `perl -e '${READ}'`);
      assert.equal(r.status, 0, r.stderr);
      if (mode === 'strict') assert.match(r.stdout, /^not-found$/m, 'strict runs as a sandbox uid: another @u');
      else assert.match(r.stdout, /^read secret of the user$/m, 'the residual the policy knob closes');
    });
  }

  it('with allow_keyring = false, every mode gets EPERM from the key syscalls', () => {
    fs.writeFileSync(f.policyFile, '[defaults]\nallow_keyring = false\n');
    const reload = adminRequest(f.adminSocket, 'POST', '/v1/policy/reload');
    assert.equal(reload.status, 200, reload.body);
    for (const mode of MODES) {
      const r = probe(f, mode, `perl -e '${READ}'; keyctl show @s 2>/dev/null; echo "keyctl-cmd=$?"`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^link-failed 1$/m, `${mode}: ${r.stdout}`);
    }
  });
});
