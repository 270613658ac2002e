// Checklist #30: resource exhaustion from inside. PTYs: each jail's devpts instance has max=256, so one jail cannot
// take every PTY of kernel.pty.max from the other jails (the host keeps kernel.pty.reserve for its own instance).
// Memory: what a jail writes to its /tmp and /dev/shm (tmpfs) is charged to the session's memory cgroup, so a
// ceiling stops a `dd` there as it stops an allocation. (Fork bombs under pids.max: I:policy.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';
import { MODES, probe } from './jail-modes';

const skip = privilegedSkipReason();

const OPEN_PTYS = `python3 -c '
import os
n = 0
try:
    while True:
        os.openpty()
        n += 1
except OSError as e:
    print("ptys=%d errno=%d" % (n, e.errno))
'`;

describe('#30 resource exhaustion from inside a jail', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-exhaustion');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: a jail gets at most 256 PTYs (ENOSPC), and the host still gets one`, (t) => {
      const r = probe(f, mode, OPEN_PTYS);
      assert.equal(r.status, 0, r.stderr);
      t.diagnostic(`${mode}: ${r.stdout.trim()}`);
      const m = /^ptys=(\d+) errno=(\d+)$/m.exec(r.stdout);
      assert.ok(m !== null, r.stdout);
      assert.ok(Number(m[1]) <= 256 && Number(m[1]) >= 200, `ptys=${m[1] ?? ''}`);
      assert.equal(m[2], '28', 'ENOSPC: the instance is full, not the fd table');
      const host = spawnSync('python3', ['-c', 'import os; os.openpty(); print("ok")'], { encoding: 'utf8' });
      assert.equal(host.stdout, 'ok\n', host.stderr);
    });
  }

  for (const where of ['/tmp', '/dev/shm']) {
    it(`writing 256M to ${where} under a 64M memory ceiling is stopped`, (t) => {
      const r = runJai(f, ['--memory=64M', 'sh', '-c', `dd if=/dev/zero of=${where}/jaisec-big bs=1M count=256`]);
      t.diagnostic(`status ${String(r.status)}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
      assert.notEqual(r.status, 0, 'dd did not finish');
      const size = runJai(f, ['sh', '-c', `du -m ${where}/jaisec-big | cut -f1; rm -f ${where}/jaisec-big`]);
      assert.equal(size.status, 0, size.stderr);
      assert.ok(Number(size.stdout.trim()) <= 64, `${size.stdout.trim()}M written`);
    });
  }
});
