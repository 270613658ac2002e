// Checklist #25: strict jails of different users share no identity. Each user's strict jails run as that user's own
// sandbox uid and gid (jaid --sandbox-id-base + the user's uid), named `jai` inside; so what the kernel keys by uid
// alone stays apart: the per-uid user keyring (@u) — A's strict jail stores a key there, B's strict jail, running at
// the same time, must not find it — and RLIMIT_NPROC, counted per real uid. And the refusals: a uid outside the
// range, a sandbox id that an existing group already has.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { ensureTestUser, runJai, spawnJai, startFixture, type Fixture, type TestUser } from '../helpers/fixture';
import { ended } from './jail-modes';

const skip = privilegedSkipReason();
/** The second user (JAI_TEST_USER2 names another one, to run beside a suite that uses the default). */
const SECOND_USER = process.env['JAI_TEST_USER2'] ?? 'jaisec2';
/** jaid's default --sandbox-id-base (the fixture sets none). */
const SANDBOX_ID_BASE = 0x70000000;

// add_key(2) is syscall 248 and keyctl(2) 250 (the key expires after 30 s: KEYCTL_SET_TIMEOUT) on x86-64 (perl is in every Debian).
// (perl's syscall needs variables, not literals, for the string arguments.)
const ADD = `$| = 1; my ($t, $d, $p) = ("user", "jaisec-shared", "secret of A");
my $id = syscall(248, $t, $d, $p, length $p, -4); syscall(250, 15, $id, 30); print "added $id\\n"; sleep 8;`;
// KEYCTL_LINK (8) of KEY_SPEC_USER_KEYRING (-4) into the session keyring (-3), so that what is found through it is
// possessed; KEYCTL_SEARCH (10) there, then KEYCTL_READ (11).
const READ = `my ($t, $d) = ("user", "jaisec-shared"); syscall(250, 8, -4, -3);
my $id = syscall(250, 10, -3, $t, $d, 0); if ($id < 0) { print "not found\\n"; exit 0 }
my $buf = "\\0" x 64; my $n = syscall(250, 11, $id, $buf, 64);
print $n > 0 ? "read " . substr($buf, 0, $n) . "\\n" : "found $id, read failed: $!\\n";`;

// RLIMIT_NPROC 6, then one fork: "forked", or "fork failed 11" (EAGAIN) when the uid already has 6 processes.
const FORK = `import os, resource
resource.setrlimit(resource.RLIMIT_NPROC, (6, 6))
try:
    pid = os.fork()
except OSError as e:
    print("fork failed", e.errno)
    raise SystemExit(0)
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("forked")`;

/** Resolves once the child has printed `text` (or after ~5 s). */
async function printed(child: ReturnType<typeof spawnJai>, text: string): Promise<string> {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 100 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
  return out;
}

function jaiAccountUid(): number {
  return Number(execFileSync('id', ['-u', 'jai'], { encoding: 'utf8' }).trim());
}

