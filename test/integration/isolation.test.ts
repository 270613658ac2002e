// What the jailed program can see of the system: its own PID namespace, no privileges, no stray fds, its own
// devpts, and none of jaid's state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import fs from 'node:fs';
import { helperProcesses, runJai, runJaiInTerminal, spawnJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('jail isolation', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('isolation');
  });
  after(async () => {
    await f.teardown();
  });

  it('shows the program only PIDs 1 (init) and 2 (itself)', () => {
    const r = runJai(f, ['ls', '/proc']);
    assert.equal(r.status, 0, r.stderr);
    const pids = r.stdout.split('\n').filter((name) => /^\d+$/.test(name));
    assert.deepEqual(pids, ['1', '2']);
    const self = runJai(f, ['sh', '-c', 'echo $$']);
    assert.equal(self.stdout, '2\n', 'the program is PID 2');
  });

  it('runs with no_new_privs and no capabilities, as the user', () => {
    const r = runJai(f, ['sh', '-c', 'grep -E "^(NoNewPrivs|CapEff|CapPrm|CapAmb|Uid|Gid):" /proc/self/status']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
    assert.match(r.stdout, /^CapEff:\s+0000000000000000$/m);
    assert.match(r.stdout, /^CapPrm:\s+0000000000000000$/m);
    assert.match(
      r.stdout,
      new RegExp(`^Uid:\\s+${f.user.uid}\\s+${f.user.uid}\\s+${f.user.uid}\\s+${f.user.uid}$`, 'm'),
    );
  });

  it('lets only fds 0-2 cross into the jail', () => {
    // ls itself holds one more fd for the directory it lists.
    const r = runJai(f, ['ls', '/proc/self/fd']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '1', '2', '3']);
  });

  it("gives a terminal session a PTY of the jail's own devpts instance", async () => {
    const r = await runJaiInTerminal(f, ['sh', '-c', 'tty; ls -1 /dev/pts; test -t 0 && test -t 1 && echo both-tty']);
    assert.equal(r.status, 0, r.output);
    const lines = r.output.replace(/\r/g, '').trim().split('\n');
    assert.equal(lines[0], '/dev/pts/0', r.output);
    assert.deepEqual(lines.slice(1, -1).sort(), ['0', 'ptmx'], "none of the user's other terminals");
    assert.equal(lines.at(-1), 'both-tty');
  });

  it('gives each session a fresh session keyring of its own', () => {
    // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING): syscall 250 on x86-64, through perl (in every Debian).
    const keyring = (): string => {
      const r = runJai(f, ['perl', '-e', 'print syscall(250, 0, -3, 0)']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const first = keyring();
    assert.match(first, /^[1-9]\d*$/);
    assert.notEqual(keyring(), first, 'not shared with the previous session (nor with jaid)');
  });

  it('has no controlling terminal without a PTY', () => {
    const r = runJai(f, ['sh', '-c', 'if (: < /dev/tty) 2>/dev/null; then echo has-tty; else echo no-tty; fi']);
    assert.equal(r.stdout, 'no-tty\n', r.stderr);
  });

  it('hides /run/jai (the daemon socket) and ~/.jai', () => {
    const r = runJai(f, ['sh', '-c', `ls -A /run/jai; echo "[$?]"; ls -A ${f.user.home}/.jai; echo "[$?]"`]);
    assert.doesNotMatch(r.stdout, /sock|default\.changes/, r.stdout);
    assert.match(r.stdout, /\[0\]|\[2\]/);
  });

  it("keeps the daemon environment out of the jail's init", async () => {
    const session = spawnJai(f, ['sleep', '5']);
    try {
      let init: string | undefined;
      for (let i = 0; i < 100 && init === undefined; i++) {
        init = helperProcesses().find((p) => p.endsWith('jai-init'));
        if (init === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(init !== undefined, 'init is running');
      const environ = fs.readFileSync(`/proc/${init.split(' ')[0] ?? ''}/environ`, 'utf8');
      assert.equal(environ, '', 'no NOTIFY_SOCKET, INVOCATION_ID or anything else of jaid');
    } finally {
      session.kill('SIGTERM');
      await new Promise((r) => session.once('exit', r));
    }
  });
});
