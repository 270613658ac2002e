// Config files read by the real client as the user: <cmd>.conf selection, default.conf, includes, ${VAR}
// substitution, the CLI winning, and file:line errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { asUser, runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('config files', { skip }, () => {
  let f: Fixture;
  let cfg: string;
  const write = (name: string, text: string): void => {
    asUser(f, () => fs.writeFileSync(path.join(cfg, name), text));
  };
  before(async () => {
    f = await startFixture('config');
    cfg = path.join(f.user.home, '.jai');
    runJai(f, ['true']); // creates ~/.jai with .defaults and default.conf
  });
  beforeEach(() => {
    for (const name of ['sh.conf', 'other.conf', 'loop.conf']) fs.rmSync(path.join(cfg, name), { force: true });
    write('default.conf', '# default\nconf .defaults\n');
  });
  after(async () => {
    await f.teardown();
  });

  it('creates the config dir 0700 with .defaults and default.conf, as the user', () => {
    const st = fs.statSync(cfg);
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal(st.uid, f.user.uid);
    assert.ok(fs.existsSync(path.join(cfg, '.defaults')));
  });

  it('selects <cmd>.conf for the command and default.conf otherwise', () => {
    write('sh.conf', 'conf .defaults\nsetenv FROM=sh.conf\n');
    write('default.conf', 'conf .defaults\nsetenv FROM=default.conf\n');
    assert.equal(runJai(f, ['sh', '-c', 'echo $FROM']).stdout, 'sh.conf\n');
    assert.equal(runJai(f, ['bash', '-c', 'echo $FROM']).stdout, 'default.conf\n');
  });

  it('substitutes ${VAR} in setenv values and includes other files in place', () => {
    write('other.conf', 'setenv GREETING=hello-${JAI_USER}\n');
    write('default.conf', 'conf .defaults\nconf other.conf\n');
    assert.equal(runJai(f, ['sh', '-c', 'echo $GREETING']).stdout, `hello-${f.user.name}\n`);
  });

  it('lets the command line win over the config file', () => {
    write('default.conf', 'conf .defaults\nmode strict\n');
    const r = runJai(f, ['-m', 'casual', 'sh', '-c', 'echo $JAI_MODE']);
    assert.equal(r.stdout, 'casual\n', r.stderr);
  });

  it('reports errors as FILE:LINE: message with exit 1', () => {
    write('default.conf', 'conf .defaults\n\nmode bogus\n');
    const r = runJai(f, ['true']);
    assert.equal(r.stderr, `jai: ${cfg}/default.conf:3: invalid mode bogus\n`);
    assert.equal(r.status, 1);
  });

  it('detects include loops', () => {
    write('loop.conf', 'conf loop.conf\n');
    const r = runJai(f, ['-C', 'loop', 'true']);
    assert.match(r.stderr, /loop\.conf:1: .*configuration loop\n$/);
    assert.equal(r.status, 1);
  });

  it('refuses jail inside a .jail file', () => {
    asUser(f, () => fs.writeFileSync(path.join(cfg, 'jj.jail'), 'mode casual\njail other\n'));
    const r = runJai(f, ['-j', 'jj', 'true']);
    assert.equal(r.stderr, `jai: ${cfg}/jj.jail:2: cannot set name from a .jail file or include\n`);
    assert.equal(r.status, 1);
  });
});
