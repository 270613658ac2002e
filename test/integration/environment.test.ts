// The jailed program's environment: JAI_* variables, upstream's default unsetenv filters and setenv overrides.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { envOf } from '../helpers/env-output';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('jail environment', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('env');
  });
  after(async () => {
    await f.teardown();
  });

  it('sets JAI_MODE, JAI_JAIL, JAI_USER, JAI_CONFIG_DIR, PWD and HOME', () => {
    const env = envOf(runJai(f, ['env', '-0']).stdout);
    assert.equal(env.get('JAI_MODE'), 'casual');
    assert.equal(env.get('JAI_JAIL'), 'default');
    assert.equal(env.get('JAI_USER'), f.user.name);
    assert.equal(env.get('JAI_CONFIG_DIR'), `${f.user.home}/.jai`);
    assert.equal(env.get('PWD'), f.project);
    assert.equal(env.get('HOME'), f.user.home);
    assert.equal(env.get('USER'), f.user.name);
  });

  it('drops secrets by the default patterns, and --setenv passes one back', () => {
    const secrets = { GITHUB_TOKEN: 'ghp_x', AWS_SECRET_ACCESS_KEY: 'k', DATABASE_URL: 'pg://', KEEP_ME: 'yes' };
    const env = envOf(runJai(f, ['env', '-0'], { env: secrets }).stdout);
    assert.equal(env.has('GITHUB_TOKEN'), false);
    assert.equal(env.has('DATABASE_URL'), false);
    assert.equal(env.get('KEEP_ME'), 'yes');
    const passed = envOf(runJai(f, ['--setenv', 'GITHUB_TOKEN', 'env', '-0'], { env: secrets }).stdout);
    assert.equal(passed.get('GITHUB_TOKEN'), 'ghp_x');
  });

  it('applies --unsetenv and --setenv in order', () => {
    const a = envOf(runJai(f, ['--unsetenv', 'X*', '--setenv', 'XY=1', 'env', '-0']).stdout);
    assert.equal(a.get('XY'), '1');
    const b = envOf(runJai(f, ['--setenv', 'XY=1', '--unsetenv', 'X*', 'env', '-0']).stdout);
    assert.equal(b.has('XY'), false);
  });
});
