// The admin socket's per-uid connection cap: one user (the socket may be 0666) cannot hold every connection and
// lock the admins out. The limiter alone with a fake clock, then a real server whose credentials source says which
// uid each accepted connection belongs to. The server part needs root (the fixture chowns its socket).
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ConnectionCredentials } from '../../daemon/admin/caller';
import { buildAdminApp } from '../../daemon/admin/server';
import { MAX_CONNECTIONS_PER_UID, UidConnectionLimit } from '../../daemon/admin/uid-connections';
import { startFixture } from './admin-fixture';

const isRoot = process.getuid?.() === 0;

function logSink(): { lines: Record<string, unknown>[]; log: pino.Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'warn' }, sink) };
}

describe('per-uid connection limit', () => {
  it('admits up to the cap per uid, counts until close, exempts root, and warns once a minute', () => {
    const { lines, log } = logSink();
    let now = 1_000_000;
    const limit = new UidConnectionLimit(3, log, () => now);
    const sockets = [new net.Socket(), new net.Socket(), new net.Socket()];
    for (const s of sockets) assert.equal(limit.admit(1001, s), true);
    assert.equal(limit.admit(1001, new net.Socket()), false, 'the fourth is refused');
    assert.equal(limit.admit(1002, new net.Socket()), true, 'another uid has its own cap');
    for (let i = 0; i < 10; i++) assert.equal(limit.admit(0, new net.Socket()), true, 'root is exempt');
    assert.equal(limit.admit(1001, new net.Socket()), false);
    assert.equal(lines.length, 1, 'one warning for the minute');
    assert.deepEqual([lines[0]?.['uid'], lines[0]?.['limit'], lines[0]?.['level']], [1001, 3, 40]);
    now += 60_000;
    assert.equal(limit.admit(1001, new net.Socket()), false);
    assert.equal(lines.length, 2, 'a minute later, another');
    assert.equal(lines[1]?.['unloggedRefusals'], 1);
    sockets[0]?.emit('close');
    assert.equal(limit.openFor(1001), 2);
    assert.equal(limit.admit(1001, new net.Socket()), true, 'a closed connection frees its slot');
    assert.equal(limit.admit(null, new net.Socket()), true, 'connections without credentials share a cap');
  });
});

/** Credentials as the test says: every connection accepted from now on belongs to `uid`. */
class FakeCredentials extends ConnectionCredentials {
  uid = 1001;
  override track(socket: Socket): string | null {
    const uid = this.uid;
    return super.track(socket, () => ({ uid, gid: uid, pid: 1 }));
  }
}

/** Opens a connection and sends one request; resolves with the status line, or 'closed' if the server hung up. */
function probe(socketPath: string): Promise<{ socket: Socket; answer: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath, () => {
      socket.write('GET /v1/health HTTP/1.1\r\nHost: jai\r\n\r\n');
    });
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('utf8');
      if (data.includes('\r\n\r\n')) resolve({ socket, answer: data.slice(0, data.indexOf('\r\n')) });
    });
    socket.on('error', () => {
      // reported as closed
    });
    socket.on('close', () => {
      resolve({ socket, answer: data === '' ? 'closed' : data.slice(0, data.indexOf('\r\n')) });
    });
  });
}

describe('admin server connection cap', { skip: !isRoot && 'needs root' }, () => {
  it('closes a uid’s connections beyond 16 while root still gets in', async () => {
    const { lines, log } = logSink();
    const f = await startFixture(0o600, log);
    const creds = new FakeCredentials();
    const app = buildAdminApp(f.ctx, creds);
    const socketPath = path.join(f.dir, 'capped.sock');
    const held: Socket[] = [];
    try {
      await app.listen({ path: socketPath });
      assert.equal(MAX_CONNECTIONS_PER_UID, 16);
      for (let i = 0; i < MAX_CONNECTIONS_PER_UID; i++) {
        const { socket, answer } = await probe(socketPath);
        held.push(socket);
        assert.equal(answer, 'HTTP/1.1 200 OK', `connection ${i}`);
      }
      const extra = await probe(socketPath);
      assert.equal(extra.answer, 'closed', 'the 17th connection of the uid is closed unanswered');
      assert.equal((await probe(socketPath)).answer, 'closed');
      creds.uid = 0;
      for (let i = 0; i < 4; i++) {
        const { socket, answer } = await probe(socketPath);
        held.push(socket);
        assert.equal(answer, 'HTTP/1.1 200 OK', 'root is not capped');
      }
      const warnings = lines.filter((l) => l['msg'] === 'admin: too many connections from this uid; refusing more');
      assert.equal(warnings.length, 1, 'logged once for the minute');
      assert.equal(warnings[0]?.['uid'], 1001);
      // A held connection closing frees a slot for its uid.
      creds.uid = 1001;
      const first = held.shift();
      await new Promise<void>((resolve) => {
        first?.once('close', () => {
          resolve();
        });
        first?.destroy();
      });
      // The server sees the close asynchronously: retry briefly.
      let answer = 'closed';
      for (let i = 0; i < 50 && answer === 'closed'; i++) {
        const again = await probe(socketPath);
        answer = again.answer;
        if (answer === 'closed') await new Promise((r) => setTimeout(r, 20));
        else held.push(again.socket);
      }
      assert.equal(answer, 'HTTP/1.1 200 OK');
    } finally {
      for (const s of held) s.destroy();
      await app.close();
      await f.close();
    }
  });
});
