// jai -u: releases the user's overlays and private tmp, refuses while a jail is in use, one jail or all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { mountsUnder, runJai, spawnJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('teardown (jai -u)', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('teardown');
  });
  after(async () => {
    await f.teardown();
  });

  it('unmounts everything of the user and removes /run/jai/<user>, and the private /tmp with it', () => {
    assert.equal(runJai(f, ['sh', '-c', 'echo x > /tmp/until-u']).status, 0);
    assert.equal(runJai(f, ['cat', '/tmp/until-u']).stdout, 'x\n', 'kept between sessions');
    assert.ok(mountsUnder(`/run/jai/${f.user.name}`).length > 0);
    const r = runJai(f, ['-u']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(mountsUnder(`/run/jai/${f.user.name}`), []);
    assert.equal(fs.existsSync(`/run/jai/${f.user.name}`), false);
    assert.equal(runJai(f, ['-u']).status, 0, 'nothing to do is fine');
    assert.notEqual(runJai(f, ['cat', '/tmp/until-u']).status, 0, 'a fresh /tmp after -u');
  });

  it('fails with EBUSY and exit 1 while a session of the jail runs, which keeps working', async () => {
    const child = spawnJai(f, ['sh', '-c', 'sleep 1.5; echo survived']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 700));
    const r = runJai(f, ['-u']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /umount\(".*"\): Device or resource busy/);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(out, 'survived\n');
    assert.equal(runJai(f, ['-u']).status, 0, 'released once the session ended');
  });

  it('tears down one jail only', () => {
    assert.equal(runJai(f, ['-j', 'one', '-m', 'casual', 'true']).status, 0);
    assert.equal(runJai(f, ['true']).status, 0);
    const r = runJai(f, ['-u', '-j', 'one']);
    assert.equal(r.status, 0, r.stderr);
    const left = mountsUnder(`/run/jai/${f.user.name}`);
    assert.ok(!left.includes(`/run/jai/${f.user.name}/one.home`));
    assert.ok(left.includes(`/run/jai/${f.user.name}/default.home`));
  });
});
