// Named jails, storage, masks and the per-jail /tmp, against the real helper: what lands where on the host.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { asUser, runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('named jails, storage and masks', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('jails');
  });
  after(async () => {
    await f.teardown();
  });

  it('keeps each named jail in its own <jail>.changes and records its mode in <jail>.jail', () => {
    const r = runJai(f, ['-j', 'work', '-m', 'casual', 'sh', '-c', `echo w > ${f.user.home}/in-work; echo $JAI_JAIL`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'work\n');
    const cfg = path.join(f.user.home, '.jai');
    assert.equal(fs.readFileSync(path.join(cfg, 'work.changes/in-work'), 'utf8'), 'w\n');
    assert.match(fs.readFileSync(path.join(cfg, 'work.jail'), 'utf8'), /^mode casual$/m);
    const other = runJai(f, ['cat', `${f.user.home}/in-work`]);
    assert.notEqual(other.status, 0, "the default jail does not see the work jail's changes");
  });

  it('records strict as the mode of a new named jail (upstream rule)', () => {
    runJai(f, ['-j', 'fresh', 'true']);
    assert.match(fs.readFileSync(path.join(f.user.home, '.jai/fresh.jail'), 'utf8'), /^mode strict$/m);
  });

  it("keeps a jail's private /tmp between sessions", () => {
    assert.equal(runJai(f, ['sh', '-c', 'echo kept > /tmp/kept']).status, 0);
    assert.equal(runJai(f, ['cat', '/tmp/kept']).stdout, 'kept\n');
    assert.notEqual(runJai(f, ['-j', 'work', '-m', 'casual', 'cat', '/tmp/kept']).status, 0, 'other jail, other /tmp');
  });

  it('puts changes in --storage DIR', () => {
    const storage = asUser(f, () => fs.mkdtempSync(path.join(f.user.home, 'store-')));
    try {
      const r = runJai(f, [
        '--storage',
        storage,
        '-j',
        'st',
        '-m',
        'casual',
        'sh',
        '-c',
        `echo s > ${f.user.home}/stored`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(storage, 'st.changes/stored'), 'utf8'), 's\n');
      const inside = runJai(f, ['--storage', storage, '-j', 'st', '-m', 'casual', 'ls', '-A', storage]);
      assert.equal(inside.stdout, '', 'the storage dir is hidden in the jail');
    } finally {
      runJai(f, ['-u', '-j', 'st', '--storage', storage]);
      fs.rmSync(storage, { recursive: true, force: true });
    }
  });

  it('whites out masked files in a new overlay, and warns when the overlay already exists', () => {
    asUser(f, () => {
      fs.mkdirSync(path.join(f.user.home, '.ssh'), { recursive: true });
      fs.writeFileSync(path.join(f.user.home, '.ssh/id_test'), 'secret');
      fs.writeFileSync(path.join(f.user.home, 'private.txt'), 'secret');
    });
    try {
      const r = runJai(f, [
        '-j',
        'masked',
        '-m',
        'casual',
        '--mask',
        'private.txt',
        'sh',
        '-c',
        `ls -A ${f.user.home}`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /private\.txt/, 'masked on the command line');
      assert.doesNotMatch(r.stdout, /\.ssh/, 'masked by .defaults');
      const again = runJai(f, ['-j', 'masked', '-m', 'casual', '--mask', 'other', 'true']);
      assert.equal(
        again.stderr,
        `jai: --mask ignored because /run/jai/${f.user.name}/masked.home already mounted.\n     Run "jai -u" to unmount overlays.\n`,
      );
    } finally {
      fs.rmSync(path.join(f.user.home, '.ssh'), { recursive: true, force: true });
      fs.rmSync(path.join(f.user.home, 'private.txt'), { force: true });
    }
  });
});
