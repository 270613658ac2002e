// --script files sourced by the bash wrapper through $JAI_SCRIPT, and --initjail run once for a new jail home.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_JAIRC } from '../../client/cli/defaults';
import { privilegedSkipReason } from '../helpers/privileged';
import { asUser, runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('startup scripts and initjail', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('scripts');
  });
  after(async () => {
    await f.teardown();
  });

  it('sources --script files before the program and removes the script file', () => {
    const script = path.join(f.project, 'setup.sh');
    asUser(f, () => fs.writeFileSync(script, 'export FROM_SCRIPT=yes\n'));
    const r = runJai(f, ['--script', script, 'sh', '-c', 'echo "$FROM_SCRIPT [${JAI_SCRIPT-unset}]"; ls -A /tmp']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'yes [unset]');
    assert.doesNotMatch(r.stdout, /\.jairc/, 'the script file is gone');
    const kept = runJai(f, ['--setenv', 'JAI_KEEP_SCRIPT=1', '--script', script, 'sh', '-c', 'cat "$JAI_SCRIPT"']);
    assert.match(kept.stdout, /^export FROM_SCRIPT=yes$/m);
  });

  it('starts as if the default .jairc (comments only) had been sourced and removed, without running rm', () => {
    // An rm first on the jail's PATH that notes each call in the project (the jail's writable cwd).
    const bin = path.join(f.project, 'fakebin');
    const calls = path.join(f.project, 'rm-calls');
    asUser(f, () => {
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'rm'), `#!/bin/sh\necho "$*" >> ${calls}\nexec /bin/rm "$@"\n`, { mode: 0o755 });
    });
    const pathWithRm = ['--setenv', `PATH=${bin}:/usr/bin:/bin`];
    const r = runJai(f, [...pathWithRm, 'sh', '-c', 'echo "[${JAI_SCRIPT-unset}]"; ls -A /tmp']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], '[unset]');
    assert.doesNotMatch(r.stdout, /\.jairc/, 'no script file');
    assert.equal(fs.existsSync(calls), false, 'no rm ran');
    // The probe works: a script that does something is written, and deletes itself with that rm.
    const script = path.join(f.project, 'does-something.sh');
    asUser(f, () => fs.writeFileSync(script, 'X=1\n'));
    const acted = runJai(f, [...pathWithRm, '--script', script, 'true']);
    assert.equal(acted.status, 0, acted.stderr);
    assert.match(fs.readFileSync(calls, 'utf8'), /^-f \/tmp\/\.jairc\S{10}\n$/);
    const kept = runJai(f, ['--setenv', 'JAI_KEEP_SCRIPT=1', 'sh', '-c', 'cat "$JAI_SCRIPT"']);
    assert.equal(kept.status, 0, kept.stderr);
    assert.ok(kept.stdout.startsWith(`${DEFAULT_JAIRC}\n`), kept.stdout);
  });

  it('runs --initjail outside the jail, once, when the jail home is created', () => {
    const init = path.join(f.project, 'init.sh');
    asUser(f, () => {
      fs.writeFileSync(init, '#!/bin/sh\necho "ran in $PWD as $(id -u)" > initjail-ran\n');
      fs.chmodSync(init, 0o755);
    });
    const first = runJai(f, ['-j', 'ij', '-m', 'casual', '--initjail', init, 'cat', `${f.user.home}/initjail-ran`]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, `ran in /run/jai/${f.user.name}/ij.home as ${f.user.uid}\n`);
    assert.equal(fs.existsSync(path.join(f.user.home, 'initjail-ran')), false, 'in the overlay, not the real home');
    asUser(f, () => fs.writeFileSync(init, '#!/bin/sh\necho again > initjail-again\n'));
    const second = runJai(f, ['-j', 'ij', '-m', 'casual', '--initjail', init, 'ls', f.user.home]);
    assert.doesNotMatch(second.stdout, /initjail-again/, 'not run for an existing jail');
  });

  it('warns when initjail fails, and still runs the program', () => {
    const init = path.join(f.project, 'fail.sh');
    asUser(f, () => {
      fs.writeFileSync(init, '#!/bin/sh\nexit 3\n');
      fs.chmodSync(init, 0o755);
    });
    const r = runJai(f, ['-j', 'ijfail', '-m', 'casual', '--initjail', init, 'echo', 'program ran']);
    assert.equal(r.stdout, 'program ran\n');
    assert.equal(r.stderr, `jai: created ${f.user.home}/.jai/ijfail.jail\njai: ${init}: exit code 3\n`);
  });
});
