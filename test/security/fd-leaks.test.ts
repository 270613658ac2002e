// Checklist #20: no fd but stdio crosses into a jail. The caller's extra fds (a file, a socket), jaid's listening
// socket, its database and other sessions' fds must be absent, with many sessions running at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';
import { MODES, ended } from './jail-modes';

const skip = privilegedSkipReason();
const SESSIONS_PER_MODE = 7;

describe('#20 only stdio crosses into the jail, with concurrent sessions', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-fds');
  });
  after(async () => {
    await f.teardown();
  });

  it(`${SESSIONS_PER_MODE} sessions per mode at once (casual, strict, bare): each sees fds 0-2 only`, async () => {
    const secret = path.join(f.project, 'caller-secret');
    fs.writeFileSync(secret, 'the caller has this open');
    fs.chownSync(secret, f.user.uid, f.user.gid);
    // A listening socket of the test process: if the caller's fds leaked, a socket would show up inside.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const extra = fs.openSync(secret, 'r');
    const results: { mode: string; out: string; err: string; status: number | null }[] = [];
    const children = MODES.flatMap((mode) =>
      Array.from({ length: SESSIONS_PER_MODE }, () => {
        // bash lists its own fds (ls is a child): fds 3+ of the caller are the file and a socket.
        const child = spawn(
          process.execPath,
          [
            path.join(f.clientDir, 'bin/jai'),
            '-m',
            mode,
            'bash',
            '-c',
            // (no pipeline while ls runs: bash would hold the pipe's fds itself)
            't=$(mktemp); sleep 1; ls -l /proc/$$/fd >"$t"; tail -n +2 "$t" | sed "s/.* \\([0-9]*\\) -> /\\1 -> /"; rm "$t"',
          ],
          {
            cwd: f.project,
            uid: f.user.uid,
            gid: f.user.gid,
            env: { HOME: f.user.home, USER: f.user.name, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
            stdio: ['pipe', 'pipe', 'pipe', extra, extra, 'pipe'],
          },
        );
        const result = { mode, out: '', err: '', status: null as number | null };
        results.push(result);
        child.stdout?.on('data', (d: Buffer) => (result.out += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (result.err += d.toString()));
        child.on('exit', (code) => (result.status = code));
        child.stdin?.end();
        return child;
      }),
    );
    try {
      await Promise.all(children.map(ended));
    } finally {
      fs.closeSync(extra);
      server.close();
    }
    for (const r of results) {
      assert.equal(r.status, 0, `${r.mode}: ${r.err}`);
      const fds = r.out
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]);
      assert.deepEqual(
        fds.filter((fd) => !['0', '1', '2', '255'].includes(fd ?? '')),
        [],
        `${r.mode}:\n${r.out}`,
      );
      assert.doesNotMatch(r.out, /caller-secret|audit\.db|ptmx|\/dev\/pts/, `${r.mode}:\n${r.out}`);
    }
  });
});
