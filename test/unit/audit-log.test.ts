import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AuditLog, SCHEMA_VERSION } from '../../daemon/audit/audit-log';
import { escapeControl } from '../../daemon/escape';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-audit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const start = (id: string) => ({
  id,
  uid: 1001,
  user: 'alice',
  peerUid: 1001,
  peerPid: 99,
  argv: ['echo', '\u001b]52;c;evil\u0007'],
  cwd: '/home/alice/proj',
  mode: 'casual',
  jail: 'default',
  grants: [{ path: '/home/alice/proj', readOnly: false }],
  rule: 'builtin',
});

describe('audit log', () => {
  it('creates a versioned WAL database readable by root only', () => {
    const file = path.join(dir, 'a.db');
    const log = new AuditLog(file);
    log.close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('records start and end in one row, with control characters escaped', () => {
    const log = new AuditLog(path.join(dir, 'b.db'));
    log.recordStart(start('s1'), new Date(1000));
    assert.equal(log.session('s1')?.outcome, 'running');
    log.recordEnd('s1', { outcome: 'exited', exitCode: 3 }, new Date(1500));
    const row = log.session('s1');
    assert.equal(row?.exit_code, 3);
    assert.equal(row.duration_ms, 500);
    assert.equal(row.outcome, 'exited');
    assert.ok(!row.argv.includes('\u001b'));
    assert.deepEqual(JSON.parse(row.argv), ['echo', '\\x1b]52;c;evil\\x07']);
    log.recordEnd('s1', { outcome: 'signaled', signal: 9 });
    assert.equal(log.session('s1')?.signal, null, 'an ended row is never rewritten');
    log.close();
  });

  it('closes rows a dead daemon left open as daemon-restart', () => {
    const file = path.join(dir, 'c.db');
    const first = new AuditLog(file);
    first.recordStart(start('s2'));
    first.close();
    const second = new AuditLog(file);
    assert.equal(second.closeAbandoned(), 1);
    assert.equal(second.session('s2')?.outcome, 'daemon-restart');
    second.close();
  });

  it('deletes ended sessions older than the retention cutoff, never running ones', () => {
    const log = new AuditLog(path.join(dir, 'd.db'));
    log.recordStart(start('old'), new Date('2026-01-01T00:00:00Z'));
    log.recordEnd('old', { outcome: 'exited', exitCode: 0 }, new Date('2026-01-01T00:00:01Z'));
    log.recordStart(start('running'), new Date('2026-01-01T00:00:00Z'));
    log.recordStart(start('recent'), new Date('2026-11-01T00:00:00Z'));
    log.recordEnd('recent', { outcome: 'exited', exitCode: 0 }, new Date('2026-11-01T00:00:01Z'));
    assert.equal(log.pruneEndedBefore(new Date('2026-06-01T00:00:00Z')), 1);
    assert.equal(log.session('old'), undefined);
    assert.ok(log.session('running'));
    assert.ok(log.session('recent'));
    log.close();
  });

  it('caps stored strings', () => {
    assert.equal(escapeControl('x'.repeat(10_000)).length, 4097);
    assert.equal(escapeControl('a\u009bb'), 'a\\x9bb');
  });
});
