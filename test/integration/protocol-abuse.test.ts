// jaid keeps serving after hostile packets: each bad connection gets one Error and is closed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as native from '../../native/addon';
import { MAX_PACKET_BYTES, PROTOCOL_VERSION, decodeDaemonMessage, encodeClientMessage, v1 } from '../../proto/codec';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

/** Sends raw packets and collects the daemon's replies until it closes the connection. */
async function exchange(
  socket: string,
  packets: readonly Uint8Array[],
  fds: readonly number[] = [],
): Promise<v1.DaemonMessage[]> {
  const fd = native.seqpacketConnect(socket);
  const replies: v1.DaemonMessage[] = [];
  packets.forEach((p, i) => native.sendMessage(fd, p, i === packets.length - 1 ? fds : []));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      native.closeFd(fd);
      reject(new Error(`daemon did not close the connection; replies: ${JSON.stringify(replies)}`));
    }, 5000);
    const watcher = native.watch(fd, () => {
      for (;;) {
        const got = native.recvMessage(fd, MAX_PACKET_BYTES, 4);
        if (got === null) return;
        got.fds.forEach((f) => native.closeFd(f));
        if (got.eof) {
          clearTimeout(timer);
          watcher.close();
          native.closeFd(fd);
          resolve(replies);
          return;
        }
        const decoded = decodeDaemonMessage(got.data);
        if (decoded.ok) replies.push(decoded.message);
      }
    });
    watcher.start('r');
  });
}

const hello = encodeClientMessage({ hello: { version: PROTOCOL_VERSION } });

function errorCode(replies: v1.DaemonMessage[]): string {
  const error = replies.find((r) => r.body === 'error')?.error;
  return v1.ErrorCode[error?.code ?? 0] ?? 'none';
}

describe('protocol abuse', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('abuse');
  });
  after(async () => {
    await f.teardown();
  });

  it('answers a garbage packet with PROTO_BAD_FRAME', async () => {
    assert.equal(
      errorCode(await exchange(f.socket, [Buffer.from('\xff\xff\xff garbage', 'latin1')])),
      'PROTO_BAD_FRAME',
    );
  });

  it('answers a 4 GiB length prefix inside a packet with PROTO_BAD_FRAME', async () => {
    const hugeLength = Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    assert.equal(errorCode(await exchange(f.socket, [hello, hugeLength])), 'PROTO_BAD_FRAME');
  });

  it('answers an oversized packet with PROTO_FRAME_TOO_LARGE', async () => {
    assert.equal(
      errorCode(await exchange(f.socket, [Buffer.alloc(MAX_PACKET_BYTES + 1024, 0x0a)])),
      'PROTO_FRAME_TOO_LARGE',
    );
  });

  it('refuses a Spawn before Hello and a wrong protocol version', async () => {
    const spawn = encodeClientMessage({ spawn: { argv: ['true'] } });
    assert.equal(errorCode(await exchange(f.socket, [spawn])), 'PROTO_UNEXPECTED');
    const wrong = encodeClientMessage({ hello: { version: 99 } });
    assert.equal(errorCode(await exchange(f.socket, [wrong])), 'PROTO_VERSION');
  });

  it('refuses a request whose attached fds do not match, and closes fds sent on Hello', async () => {
    const spawn = encodeClientMessage({
      spawn: {
        argv: ['true'],
        cwd: '/',
        stdin: v1.StdioKind.STDIO_PASS,
        stdout: v1.StdioKind.STDIO_NULL,
        stderr: v1.StdioKind.STDIO_NULL,
        nocwd: true,
      },
    });
    assert.equal(errorCode(await exchange(f.socket, [hello, spawn])), 'REQUEST_FDS');
    assert.equal(errorCode(await exchange(f.socket, [hello], [0])), 'REQUEST_FDS');
  });

  it('refuses a grant whose path is not where its fd is (the fd decides, not the claimed name)', async () => {
    const O_PATH = 0o10000000;
    const real = fs.mkdtempSync(path.join(f.user.home, 'real-'));
    fs.chownSync(real, f.user.uid, f.user.gid);
    const cwdFd = fs.openSync(f.project, O_PATH | fs.constants.O_DIRECTORY);
    const grantFd = fs.openSync(real, O_PATH | fs.constants.O_DIRECTORY);
    try {
      const spawn = encodeClientMessage({
        spawn: {
          argv: ['true'],
          cwd: f.project,
          actAsUser: f.user.name,
          grants: [{ path: `${f.project}/claimed`, access: v1.GrantAccess.GRANT_READ_WRITE }],
          stdin: v1.StdioKind.STDIO_NULL,
          stdout: v1.StdioKind.STDIO_NULL,
          stderr: v1.StdioKind.STDIO_NULL,
        },
      });
      const replies = await exchange(f.socket, [hello, spawn], [cwdFd, grantFd]);
      assert.equal(errorCode(replies), 'GRANT_REFUSED');
      assert.match(replies.find((r) => r.body === 'error')?.error?.message ?? '', /the granted directory is .*real-/);
    } finally {
      fs.closeSync(cwdFd);
      fs.closeSync(grantFd);
      fs.rmSync(real, { recursive: true, force: true });
    }
  });

  it('re-validates what the CLI would refuse: jail names, masks, grants not owned', async () => {
    const O_PATH = 0o10000000;
    const base = {
      argv: ['true'],
      cwd: f.project,
      nocwd: true,
      actAsUser: f.user.name,
      stdin: v1.StdioKind.STDIO_NULL,
      stdout: v1.StdioKind.STDIO_NULL,
      stderr: v1.StdioKind.STDIO_NULL,
    };
    const escape = encodeClientMessage({ spawn: { ...base, jail: '../../etc' } });
    assert.equal(errorCode(await exchange(f.socket, [hello, escape])), 'REQUEST_INVALID');
    const mask = encodeClientMessage({ spawn: { ...base, masks: ['../../etc/passwd'] } });
    assert.equal(errorCode(await exchange(f.socket, [hello, mask])), 'REQUEST_INVALID');
    // /etc is refused by the default policy's deny_grants before the helper sees it; /opt (root's, not denied)
    // reaches the helper, whose ownership check refuses it.
    const denied = fs.openSync('/etc', O_PATH | fs.constants.O_DIRECTORY);
    const notOwned = fs.openSync('/opt', O_PATH | fs.constants.O_DIRECTORY);
    try {
      const grant = (path: string) =>
        encodeClientMessage({ spawn: { ...base, grants: [{ path, access: v1.GrantAccess.GRANT_READ_WRITE }] } });
      const byPolicy = await exchange(f.socket, [hello, grant('/etc')], [denied]);
      assert.equal(errorCode(byPolicy), 'POLICY_DENIED');
      const byHelper = await exchange(f.socket, [hello, grant('/opt')], [notOwned]);
      assert.equal(errorCode(byHelper), 'GRANT_REFUSED');
      assert.match(
        byHelper.find((r) => r.body === 'error')?.error?.message ?? '',
        /\/opt: owned by 0 should be owned by/,
      );
    } finally {
      fs.closeSync(denied);
      fs.closeSync(notOwned);
    }
  });

  it('still serves a normal session afterwards', () => {
    const r = runJai(f, ['echo', 'still here']);
    assert.equal(r.status, 0, r.stderr + f.daemonLog());
    assert.equal(r.stdout, 'still here\n');
    assert.equal(f.daemon.exitCode, null, 'jaid is running');
  });
});
