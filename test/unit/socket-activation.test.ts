import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activationFd } from '../../daemon/server/socket-activation';

describe('socket activation (sd_listen_fds)', () => {
  it('takes fd 3 when LISTEN_PID is this process and LISTEN_FDS is 1', () => {
    assert.equal(activationFd({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42), 3);
  });

  it('ignores variables meant for another process or absent', () => {
    assert.equal(activationFd({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42), null);
    assert.equal(activationFd({}, 42), null);
  });

  it('refuses more than one socket', () => {
    assert.deepEqual(activationFd({ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42), {
      error: 'LISTEN_FDS=2: jaid takes exactly one socket',
    });
  });
});
