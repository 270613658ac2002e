// Checklist #23: a jailed program sees and reaches no host process. Its PID namespace holds init and itself; a
// host process of the same user (the jai client, a sleeper), jaid and the outer helper cannot be signalled,
// pidfd_open'ed or looked up in /proc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { helperProcesses, runJai, spawnJai, startFixture, type Fixture } from '../helpers/fixture';
import { MODES, ended, isAlive, probe } from './jail-modes';

const skip = privilegedSkipReason();

/** For each pid: kill -0, kill -9, pidfd_open and /proc/PID, as seen from inside. */
const REACH = `
import os, signal, sys
for arg in sys.argv[1:]:
    pid = int(arg)
    out = []
    for name, fn in (('kill0', lambda: os.kill(pid, 0)), ('kill9', lambda: os.kill(pid, signal.SIGKILL)),
                     ('pidfd', lambda: os.close(os.pidfd_open(pid))), ('proc', lambda: os.stat('/proc/%d' % pid))):
        try:
            fn()
            out.append(name + '=REACHED')
        except OSError as e:
            out.append(name + '=' + str(e.errno))
    print(pid, ' '.join(out))
`;

describe('#23 host processes are invisible and unreachable from inside', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-procs');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: the client, a host sleeper of the user, jaid and the helper cannot be signalled or opened`, async () => {
      const sleeper = spawn('sleep', ['60'], { uid: f.user.uid, gid: f.user.gid, stdio: 'ignore' });
      // A running session of the same user: its client and helper are host processes too.
      const other = spawnJai(f, ['-m', mode, 'sleep', '60']);
      try {
        let helper: number | undefined;
        for (let i = 0; i < 100 && helper === undefined; i++) {
          const found = helperProcesses().find((p) => p.endsWith('jai-helper'));
          if (found !== undefined) helper = Number(found.split(' ')[0]);
          else await new Promise((r) => setTimeout(r, 50));
        }
        const pids = [sleeper.pid, other.pid, f.daemon.pid, helper, process.pid].filter(
          (p): p is number => p !== undefined && p > 2,
        );
        assert.ok(pids.length >= 4, `host pids to try: ${JSON.stringify(pids)}`);
        const r = runJai(f, ['-m', mode, 'python3', '-c', REACH, ...pids.map(String)]);
        assert.equal(r.status, 0, r.stderr);
        const inside = r.stdout.trim().split('\n');
        for (const pid of pids) {
          const line = inside.find((l) => l.startsWith(`${pid} `));
          assert.ok(line !== undefined, inside.join('\n'));
          assert.doesNotMatch(line, /REACHED/, line);
        }
        assert.ok(isAlive(sleeper.pid ?? 0) && other.exitCode === null, 'nothing on the host was killed');
      } finally {
        sleeper.kill('SIGKILL');
        other.kill('SIGTERM');
        await Promise.all([ended(sleeper), ended(other)]);
      }
    });

    it(`${mode}: /proc inside lists only init and the program`, () => {
      const r = probe(f, mode, 'for p in /proc/[0-9]*; do echo "${p#/proc/}"; done');
      assert.equal(r.status, 0, r.stderr);
      // The shell's own children (none here: the glob is expanded by the shell itself).
      assert.deepEqual(r.stdout.trim().split('\n'), ['1', '2']);
    });
  }
});
