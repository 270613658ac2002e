// Strict and bare modes against the real helper: the untrusted `jai` account (the user's own sandbox ids under its
// name), empty private homes, id-mapped grants, the passwd and group copies, and what stays unreadable.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { asUser, runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

function passwdOf(name: string): string[] {
  return execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
}

/** jaid's default --sandbox-id-base: strict runs as this + the user's uid (uid and gid). */
const SANDBOX_ID_BASE = 0x70000000;

describe('strict and bare modes', { skip }, () => {
  let f: Fixture;
  let jaiUid: string;
  let sandboxId: number;
  before(async () => {
    f = await startFixture('modes');
    [, , jaiUid = ''] = passwdOf('jai');
    sandboxId = SANDBOX_ID_BASE + f.user.uid;
    asUser(f, () => fs.writeFileSync(path.join(f.user.home, 'visible.txt'), 'real home file'));
  });
  after(async () => {
    fs.rmSync(path.join(f.user.home, 'visible.txt'), { force: true });
    await f.teardown();
  });

  it("runs strict sessions as the user's own sandbox ids, named jai, with no supplementary groups", () => {
    const r = runJai(f, ['-m', 'strict', 'sh', '-c', 'id -u; id -G; id -un; id -gn']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${sandboxId}\n${sandboxId}\njai\njai\n`);
    assert.notEqual(String(sandboxId), jaiUid, "not the jai account's own uid");
  });

  it('gives strict an empty private home: the real home is invisible', () => {
    const r = runJai(f, ['-m', 'strict', 'ls', '-A', f.user.home]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /visible\.txt/);
    assert.ok(fs.statSync(path.join(f.user.home, '.jai/default.home')).isDirectory(), 'in <storage>/<jail>.home');
  });

  it("id-maps the cwd grant: the user's files look like jai's inside, and new files are the user's on the host", () => {
    asUser(f, () => fs.writeFileSync(path.join(f.project, 'mine.txt'), 'x'));
    const r = runJai(f, ['-m', 'strict', 'sh', '-c', 'stat -c %U mine.txt; echo made > made-in-strict.txt']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'jai\n');
    assert.equal(fs.statSync(path.join(f.project, 'made-in-strict.txt')).uid, f.user.uid);
  });

  it('reads a 0600 file through a read-only grant, never one outside every grant', () => {
    const granted = asUser(f, () => fs.mkdtempSync(path.join(f.user.home, 'ro-')));
    const outside = fs.mkdtempSync('/opt/jai-private-');
    fs.chmodSync(outside, 0o755);
    try {
      asUser(f, () => fs.writeFileSync(path.join(granted, 'secret'), 'granted secret', { mode: 0o600 }));
      fs.writeFileSync(path.join(outside, 'secret'), 'not granted', { mode: 0o600 });
      fs.chownSync(path.join(outside, 'secret'), f.user.uid, f.user.gid);
      const r = runJai(f, ['-m', 'strict', '-r', granted, 'cat', path.join(granted, 'secret')]);
      assert.equal(r.stdout, 'granted secret', r.stderr);
      const denied = runJai(f, ['-m', 'strict', 'cat', path.join(outside, 'secret')]);
      assert.notEqual(denied.status, 0);
      assert.match(denied.stderr, /Permission denied/);
      const sameFile = runJai(f, ['cat', path.join(outside, 'secret')]);
      assert.equal(sameFile.stdout, 'not granted', 'casual mode, by contrast, reads it');
    } finally {
      fs.rmSync(granted, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('lets no client fd cross into a strict jail', () => {
    const secret = path.join(f.user.home, 'fd-secret');
    asUser(f, () => fs.writeFileSync(secret, 'through an fd', { mode: 0o600 }));
    try {
      const r = spawnSync(
        'sh',
        ['-c', `exec 7<${secret}; exec node ${path.join(f.clientDir, 'bin/jai')} -m strict ls /proc/self/fd`],
        {
          cwd: f.project,
          uid: f.user.uid,
          gid: f.user.gid,
          env: { HOME: f.user.home, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['0', '1', '2', '3']);
    } finally {
      fs.rmSync(secret, { force: true });
    }
  });

  it("shows jai with the user's sandbox ids, home and shell in a read-only /etc/passwd and /etc/group", () => {
    const r = runJai(f, [
      '-m',
      'strict',
      'sh',
      '-c',
      'getent passwd jai; grep " /etc/passwd " /proc/self/mountinfo; getent group jai | cut -d: -f3; ' +
        'grep " /etc/group " /proc/self/mountinfo',
    ]);
    const lines = r.stdout.split('\n');
    const [, , uid, gid, , home, shell] = lines[0]?.split(':') ?? [];
    assert.deepEqual([uid, gid], [String(sandboxId), String(sandboxId)]);
    assert.equal(home, f.user.home);
    assert.equal(shell, '/bin/bash');
    assert.match(lines[1] ?? '', / \/etc\/passwd ro,/);
    assert.equal(lines[2], String(sandboxId));
    assert.match(lines[3] ?? '', / \/etc\/group ro,/);
  });

  it('works with -D and an explicit grant of the whole home (id-mapped real home)', () => {
    const r = runJai(f, ['-m', 'strict', '-D', '-d', f.user.home, 'ls', f.user.home], { cwd: '/' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /visible\.txt/);
  });

  it('defaults a new named jail to strict', () => {
    const r = runJai(f, ['-j', 'sj', 'sh', '-c', 'echo $JAI_MODE; id -u']);
    assert.equal(r.stdout, `strict\n${sandboxId}\n`, r.stderr);
    assert.match(fs.readFileSync(path.join(f.user.home, '.jai/sj.jail'), 'utf8'), /^mode strict$/m);
  });

  it('runs --initjail for a new strict home, as the user, in <storage>/<jail>.home', () => {
    const init = path.join(f.project, 'init-strict.sh');
    asUser(f, () => {
      fs.writeFileSync(init, '#!/bin/sh\necho "$PWD $(id -u)" > from-initjail\n');
      fs.chmodSync(init, 0o755);
    });
    const r = runJai(f, [
      '-j',
      'sinit',
      '--initjail',
      init,
      'sh',
      '-c',
      `cat ${f.user.home}/from-initjail; echo $USER`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${f.user.home}/.jai/sinit.home ${f.user.uid}\n${f.user.name}\n`);
  });

  it('runs bare as the user with an empty private home', () => {
    const r = runJai(f, [
      '-m',
      'bare',
      '-j',
      'bj',
      'sh',
      '-c',
      `id -u; ls -A ${f.user.home}; echo b > ${f.user.home}/in-bare`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    // Only the mount point of the cwd grant, made inside the empty home.
    assert.equal(r.stdout, `${f.user.uid}\n${path.basename(f.project)}\n`);
    const file = path.join(f.user.home, '.jai/bj.home/in-bare');
    assert.equal(fs.readFileSync(file, 'utf8'), 'b\n');
    assert.equal(fs.statSync(file).uid, f.user.uid);
  });

  it('removes the passwd and group copies with jai -u -j NAME of a strict jail', () => {
    assert.equal(runJai(f, ['-j', 'sj', 'true']).status, 0);
    assert.ok(fs.existsSync(`/run/jai/${f.user.name}/passwd`));
    assert.ok(fs.existsSync(`/run/jai/${f.user.name}/group`));
    const r = runJai(f, ['-u', '-j', 'sj']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(`/run/jai/${f.user.name}/passwd`), false);
    assert.equal(fs.existsSync(`/run/jai/${f.user.name}/group`), false);
  });

  it('refuses strict mode with the documented message when the jai account is wrong', () => {
    execFileSync('usermod', ['--comment', 'not the sandbox user', 'jai']);
    try {
      const r = runJai(f, ['-m', 'strict', 'true']);
      assert.equal(r.stderr, 'jai: Cannot use strict mode: invalid user jai\n');
      assert.equal(r.status, 1);
    } finally {
      execFileSync('usermod', ['--comment', 'JAI sandbox untrusted user', 'jai']);
    }
  });
});
