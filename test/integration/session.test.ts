// A casual session end to end: real jaid, real helper, real kernel, run as a real unprivileged user.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('casual session', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('session');
  });
  after(async () => {
    await f.teardown();
  });

  it('relays the output and the exit code of the program', () => {
    const r = runJai(f, ['sh', '-c', 'echo hello; echo oops >&2; exit 7']);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.status, 7, f.daemonLog());
  });

  it('runs the login shell when no command is given', () => {
    const r = runJai(f, [], { input: 'echo "shell=$0 pid=$$"\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'shell=/bin/bash pid=2\n');
  });

  it('passes piped stdin through', () => {
    const r = runJai(f, ['cat'], { input: 'line one\nline two\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'line one\nline two\n');
  });

  it('exits 128+N when the program dies of signal N', () => {
    const r = runJai(f, ['sh', '-c', 'kill -TERM $$']);
    assert.equal(r.status, 128 + 15, r.stderr);
  });

  it("reports a missing program with exit 127, through the bash wrapper or exec'd directly", () => {
    const wrapped = runJai(f, ['no-such-program-xyz']);
    assert.equal(wrapped.status, 127);
    assert.match(wrapped.stderr, /no-such-program-xyz: .*(command not found|No such file or directory)/);
    const direct = runJai(f, ['--command', '', 'no-such-program-xyz']);
    assert.equal(direct.status, 127);
    assert.equal(direct.stderr, 'jai: no-such-program-xyz: No such file or directory\n');
  });

  it('keeps writes to the granted cwd on the host, owned by the user', () => {
    const r = runJai(f, ['sh', '-c', 'echo persisted > out.txt']);
    assert.equal(r.status, 0, r.stderr);
    const file = path.join(f.project, 'out.txt');
    assert.equal(fs.readFileSync(file, 'utf8'), 'persisted\n');
    assert.equal(fs.statSync(file).uid, f.user.uid);
  });

  it('grants an extra directory with -d', () => {
    const extra = fs.mkdtempSync(path.join(f.user.home, 'extra-'));
    fs.chownSync(extra, f.user.uid, f.user.gid);
    try {
      const r = runJai(f, ['-d', extra, 'sh', '-c', `echo granted > ${extra}/g.txt`]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(extra, 'g.txt'), 'utf8'), 'granted\n');
    } finally {
      fs.rmSync(extra, { recursive: true, force: true });
    }
  });

  it('refuses to grant a directory the user does not own', () => {
    const r = runJai(f, ['-d', '/etc', 'true']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `jai: /etc: owned by 0 should be owned by ${f.user.uid}\n`);
  });

  it('refuses to grant kernel pseudo filesystems (/proc/self would expose the host)', () => {
    const r = runJai(f, ['-d', '/proc/self', 'true']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^jai: \/proc\/\d+: cannot grant a directory of a kernel pseudo filesystem\n$/);
  });

  it('keeps a read-only source mount read-only even in a read-write grant', () => {
    const base = fs.mkdtempSync('/opt/jai-ro-');
    fs.chmodSync(base, 0o755);
    const dir = path.join(base, 'd');
    fs.mkdirSync(dir);
    fs.chownSync(dir, f.user.uid, f.user.gid);
    spawnSync('mount', ['--bind', '-o', 'ro', dir, dir]);
    try {
      const r = runJai(f, ['-d', dir, 'sh', '-c', `touch ${dir}/x`]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Read-only file system/);
    } finally {
      spawnSync('umount', [dir]);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('refuses to grant the whole home directory as cwd, and allows it with -D', () => {
    const refused = runJai(f, ['true'], { cwd: f.user.home });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /Refusing to grant your entire home directory/);
    const allowed = runJai(f, ['-D', 'pwd'], { cwd: f.user.home });
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.equal(allowed.stdout, `${f.user.home}\n`);
  });

  it('overlays the home: changes land in ~/.jai/default.changes and the real home is untouched', () => {
    const keep = path.join(f.user.home, 'keep-me.txt');
    fs.writeFileSync(keep, 'original\n');
    fs.chownSync(keep, f.user.uid, f.user.gid);
    try {
      const r = runJai(f, ['sh', '-c', `rm ${keep} && echo new > ${f.user.home}/made-inside.txt && ls ${f.user.home}`]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /keep-me\.txt/, 'deleted inside the jail');
      assert.equal(fs.readFileSync(keep, 'utf8'), 'original\n', 'real file intact');
      assert.equal(fs.existsSync(path.join(f.user.home, 'made-inside.txt')), false, 'new file not in the real home');
      const changes = path.join(f.user.home, '.jai/default.changes');
      const whiteout = fs.statSync(path.join(changes, 'keep-me.txt'));
      assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0, 'whiteout in default.changes');
      assert.equal(fs.readFileSync(path.join(changes, 'made-inside.txt'), 'utf8'), 'new\n');
      const again = runJai(f, ['cat', `${f.user.home}/made-inside.txt`]);
      assert.equal(again.stdout, 'new\n', 'the overlay persists between sessions');
    } finally {
      fs.rmSync(keep, { force: true });
    }
  });

  it('makes everything outside the grants read-only (EROFS), even where the user may write on the host', () => {
    const outside = fs.mkdtempSync('/opt/jai-outside-');
    fs.chownSync(outside, f.user.uid, f.user.gid);
    try {
      const r = runJai(f, ['sh', '-c', `echo x > ${outside}/f`]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Read-only file system/);
      assert.equal(fs.existsSync(path.join(outside, 'f')), false);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('gives the jail a private /tmp', () => {
    const marker = path.join('/tmp', `jai-host-marker-${process.pid}`);
    fs.writeFileSync(marker, 'host');
    try {
      const r = runJai(f, ['sh', '-c', `test -e ${marker} && echo visible; echo inside > /tmp/jail-file; ls /tmp`]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /visible/);
      assert.match(r.stdout, /jail-file/);
      assert.equal(fs.existsSync('/tmp/jail-file'), false);
    } finally {
      fs.rmSync(marker, { force: true });
    }
  });

  it('lets root act for SUDO_USER (sudo jai), never as root', () => {
    const asSudo = spawnSync(process.execPath, [path.join(f.clientDir, 'bin/jai'), 'id', '-u'], {
      cwd: f.project,
      env: { PATH: '/usr/bin:/bin', HOME: '/root', SUDO_USER: f.user.name, JAI_SOCKET: f.socket },
      encoding: 'utf8',
    });
    assert.equal(asSudo.status, 0, asSudo.stderr);
    assert.equal(asSudo.stdout, `${f.user.uid}\n`);
    const asRoot = spawnSync(process.execPath, [path.join(f.clientDir, 'bin/jai'), '-D', 'id', '-u'], {
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/root', JAI_SOCKET: f.socket },
      encoding: 'utf8',
    });
    assert.equal(asRoot.status, 1);
    assert.match(asRoot.stderr, /refusing to run a sandbox as root/);
  });

  it('prints a clear error when the daemon is not running', () => {
    const r = runJai(f, ['true'], { env: { JAI_SOCKET: '/run/jai/nobody-listens.sock' } });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^jai: cannot reach jaid at \/run\/jai\/nobody-listens\.sock \(ENOENT\); is the daemon running\?\n$/,
    );
  });
});
