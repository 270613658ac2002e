// Every session leaves one audit row: who, what, where, how it ended; the start row exists while it runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { SessionRow } from '../../daemon/audit/audit-log';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, spawnJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

function rows(f: Fixture): SessionRow[] {
  const db = new Database(f.auditDb, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM sessions ORDER BY rowid').all() as SessionRow[];
  } finally {
    db.close();
  }
}

describe('session audit', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('audit');
  });
  after(async () => {
    await f.teardown();
  });

  it('records who ran what, where, and the exit code', () => {
    const r = runJai(f, ['sh', '-c', 'exit 3']);
    assert.equal(r.status, 3);
    const row = rows(f).at(-1);
    assert.ok(row);
    assert.equal(row.user, f.user.name);
    assert.equal(row.uid, f.user.uid);
    assert.equal(row.peer_uid, f.user.uid);
    // What really ran: the .defaults bash wrapper, then the command.
    const argv = JSON.parse(row.argv) as string[];
    assert.equal(argv[0], '/bin/bash');
    assert.deepEqual(argv.slice(-3), ['sh', '-c', 'exit 3']);
    assert.equal(row.cwd, f.project);
    assert.equal(row.mode, 'casual');
    assert.equal(row.jail, 'default');
    assert.deepEqual(JSON.parse(row.grants), [{ path: f.project, readOnly: false }]);
    assert.equal(row.outcome, 'exited');
    assert.equal(row.exit_code, 3);
    assert.ok(row.ended_at !== null && row.ended_at >= row.started_at);
    assert.match(row.id, /^[0-9a-f]{32}$/);
  });

  it('records a signal death and an exec failure', () => {
    runJai(f, ['sh', '-c', 'kill -KILL $$']);
    const killed = rows(f).at(-1);
    assert.equal(killed?.outcome, 'signaled');
    assert.equal(killed.signal, 9);
    runJai(f, ['--command', '', '/nonexistent/prog']);
    const failed = rows(f).at(-1);
    assert.equal(failed?.outcome, 'failed');
    assert.equal(failed.error_code, 'EXEC_FAILED');
    assert.equal(failed.exit_code, 127);
  });

  it('writes the start row before the program runs, and closes it when the client is killed', async () => {
    const before = rows(f).length;
    const child = spawnJai(f, ['sh', '-c', 'echo up; exec sleep 30']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    let running: SessionRow | undefined;
    // The row exists before the helper starts; the kill waits for the program itself (a hang-up during set-up
    // is a failed session, not a signalled one).
    for (let i = 0; i < 100 && (running === undefined || out !== 'up\n'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      running = rows(f)
        .slice(before)
        .find((row) => row.outcome === 'running');
    }
    assert.ok(running, 'start row present while the session runs');
    child.kill('SIGKILL');
    let ended: SessionRow | undefined;
    for (let i = 0; i < 100 && ended?.ended_at == null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ended = rows(f).find((row) => row.id === running.id);
    }
    assert.ok(ended?.ended_at != null, 'the row is closed after the client died');
    assert.equal(ended.outcome, 'signaled', JSON.stringify(ended));
    assert.equal(ended.signal, 1, 'the session was hung up (SIGHUP)');
  });
});