describe('#25 strict jails of different users share nothing', { skip }, () => {
  let f: Fixture;
  let other: TestUser;
  before(async () => {
    f = await startFixture('sec-shared-uid');
    other = ensureTestUser(SECOND_USER);
    fs.rmSync(path.join(other.home, '.jai'), { recursive: true, force: true });
  });
  after(async () => {
    runJai(f, ['-u'], { as: other });
    fs.rmSync(path.join(other.home, '.jai'), { recursive: true, force: true });
    await f.teardown();
  });

  it("runs each user's strict jails as that user's own ids, named jai, never the jai account's uid", () => {
    const probe = 'id -u; id -g; id -G; id -un; id -gn';
    const a = runJai(f, ['-m', 'strict', 'sh', '-c', probe]);
    const b = runJai(f, ['-m', 'strict', '-D', 'sh', '-c', probe], { as: other });
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    const idA = SANDBOX_ID_BASE + f.user.uid;
    const idB = SANDBOX_ID_BASE + other.uid;
    assert.equal(a.stdout, `${idA}\n${idA}\n${idA}\njai\njai\n`);
    assert.equal(b.stdout, `${idB}\n${idB}\n${idB}\njai\njai\n`);
    assert.notEqual(idA, idB);
    assert.notEqual(idA, jaiAccountUid());
  });

  it(
    "B's strict jail cannot read a key A's strict jail put in its user keyring",
    { skip: process.arch !== 'x64' && 'syscall numbers of x86-64' },
    async () => {
      const a = spawnJai(f, ['-m', 'strict', 'perl', '-e', ADD]);
      try {
        const out = await printed(a, 'added');
        assert.match(out, /^added [1-9]\d*$/m, 'A stored the key');
        const b = runJai(f, ['-m', 'strict', '-D', 'perl', '-e', READ], { as: other });
        assert.equal(b.status, 0, b.stderr);
        assert.equal(b.stdout, 'not found\n', `B's strict jail: ${b.stdout}`);
        // A itself, in another strict jail of its own, shares its own keyring (the same ids): the probe works.
        const again = runJai(f, ['-m', 'strict', 'perl', '-e', READ]);
        assert.equal(again.stdout, 'read secret of A\n', again.stderr);
      } finally {
        a.kill('SIGTERM');
        await ended(a);
      }
    },
  );

  it("does not count A's strict processes against B's RLIMIT_NPROC", async () => {
    // A: eight sleeping processes under A's sandbox uid. B: RLIMIT_NPROC 6 (counted per real uid), then one fork.
    const a = spawnJai(f, ['-m', 'strict', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 20 & done; echo up; wait']);
    try {
      assert.match(await printed(a, 'up'), /^up$/m);
      const b = runJai(f, ['-m', 'strict', '-D', 'python3', '-c', FORK], { as: other });
      assert.equal(b.status, 0, b.stderr);
      assert.equal(b.stdout, 'forked\n');
      // The same probe in another strict jail of A's: A's own count is over the limit (the probe can fail).
      const self = runJai(f, ['-m', 'strict', 'python3', '-c', FORK]);
      assert.equal(self.stdout, 'fork failed 11\n', self.stderr);
    } finally {
      a.kill('SIGTERM');
      await ended(a);
    }
  });
});

describe('#25 strict mode is refused when the sandbox ids are unusable', { skip }, () => {
  it('refuses a user whose uid is outside --sandbox-id-count (exit 1), casual still runs', async () => {
    const user = ensureTestUser();
    const f = await startFixture('sec-uid-range', process.env, {
      daemonArgs: ['--sandbox-id-count', String(user.uid)],
    });
    try {
      const r = runJai(f, ['-m', 'strict', 'true']);
      assert.equal(
        r.stderr,
        `jai: Cannot use strict mode: uid ${user.uid} is outside the sandbox id range (jaid --sandbox-id-count ${user.uid})\n`,
      );
      assert.equal(r.status, 1);
      assert.equal(runJai(f, ['true']).status, 0);
    } finally {
      await f.teardown();
    }
  });

  it('refuses a user whose sandbox id an existing group has (exit 1)', async () => {
    const user = ensureTestUser();
    const id = SANDBOX_ID_BASE + user.uid;
    const group = `jaiclash${user.uid}`;
    spawnSync('groupdel', [group]);
    execFileSync('groupadd', ['--gid', String(id), group]);
    const f = await startFixture('sec-uid-taken');
    try {
      const r = runJai(f, ['-m', 'strict', 'true']);
      assert.equal(
        r.stderr,
        `jai: Cannot use strict mode: sandbox id ${id} (jaid --sandbox-id-base ${SANDBOX_ID_BASE} + uid ${user.uid}) is taken by group ${group}\n`,
      );
      assert.equal(r.status, 1);
    } finally {
      execFileSync('groupdel', [group]);
      await f.teardown();
    }
  });
});
