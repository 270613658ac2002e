// Checklist #26: nothing of jaid's environment (systemd's NOTIFY_SOCKET, INVOCATION_ID, CREDENTIALS_DIRECTORY,
// JOURNAL_STREAM, …) reaches the jail: not the program's environment, not /proc/1/environ, in any mode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';
import { MODES, probe } from './jail-modes';

const skip = privilegedSkipReason();

const SERVICE_VARS = {
  INVOCATION_ID: 'jaisec0invocation0id',
  CREDENTIALS_DIRECTORY: '/run/credentials/jaid.service',
  JOURNAL_STREAM: '8:12345',
  MANAGERPID: '424242',
  SYSTEMD_EXEC_PID: '434343',
  JAI_SEC_DAEMON_SECRET: 'jaisec-daemon-only',
};

describe('#26 no daemon or systemd variables inside the jail', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-env', { ...process.env, ...SERVICE_VARS });
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: env and /proc/1/environ carry none of jaid's variables`, () => {
      const r = probe(
        f,
        mode,
        'env; echo "--- init"; tr "\\0" "\\n" < /proc/1/environ 2>&1; echo "--- sysfs"; touch /sys/jaisec 2>&1 >/dev/null; echo "sys=$?"',
      );
      assert.equal(r.status, 0, r.stderr);
      for (const [name, value] of Object.entries(SERVICE_VARS)) {
        assert.doesNotMatch(r.stdout, new RegExp(`^${name}=`, 'm'), `${name} in:\n${r.stdout}`);
        assert.ok(!r.stdout.includes(value), `${value} in:\n${r.stdout}`);
      }
      assert.doesNotMatch(r.stdout, /^NOTIFY_SOCKET=/m);
      assert.match(r.stdout, /^sys=1$/m, '/sys is read-only');
    });
  }
});
