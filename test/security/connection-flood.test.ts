// Checklist #5 (part): one user flooding the spawn socket with idle connections cannot lock another user out. jaid
// accepts at most MAX_CONNECTIONS_PER_UID connections per uid (the rest are closed at once) and closes a connection
// that has not sent its request within the setup deadline. Not covered here, and not implemented: a spawn-rate
// limit per uid (see docs/threat-model.md #5).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_CONNECTIONS_PER_UID } from '../../daemon/server/listener';
import { privilegedSkipReason } from '../helpers/privileged';
import { ensureTestUser, REPO, runJai, startFixture, type Fixture } from '../helpers/fixture';
import { ended } from './jail-modes';

const skip = privilegedSkipReason();
const FLOOD = MAX_CONNECTIONS_PER_UID + 100;

/** Opens N connections and holds them, then reports how many the daemon closed at once (readable EOF). */
const FLOODER = `
const native = require(${JSON.stringify(path.join(REPO, 'dist/native/addon'))});
const [socket, n] = [process.argv[1], Number(process.argv[2])];
const fds = [];
for (let i = 0; i < n; i++) {
  try { fds.push(native.seqpacketConnect(socket)); } catch (e) { break; }
}
setTimeout(() => {
  let closed = 0;
  for (const fd of fds) {
    const got = native.recvMessage(fd, 65536, 4);
    if (got !== null && got.eof) closed++;
  }
  process.stdout.write(JSON.stringify({ opened: fds.length, closed }) + '\\n');
}, 1500);
setTimeout(() => process.exit(0), 60000);
`;

describe('#5 a connection flood by one user does not starve another', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-flood');
  });
  after(async () => {
    await f.teardown();
  });

  it(`${String(FLOOD)} idle connections from user B: A still gets a session at once; B's excess is closed`, async (t) => {
    const flooder = ensureTestUser('jaisec2');
    const child = spawn(process.execPath, ['-e', FLOODER, f.socket, String(FLOOD)], {
      uid: flooder.uid,
      gid: flooder.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      for (let i = 0; i < 200 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
      const report = JSON.parse(out) as { opened: number; closed: number };
      t.diagnostic(`flooder: ${JSON.stringify(report)}`);
      assert.equal(report.opened, FLOOD, err);
      assert.ok(report.closed >= FLOOD - MAX_CONNECTIONS_PER_UID, `the excess is closed: ${JSON.stringify(report)}`);
      // While B holds its connections, A's session starts and ends promptly.
      const started = Date.now();
      const r = runJai(f, ['sh', '-c', 'echo served'], { timeoutMs: 10_000 });
      const ms = Date.now() - started;
      t.diagnostic(`user A's session took ${String(ms)} ms`);
      assert.equal(r.stdout, 'served\n', r.stderr);
      assert.ok(ms < 5000, `${String(ms)} ms`);
    } finally {
      child.kill('SIGKILL');
      await ended(child);
    }
  });
});
