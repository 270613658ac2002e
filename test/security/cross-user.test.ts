// Checklist #14: another user cannot read a user's jail state: the per-user dir under /run/jai (the private /tmp, the
// overlay mount), the storage dir (changes, private homes) and the jail's processes' /proc/PID/root, in every mode.
// (Cross-user session control through the admin API, #7, is in test/integration/policy.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import {
  ensureTestUser,
  helperProcesses,
  spawnJai,
  startFixture,
  type Fixture,
  type TestUser,
} from '../helpers/fixture';
import { MODES, ended, homeStore } from './jail-modes';

const skip = privilegedSkipReason();

/** Each path: can user B list or read it? */
const READER = `
import os, sys
for p in sys.argv[1:]:
    try:
        if os.path.isdir(p):
            os.listdir(p)
        else:
            open(p, 'rb').read(1)
        print(p, 'READABLE')
    except OSError as e:
        print(p, 'denied', e.errno)
`;

describe("#14 another user cannot read a user's jail state", { skip }, () => {
  let f: Fixture;
  let other: TestUser;
  before(async () => {
    f = await startFixture('sec-xuser');
    other = ensureTestUser('jaisec2');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: B reads nothing of A's running jail: /run/jai/A, A's storage, /proc/<jail pid>/root`, async (t) => {
      const session = spawnJai(f, ['-m', mode, 'sh', '-c', 'echo secret > /tmp/jaisec-a-tmp; echo up; exec sleep 30']);
      let out = '';
      session.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      try {
        for (let i = 0; i < 200 && out !== 'up\n'; i++) await new Promise((r) => setTimeout(r, 25));
        assert.equal(out, 'up\n');
        const init = helperProcesses().find((p) => p.endsWith('jai-init'));
        assert.ok(init !== undefined);
        const initPid = init.split(' ')[0] ?? '';
        const children = fs.readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim();
        const state = `/run/jai/${f.user.name}`;
        const targets = [
          state,
          `${state}/tmp`,
          `${state}/tmp/default/jaisec-a-tmp`,
          `${state}/default.home`,
          path.join(f.user.home, '.jai'),
          path.join(f.user.home, '.jai', homeStore(mode)),
          `/proc/${initPid}/root/tmp`,
          `/proc/${initPid}/environ`,
          ...children
            .split(' ')
            .flatMap((pid) => [`/proc/${pid}/root/tmp`, `/proc/${pid}/cwd`, `/proc/${pid}/environ`]),
        ];
        const r = spawnSync('python3', ['-c', READER, ...targets], {
          uid: other.uid,
          gid: other.gid,
          encoding: 'utf8',
          env: { PATH: '/usr/bin:/bin' },
        });
        const lines = r.stdout.trim().split('\n');
        t.diagnostic(lines.map((l) => l.replace(f.user.home, '~A')).join(' | '));
        assert.equal(lines.length, targets.length, r.stdout + r.stderr);
        // The state dir itself may be listable (its names say nothing secret); nothing below it may be read.
        assert.deepEqual(
          lines.filter((l) => l.endsWith('READABLE') && !l.startsWith(`${state} `)),
          [],
          r.stdout,
        );
      } finally {
        session.kill('SIGTERM');
        await ended(session);
      }
    });
  }
});
